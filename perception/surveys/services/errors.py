"""The surveys phase's error: the platform's one ``UserError`` under the phase's name.

Each problem (``perception.core.errors.Problem``) names the field (a form field, a JSON key, a
question id or a definition path) and says why in Chinese and English. HTML puts each problem on
the form field it names; the API answers with every problem in its one problem+json shape.
Nothing is stored when a ``SurveyError`` is raised. Collect several with
``Problems(SurveyError)``.
"""

from __future__ import annotations

from perception.core.errors import UserError


class SurveyError(UserError):
    """One or more problems with what was asked of the surveys phase; nothing was changed."""
