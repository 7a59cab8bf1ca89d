"""The error every collection operation raises: the platform's ``UserError`` under the phase's name.

A ``CollectionError`` carries every problem found (all rows of a report or an upload, not only the
first), each a ``perception.core.errors.Problem`` with the field, the reason in zh and en and,
for an upload or a list of entries, the row as the user counts it. Pages put the problems on the
form's fields or flash them; the API answers with the one problem+json shape.
"""

from __future__ import annotations

from perception.core.errors import UserError


class CollectionError(UserError):
    """Input a collection operation cannot store; nothing was stored."""
