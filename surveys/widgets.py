"""Rendering one question as accessible, mobile-first HTML (the widget of `QuestionField`).

Every question renders as one block: grouped inputs (scales, choices, matrix, SERVQUAL pair) as
a fieldset whose legend is the question, single inputs (text, number, date) with a <label>.
Help and errors are tied to the inputs with aria-describedby; invalid inputs get aria-invalid.
`required` is rendered only for questions that are required and can never be hidden.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from surveys.defaults import (
    OTHER_TEXT_LABEL,
    OTHER_TEXT_MAX_LENGTH,
    POINTS_UNIT,
    SERVQUAL_PART_LABELS,
    SUM_LABEL,
    TEXT_MAX_LENGTH,
)
from surveys.html import (
    EMPTY,
    described_by,
    error_list,
    help_text,
    required_mark,
    scale_group,
    tag,
    void,
)
from surveys.model import OTHER, SCALE_TYPES, QuestionType, ServqualPart


class QuestionWidget:
    """Renders a `QuestionField` (call it as `field()` in a template)."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        question = field.question
        help_id = f"{field.id}-help" if question.help else None
        errors_id = f"{field.id}-errors" if field.errors else None
        ctx = _Context(field, described_by(help_id, errors_id))
        legend = tag("span", question.text.get(field.lang), class_="survey-question-text")
        if question.required:
            legend += required_mark(field.lang)
        help_html = help_text(question.help.get(field.lang) if question.help else None, help_id or "")
        errors_html = error_list(field.errors, errors_id or "")
        qtype = question.type
        if qtype in SCALE_TYPES:
            body = ctx.scale(legend, help_html + errors_html)
        elif qtype == QuestionType.LIKERT_MATRIX:
            body = ctx.group(legend, help_html + errors_html, *ctx.matrix_rows())
        elif qtype == QuestionType.SERVQUAL:
            body = ctx.group(legend, help_html + errors_html, *ctx.servqual_parts())
        elif qtype == QuestionType.CONSTANT_SUM:
            body = ctx.group(legend, help_html + errors_html, *ctx.sum_rows(), css="survey-constant-sum")
        elif qtype in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
            body = ctx.group(
                legend, help_html + errors_html, tag("div", *ctx.choices(), class_="survey-choices")
            )
        else:
            label = tag("label", legend, for_=field.id, class_="survey-label")
            body = label + help_html + errors_html + ctx.single_input(**kwargs)
        css = f"survey-question survey-question--{qtype.value}" + (
            " survey-question--invalid" if field.errors else ""
        )
        return tag(
            "div",
            body,
            class_=css,
            id=f"{field.id}-block",
            data_question=question.id,
            data_show_if=field.show_if,
        )


