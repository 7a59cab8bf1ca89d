"""The setup phase's error: the platform's ``UserError`` under the phase's name.

Every problem is a ``perception.core.errors.Problem`` whose ``field`` is the path of the bad
field, a dotted/indexed location (``services[2].kind`` in an imported document, or a plain
form-field name such as ``target`` for one object). HTML puts each problem on the form field named
by ``form_field`` (the last path component); the API answers with the one problem+json shape;
import is refused as a whole. ``NotAllowed`` is a step the user may not take (403).
"""

from __future__ import annotations

from perception.core import errors as core_errors
from perception.core.errors import UserError


class SetupError(UserError):
    """One or more problems with setup input; nothing was stored."""


class NotAllowed(SetupError):
    """The user may not take this step (e.g. a representative of another customer confirming):
    HTML and API answer 403 with the reason."""

    status = 403


class Problems(core_errors.Problems):
    """Collects every problem of a whole document (or form), so a person sees all of them at
    once; ``raise_if_any`` raises them as one SetupError."""

    def __init__(self) -> None:
        super().__init__(SetupError)
