"""Import and KPI errors in both languages: the problem codes, their zh/en texts and the exceptions.

A problem of an import names the row (as the spreadsheet shows it: the header is row 1), the
column (as written in the file), the offending value and the reason; it is a
``perception.core.errors.Problem`` whose field is the column. Services raise ``KpiImportError``
carrying every problem found (all-or-nothing: nothing is stored) and ``KpiError`` for a form field
or request parameter; both are ``UserError``s, so the HTML views show them in the user's language
and the API answers them as problem+json like every other error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from perception.core import nul
from perception.core.errors import Problem, UserError

# code -> (zh, en); texts may use {placeholders} filled from the problem's params.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("必填项为空", "a value is required"),
    "too_long": ("超过 {limit} 个字符", "longer than {limit} characters"),
    nul.CODE: nul.TEXT,  # the text every import says of a NUL character
    "unknown_service": ("没有这个服务代码", "no service with this code"),
    "unknown_region": ("没有这个区域代码", "no region with this code"),
    "unknown_customer": ("没有这个客户代码", "no customer with this code"),
    "unknown_tier": ("没有这个服务等级", "no service tier with this code"),
    "unknown_kpi": ("没有这个 KPI 代码", "no KPI definition with this code"),
    "computed_kpi": (
        "该 KPI 由工单自动计算，不能导入",
        "this KPI is computed from tickets and cannot be imported",
    ),
    "bad_choice": ("应为以下之一：{choices}", "expected one of: {choices}"),
    "bad_datetime": (
        "不是有效的日期时间（例如 2026-03-01 09:15）",
        "not a valid date and time (e.g. 2026-03-01 09:15)",
    ),
    "bad_integer": ("应为 0 到 2147483647 之间的整数", "expected a whole number from 0 to 2,147,483,647"),
    "bad_number": ("不是有效的数字", "not a valid number"),
    "bad_period": (
        "不是有效的期间（例如 2026-W09、2026-03、2026-Q1）",
        "not a valid period (e.g. 2026-W09, 2026-03, 2026-Q1)",
    ),
    "before_opened": ("早于工单创建时间", "earlier than the time the ticket was opened"),
    "before_resolved": ("早于解决时间", "earlier than the resolution time"),
    "in_future": ("晚于当前时间", "later than now"),
    "resolved_missing": (
        "状态为已解决/已关闭，但没有解决时间",
        "the status is resolved/closed but there is no resolution time",
    ),
    "duplicate_id": ("与第 {other} 行的工单号重复", "the same ticket id as row {other}"),
    "duplicate_key": (
        "与第 {other} 行的 KPI、服务、区域、等级和期间相同",
        "the same KPI/service/region/tier/period as row {other}",
    ),
    "region_mismatch": (
        "无法确定区域：请填写区域或有效的客户",
        "no region: give a region or a known customer",
    ),
    "region_forbidden": ("您无权导入该区域的数据", "you may not import data for this region"),
    "missing_column": ("缺少必需的列", "a required column is missing"),
    "unknown_column": ("无法识别的列（已忽略）", "unrecognised column (ignored)"),
    "empty_file": ("文件中没有数据行", "the file has no data rows"),
    "too_large": (
        "文件为 {size} MB，超过上限 {limit} MB",
        "the file is {size} MB, more than the limit of {limit} MB",
    ),
    "too_many_rows": (
        "Excel 文件最多 {limit} 行；更大的数据请另存为 CSV 后导入",
        "Excel files are limited to {limit} rows; save larger data as CSV and import that",
    ),
    "bad_encoding": (
        "无法识别文件编码（支持 UTF-8 和 GB18030）",
        "the file's encoding is not recognised (UTF-8 and GB18030 are supported)",
    ),
    "bad_format": (
        "无法读取文件：请上传 CSV 或 Excel (.xlsx) 文件",
        "the file cannot be read: upload a CSV or Excel (.xlsx) file",
    ),
    "not_a_list": ("应为对象数组", "expected an array of objects"),
    "duplicate_file": (
        "同一文件已于 {when} 作为第 {batch} 批导入",
        "the same file was already imported on {when} as batch {batch}",
    ),
    "batch_gone": (
        "找不到试运行的文件，请重新上传",
        "the dry-run file is no longer available; upload it again",
    ),
}

MAX_PROBLEMS = 200  # beyond this the import stops listing (but still refuses everything)


def message(code: str, lang: str, **params: Any) -> str:
    zh, en = MESSAGES[code]
    text = zh if lang.startswith("zh") else en
    return text.format(**params) if params else text


class ImportProblem(Problem):
    """A problem of an import file or batch: its field is always a column, so the located text
    says so ('Row 5, column opened, value "2026-13-01": ...'), as people read a spreadsheet."""

    def located(self, lang: bool | str) -> str:
        zh = lang if isinstance(lang, bool) else str(lang).lower().startswith("zh")
        parts: list[str] = []
        if self.row is not None:
            parts.append(f"第 {self.row} 行" if zh else f"Row {self.row}")
        if self.field:
            parts.append(f"列“{self.field}”" if zh else f"column {self.field}")
        if self.value not in (None, ""):
            parts.append(f"值“{self.value}”" if zh else f'value "{self.value}"')
        head = ("，" if zh else ", ").join(parts)
        return f"{head}{'：' if zh else ': '}{self.text(zh)}" if head else self.text(zh)


def problem(row: int | None, column: str | None, value: Any, code: str, **params: Any) -> ImportProblem:
    """The problem ``code`` (MESSAGES) at a row and column, its texts filled from ``params``; a
    NUL character in the value is shown ``\\0``, where it is (``perception.core.nul``)."""
    shown = None if value is None else nul.shown(str(value))
    if shown is not None and len(shown) > 80:
        shown = shown[:77] + "..."
    return ImportProblem(
        column,
        zh=message(code, "zh", **params),
        en=message(code, "en", **params),
        code=code,
        row=row,
        value=shown,
    )


class ProblemList:
    """Collects problems while counting all of them, and lists them as a person fixing the file
    reads it: by row, then by the column's place in the file (``header``, as written), whatever
    order the checks ran in (a column at a time, repeats across chunks at the end). Only the first
    MAX_PROBLEMS in that order are kept: a million-row file can have a million problems, and a
    person reads the first rows' ones and the count."""

    def __init__(self, header: Sequence[str] = ()) -> None:
        self.count = 0
        self._places: dict[str, int] = {}
        for place, name in enumerate(header):
            self._places.setdefault(name, place)
        self._kept: list[tuple[tuple[int, int, int], Problem]] = []

    def add(self, item: Problem) -> None:
        self.count += 1
        row = -1 if item.row is None else item.row  # a problem of the whole file comes first
        place = self._places.get(item.field or "", len(self._places))
        self._kept.append(((row, place, self.count), item))
        if len(self._kept) >= 2 * MAX_PROBLEMS:
            self._trim()

    def _trim(self) -> None:
        self._kept.sort(key=lambda kept: kept[0])
        del self._kept[MAX_PROBLEMS:]

    @property
    def items(self) -> list[Problem]:
        """The first MAX_PROBLEMS problems by row, then column."""
        self._trim()
        return [item for _, item in self._kept]

    def __bool__(self) -> bool:
        return self.count > 0

    def raise_if_any(self) -> None:
        if self.count:
            raise KpiImportError(self.items, total=self.count)


class KpiImportError(UserError):
    """Nothing was stored; ``problems`` says why (row, column, value, reason), ``total`` counts
    them all when only the first MAX_PROBLEMS are kept."""

    title_zh = "未导入任何数据：部分行无效。"
    title_en = "Nothing was imported: some rows are not valid."


def refused(code: str, **params: Any) -> KpiImportError:
    """An import refused as a whole (the file, not a row): raise what this returns."""
    return KpiImportError([problem(None, None, None, code, **params)])


class KpiError(UserError):
    """A user-facing problem with a KPI form field or request parameter (``KpiError.one(field,
    zh, en)``)."""
