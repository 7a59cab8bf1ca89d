"""The messages a respondent sees when an answer is not acceptable, in Chinese and English.

Each function returns a `Message` whose `code` is stable (the app and tests match on it) and whose
texts are ready to show.
"""

from __future__ import annotations

from surveys.text import Message


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def required() -> Message:
    return Message("required", "请回答此题。", "Please answer this question.")


def row_required() -> Message:
    return Message("required", "请为这一项选择一个分数。", "Please choose a score for this item.")


def pair_incomplete() -> Message:
    return Message(
        "pair_incomplete",
        "请同时填写期望和感受两项。",
        "Please rate both your expectation and your perception.",
    )


def invalid_format() -> Message:
    return Message("invalid_format", "答案格式无效。", "This answer has an invalid format.")


def unknown_item() -> Message:
    return Message("unknown_item", "该题没有这一项。", "This item is not part of the question.")


def unknown_question() -> Message:
    return Message("unknown_question", "问卷中没有这道题。", "This question is not in the questionnaire.")


def not_a_scale_point(low: int, high: int) -> Message:
    return Message(
        "out_of_range", f"请选择 {low} 到 {high} 之间的分数。", f"Please choose a score from {low} to {high}."
    )


def not_a_number() -> Message:
    return Message("not_a_number", "请输入数字。", "Please enter a number.")


def not_an_integer() -> Message:
    return Message("not_an_integer", "请输入整数。", "Please enter a whole number.")


def number_out_of_range(low: float | None, high: float | None) -> Message:
    if low is not None and high is not None:
        return Message(
            "out_of_range",
            f"请输入 {_fmt(low)} 到 {_fmt(high)} 之间的数值。",
            f"Please enter a value from {_fmt(low)} to {_fmt(high)}.",
        )
    if low is not None:
        return Message("out_of_range", f"数值不能小于 {_fmt(low)}。", f"Please enter at least {_fmt(low)}.")
    return Message(
        "out_of_range", f"数值不能大于 {_fmt(high or 0)}。", f"Please enter at most {_fmt(high or 0)}."
    )


def not_a_date() -> Message:
    return Message("not_a_date", "请输入有效日期（年-月-日）。", "Please enter a valid date (YYYY-MM-DD).")


def date_out_of_range(low: str | None, high: str | None) -> Message:
    if low is not None and high is not None:
        return Message(
            "out_of_range", f"日期须在 {low} 至 {high} 之间。", f"Please enter a date from {low} to {high}."
        )
    if low is not None:
        return Message("out_of_range", f"日期不能早于 {low}。", f"Please enter a date on or after {low}.")
    return Message("out_of_range", f"日期不能晚于 {high}。", f"Please enter a date on or before {high}.")


def not_text() -> Message:
    return Message("not_text", "请输入文字。", "Please enter text.")


def too_long(limit: int) -> Message:
    return Message("too_long", f"内容不能超过 {limit} 个字。", f"Please use at most {limit} characters.")


def not_a_choice() -> Message:
    return Message("not_a_choice", "请从列出的选项中选择。", "Please choose one of the listed options.")


def other_text_required() -> Message:
    return Message(
        "other_text_required", "选择“其他”时，请注明具体内容。", "Please describe your “other” answer."
    )


def too_few_selected(count: int) -> Message:
    return Message("too_few_selected", f"请至少选择 {count} 项。", f"Please choose at least {count} options.")


def too_many_selected(count: int) -> Message:
    return Message(
        "too_many_selected", f"最多只能选择 {count} 项。", f"Please choose no more than {count} options."
    )


def total_mismatch(expected: float, actual: float) -> Message:
    return Message(
        "total_mismatch",
        f"这几项的合计须为 {_fmt(expected)}，目前为 {_fmt(actual)}。",
        f"These items must add up to {_fmt(expected)}; they now add up to {_fmt(actual)}.",
    )


def points_not_allowed(total: int) -> Message:
    return Message(
        "points_out_of_range",
        f"请填写 0 到 {total} 之间的整数分。",
        f"Please enter a whole number of points from 0 to {total}.",
    )


def points_total_mismatch(total: int, actual: float) -> Message:
    return Message(
        "total_mismatch",
        f"各项分数合计须正好为 {total} 分，目前为 {_fmt(actual)} 分。",
        f"The points must add up to exactly {total}; they now add up to {_fmt(actual)}.",
    )
