"""The validation error of the review phase."""

from __future__ import annotations

from perception.core.errors import UserError


class ReviewError(UserError):
    """A user-facing problem with a review, finding, sign-off, PDF or improvement item.

    Raised with ``ReviewError.one(field, zh, en, code=..., status=...)``: the field names the
    offending input (form field or JSON key). The HTML views show the problem on that form field
    or flash it in the user's language; the API answers with the one problem+json shape.
    """
