"""Small HTML building blocks shared by the survey widgets (auto-escaped, accessible markup).

Every attribute value and every piece of content goes through `markupsafe.escape` (which leaves
Markup as it is), so text from a definition or an answer can never inject HTML; element and
attribute names are this package's own literals. Plain f-strings around `escape` rather than
`Markup.format`: a survey page has hundreds of attributes, and `Markup.format` parses its format
string and wraps every argument on each call (three quarters of a page's time, issue 19). Class names are
prefixed `survey-` and styled by surveys/static/survey.css.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape

from surveys.defaults import REQUIRED_MARK
from surveys.model import Scale
from surveys.text import Lang

EMPTY = Markup("")


def attrs(**values: object) -> Markup:
    """` name="value"` pairs; True renders a bare attribute, None/False are left out.

    A trailing underscore is dropped (`class_`, `for_`), other underscores become hyphens.
    """
    parts = []
    for key, value in values.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        parts.append(f" {name}" if value is True else f' {name}="{escape(value)}"')
    return Markup("".join(parts))  # noqa: S704 - every value went through escape()


def tag(element: str, /, *content: object, **attributes: object) -> Markup:
    """`<name attrs>content</name>`; content that is not Markup is escaped."""
    inner = "".join([escape(item) for item in content])
    return Markup(f"<{element}{attrs(**attributes)}>{inner}</{element}>")  # noqa: S704 - every value went through escape()


def void(element: str, /, **attributes: object) -> Markup:
    """A void element such as `<input ...>`."""
    return Markup(f"<{element}{attrs(**attributes)}>")  # noqa: S704 - every value went through escape()


def required_mark(lang: Lang) -> Markup:
    """A visible asterisk for sighted users plus the word "required" for screen readers."""
    return tag("span", "*", class_="survey-required", aria_hidden="true") + tag(
        "span", REQUIRED_MARK.get(lang), class_="survey-visually-hidden"
    )


def help_text(text: str | None, help_id: str) -> Markup:
    return tag("p", text, class_="survey-help", id=help_id) if text else EMPTY


def error_list(errors: Iterable[str], errors_id: str) -> Markup:
    items = [tag("li", error) for error in errors]
    return tag("ul", *items, class_="survey-errors", id=errors_id) if items else EMPTY


def described_by(*ids: str | None) -> str | None:
    joined = " ".join(i for i in ids if i)
    return joined or None


def scale_group(
    *,
    group_id: str,
    name: str,
    scale: Scale,
    selected: object,
    lang: Lang,
    legend: Markup,
    required: bool,
    invalid: bool,
    describedby: str | None = None,
    nested: bool = False,
    intro: Markup = EMPTY,
) -> Markup:
    """A rating scale as a radio group: fieldset + legend, one large labelled tap target per point.

    Each option's label reads its number and, at the end points, the anchor ("1 非常不满意" ...
    "5 非常满意"); the anchors are shown again under the row for sighted users and hidden there
    from screen readers, who already hear them in the labels. `intro` (help, errors) follows the
    legend. Scales of more than 7 points
    (NPS 0-10) get the `survey-scale--row` class: one row of equal cells.
    """
    options = []
    for point in scale.points:
        anchor = {scale.min: scale.min_label, scale.max: scale.max_label}.get(point)
        option_id = f"{group_id}-{point}"
        checked = selected is not None and str(selected).strip() == str(point)
        radio = void(
            "input", type="radio", id=option_id, name=name, value=point, checked=checked, required=required
        )
        number = tag("span", point, class_="survey-option-number")
        spoken = tag("span", " " + anchor.get(lang), class_="survey-visually-hidden") if anchor else EMPTY
        options.append(
            tag("label", radio, number, spoken, class_="survey-option survey-scale-option", for_=option_id)
        )
    points = len(scale.points)
    css = f"survey-scale survey-scale--{points}"
    css += " survey-scale--row" if points > 7 else ""
    css += " survey-scale--nested" if nested else ""
    anchors = tag(
        "div",
        tag("span", scale.min_label.get(lang), class_="survey-anchor-min"),
        tag("span", scale.max_label.get(lang), class_="survey-anchor-max"),
        class_="survey-anchors",
        aria_hidden="true",
    )
    return tag(
        "fieldset",
        tag("legend", legend),
        intro,
        tag("div", *options, class_="survey-scale-options"),
        anchors,
        class_=css,
        id=group_id,
        aria_describedby=describedby,
        aria_invalid="true" if invalid else None,
    )