class _Context:
    def __init__(self, field: Any, describedby: str | None) -> None:
        self.field = field
        self.question = field.question
        self.lang = field.lang
        self.describedby = describedby
        self.invalid = bool(field.errors)

    def _bad(self, key: str) -> bool:
        return key in self.field.messages

    def group(self, legend: Markup, intro: Markup, *content: Markup, css: str = "") -> Markup:
        return tag(
            "fieldset",
            tag("legend", legend),
            intro,
            *content,
            class_=f"survey-group {css}" if css else "survey-group",
            id=self.field.id,
            aria_describedby=self.describedby,
            aria_invalid="true" if self.invalid else None,
        )

    def scale(self, legend: Markup, intro: Markup) -> Markup:
        field = self.field
        return scale_group(
            group_id=field.id,
            name=field.name,
            scale=self.question.scale,
            selected=field.data,
            lang=self.lang,
            legend=legend,
            required=field.html_required,
            invalid=self.invalid,
            describedby=self.describedby,
            intro=intro,
        )

    def matrix_rows(self) -> list[Markup]:
        data = self.field.data if isinstance(self.field.data, dict) else {}
        return [
            scale_group(
                group_id=f"{self.field.id}-{row.id}",
                name=f"{self.field.name}.{row.id}",
                scale=self.question.scale,
                selected=data.get(row.id),
                lang=self.lang,
                legend=tag("span", row.text.get(self.lang)),
                required=self.field.html_required,
                invalid=self._bad(f"{self.question.id}.{row.id}"),
                nested=True,
            )
            for row in self.question.rows
        ]

    def servqual_parts(self) -> list[Markup]:
        data = self.field.data if isinstance(self.field.data, dict) else {}
        return [
            scale_group(
                group_id=f"{self.field.id}-{part.value}",
                name=f"{self.field.name}.{part.value}",
                scale=self.question.scale,
                selected=data.get(part.value),
                lang=self.lang,
                legend=tag("span", SERVQUAL_PART_LABELS[part].get(self.lang)),
                required=self.field.html_required,
                invalid=self._bad(f"{self.question.id}.{part.value}"),
                nested=True,
            )
            for part in ServqualPart
        ]

    def sum_rows(self) -> list[Markup]:
        """One labelled whole-number box per row and the running total (a live region that
        survey.js updates as the respondent types; the server's figure without script)."""
        field, question = self.field, self.question
        data = field.data if isinstance(field.data, dict) else {}
        total = question.total or 0
        unit = (question.unit or POINTS_UNIT).get(self.lang)
        sum_id = f"{field.id}-sum"
        rows, ids, given = [], [], 0
        for row in question.rows:
            box_id = f"{field.id}-{row.id}"
            ids.append(box_id)
            value = data.get(row.id)
            text = "" if value is None else str(value).strip()
            given += int(text) if text.isdigit() else 0
            box = void(
                "input",
                type="number",
                id=box_id,
                name=f"{field.name}.{row.id}",
                value=text,
                min=0,
                max=total,
                step=1,
                inputmode="numeric",
                aria_describedby=described_by(self.describedby, sum_id),
                aria_invalid="true" if self._bad(f"{question.id}.{row.id}") else None,
                class_="survey-input",
            )
            rows.append(
                tag(
                    "div",
                    tag("label", row.text.get(self.lang), for_=box_id),
                    tag("div", box, tag("span", unit, class_="survey-unit"), class_="survey-number"),
                    class_="survey-sum-row",
                )
            )
        sep = "：" if self.lang == "zh" else ": "
        off = " survey-sum--off" if data and given != total else ""
        summary = tag(
            "p",
            SUM_LABEL.get(self.lang) + sep,
            tag("output", given, for_=" ".join(ids), data_sum_of=field.name),
            f" / {total} {unit}",
            class_="survey-sum" + off,
            id=sum_id,
            data_total=total,
            aria_live="polite",
        )
        return [tag("div", *rows, class_="survey-sum-rows"), summary]

    def choices(self) -> list[Markup]:
        field, question = self.field, self.question
        multiple = question.type == QuestionType.MULTIPLE_CHOICE
        chosen = {str(v) for v in field.data} if isinstance(field.data, list) else {str(field.data)}
        options = [(choice.value, choice.text.get(self.lang)) for choice in question.choices]
        if question.other is not None:
            options.append((OTHER, question.other.get(self.lang)))
        rendered = []
        for value, text in options:
            option_id = f"{field.id}-{value}"
            box = void(
                "input",
                type="checkbox" if multiple else "radio",
                id=option_id,
                name=field.name,
                value=value,
                checked=value in chosen,
                required=field.html_required and not multiple,
            )
            label = tag("label", box, tag("span", text), class_="survey-option survey-choice", for_=option_id)
            if value == OTHER:
                label += self._other_text()
            rendered.append(label)
        return rendered

    def _other_text(self) -> Markup:
        field = self.field
        text_id = f"{field.id}-other-text"
        return tag(
            "div",
            tag("label", OTHER_TEXT_LABEL.get(self.lang), for_=text_id, class_="survey-visually-hidden"),
            void(
                "input",
                type="text",
                id=text_id,
                name=f"{field.name}.{OTHER}",
                value=field.other_text or "",
                maxlength=OTHER_TEXT_MAX_LENGTH,
                aria_invalid="true" if self._bad(f"{self.question.id}.{OTHER}") else None,
                class_="survey-other-text",
            ),
            class_="survey-other",
        )

    def single_input(self, **kwargs: Any) -> Markup:
        field, question = self.field, self.question
        common: dict[str, Any] = {
            "id": field.id,
            "name": field.name,
            "required": field.html_required,
            "aria_describedby": self.describedby,
            "aria_invalid": "true" if self.invalid else None,
            "class_": kwargs.get("class_", kwargs.get("class", "survey-input")),
        }
        value = field._value()
        if question.type == QuestionType.TEXT:
            limit = question.max_length or TEXT_MAX_LENGTH
            if question.multiline:
                return tag("textarea", value, rows=4, maxlength=limit, **common)
            return void("input", type="text", value=value, maxlength=limit, **common)
        if question.type == QuestionType.DATE:
            low = question.min_date.isoformat() if question.min_date else None
            high = question.max_date.isoformat() if question.max_date else None
            return void("input", type="date", value=value, min=low, max=high, **common)
        box = void(
            "input",
            type="number",
            value=value,
            min=question.min_value,
            max=question.max_value,
            step="1" if question.integer else "any",
            inputmode="numeric" if question.integer else "decimal",
            **common,
        )
        unit = tag("span", question.unit.get(self.lang), class_="survey-unit") if question.unit else EMPTY
        return tag("div", box, unit, class_="survey-number")
