"""A review's content prepared for the HTML page in one language: texts picked, cells formatted,
charts drawn as SVG data URIs (the CSP allows data: images; inline SVG would need inline styles)."""

from __future__ import annotations

from typing import Any

from perception.reporting.fonts import find_cjk_font
from perception.review.services.blocks import Lang, format_cell, pick


def anchor_id(key: str) -> str:
    """An HTML id for an evidence row key."""
    return "ev-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in key)


class _Font:
    """The charts' CJK font, looked up (and registered) on the first chart only: a page without
    charts, or whose charts were drawn ahead, never pays for it."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.found: Any = None
        self.looked = False

    def get(self) -> Any:
        if not self.looked:
            self.found, self.looked = find_cjk_font(self.path), True
        return self.found


def _block(block: dict[str, Any], lang: Lang, font: _Font) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "paragraph":
        return {"type": "paragraph", "text": pick(block["text"], lang)}
    if kind == "chart":
        from perception.review.services.charts import svg_data_uri

        return {
            "type": "chart",
            "title": pick(block["title"], lang),
            "src": svg_data_uri(block, lang, font.get()),
        }
    columns = block["columns"]
    rows = []
    for row in block["rows"]:
        cells = [
            {"text": format_cell(row.get(c["key"]), c["format"], lang), "num": c["align"] == "right"}
            for c in columns
        ]
        key = row.get("_key")
        flagged = bool(row.get("overdue")) or bool(
            row.get("significant") and (row.get("difference") or 0) < 0
        )
        rows.append({"cells": cells, "id": anchor_id(key) if key else None, "flagged": flagged})
    return {
        "type": "table",
        "title": pick(block["title"], lang),
        "headers": [{"text": pick(c["label"], lang), "num": c["align"] == "right"} for c in columns],
        "rows": rows,
        "empty": pick(block["empty"], lang),
    }


def render_content(content: dict[str, Any], lang: Lang, font_path: str | None = None) -> dict[str, Any]:
    """The page's view of the content; ``font_path`` is the CJK_FONT setting the charts use."""
    font = _Font(font_path)
    sections = []
    for sec in [*content.get("sections", []), content.get("register")]:
        if not sec:
            continue
        sections.append(
            {
                "code": sec["code"],
                "title": pick(sec["title"], lang),
                "blocks": [_block(b, lang, font) for b in sec["blocks"]],
            }
        )
    summary = [
        {
            "rank": item["rank"],
            "text": pick(item["text"], lang),
            "href": "#" + anchor_id(item["key"]) if item.get("key") else None,
        }
        for item in content.get("summary", [])
    ]
    return {"sections": sections, "summary": summary}
