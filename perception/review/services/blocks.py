"""The JSON shape of a review's content: sections made of paragraphs, tables and chart inputs.

Everything a section shows is plain JSON so it can be frozen into ``Review.snapshot`` at sign-off
and rendered later, identically, as HTML or PDF in either language:

- text meant for a person is a ``{"zh": ..., "en": ...}`` dict (:func:`t`), or a plain string
  when it is user data written in one language (a finding, a customer's requirement);
- a table has columns (key, bilingual label, alignment, format) and rows (dicts by column key);
  a row with ``"_key"`` is an evidence anchor that findings can link to;
- a chart block holds the chart's inputs, not its image (perception.review.services.charts draws
  it as SVG for the page and PNG for the PDF).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

Text = dict[str, str]
Lang = Literal["zh", "en"]
Format = Literal["text", "int", "pct", "pp", "num1", "num2", "date"]

SCHEMA_VERSION = 1


def t(zh: str, en: str) -> Text:
    """A text in both languages."""
    return {"zh": zh, "en": en}


def pick(value: Any, lang: Lang) -> str:
    """The ``lang`` variant of a bilingual dict (the other one when empty); other values as text."""
    if isinstance(value, Mapping):
        first, second = (
            (value.get("zh"), value.get("en")) if lang == "zh" else (value.get("en"), value.get("zh"))
        )
        return str(first or second or "")
    if value is None:
        return ""
    return str(value)


def names(obj: Any, field: str = "name") -> Text:
    """The bilingual name of an ORM object with ``<field>_zh`` / ``<field>_en`` columns."""
    return t(getattr(obj, f"{field}_zh", "") or "", getattr(obj, f"{field}_en", "") or "")


def column(key: str, label: Text, fmt: Format = "text", align: str | None = None) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "format": fmt,
        "align": align or ("left" if fmt == "text" else "right"),
    }


def paragraph(text: Text | str) -> dict[str, Any]:
    return {"type": "paragraph", "text": text}


def table(
    key: str,
    title: Text,
    columns: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any]],
    *,
    empty: Text | None = None,
    weights: Sequence[float] | None = None,
) -> dict[str, Any]:
    return {
        "type": "table",
        "key": key,
        "title": title,
        "columns": list(columns),
        "rows": [dict(row) for row in rows],
        "empty": empty or t("本期无数据", "No data for this period"),
        "weights": list(weights) if weights else None,
    }


def chart(key: str, kind: str, title: Text, data: dict[str, Any]) -> dict[str, Any]:
    """``kind``: interval_bar | quadrant | trend | heatmap (see review_charts for each ``data``)."""
    return {"type": "chart", "key": key, "kind": kind, "title": title, "data": data}


def section(
    code: str, title: Text, blocks: Sequence[dict[str, Any]], facts: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"code": code, "title": title, "blocks": list(blocks), "facts": facts or {}}


def clean(value: Any) -> Any:
    """NaN/inf -> None and tuples -> lists, so the content is valid JSON (and hashes stably)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def format_cell(value: Any, fmt: str, lang: Lang) -> str:
    """A cell as text: shares as percentages, ``pp`` as signed percentage points, None as '—'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, Mapping):
        return pick(value, lang)
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, int | float):
        number = float(value)
        if fmt == "pct":
            return f"{number * 100:.1f}%"
        if fmt == "pp":
            return f"{number * 100:+.1f} pp" if lang == "en" else f"{number * 100:+.1f} 个百分点"
        if fmt == "int":
            return f"{int(round(number)):,}"
        if fmt == "num1":
            return f"{number:.1f}"
        if fmt == "num2":
            return f"{number:.2f}"
        return f"{number:g}"
    return str(value)


def iter_tables(content: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (section, table block) of a content dict, register included."""
    for sec in [*content.get("sections", []), content.get("register") or {}]:
        for block in sec.get("blocks", []):
            if block.get("type") == "table":
                yield sec, block


def evidence_anchors(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows findings can cite: section code, row key and a bilingual label for each."""
    anchors: list[dict[str, Any]] = []
    for sec, block in iter_tables(content):
        text_columns = [c["key"] for c in block["columns"] if c["format"] == "text"][:2]
        for row in block["rows"]:
            if not row.get("_key"):
                continue
            # A yes/no column is no name: "Beijing · False" read as a Python value (issue 17).
            parts = [v for k in text_columns if not isinstance(v := row.get(k), bool)]
            label = {
                lang: " · ".join(pick(p, lang) for p in parts if p not in (None, "")) for lang in ("zh", "en")
            }
            anchors.append(
                {"section": sec["code"], "key": row["_key"], "label": label, "table": block["title"]}
            )
    return anchors
