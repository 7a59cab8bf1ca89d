"""Phone numbers as links a thumb can call: ``tel:`` with the digits only, the text as typed."""

from __future__ import annotations

import re

# An extension after the number: "ext 12", "x12", "转12", "分机 12", "#12".
_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|转|分机|#)\s*(\d+)\s*$", re.IGNORECASE)


def tel_href(phone: str | None) -> str | None:
    """``tel:+861065123456`` for "+86 10 6512-3456"; an extension follows a pause (",12").
    None when the text holds too few digits to dial."""
    if not phone:
        return None
    text = phone.strip()
    extension = ""
    found = _EXTENSION.search(text)
    if found:
        extension = "," + found.group(1)
        text = text[: found.start()]
    digits = re.sub(r"\D", "", text)
    if len(digits) < 3:
        return None
    plus = "+" if text.lstrip().startswith(("+", "＋")) else ""
    return f"tel:{plus}{digits}{extension}"


def phone_display(phone: str | None) -> str:
    """The number as people read it: a bare 11-digit mainland mobile in 3-4-4 groups
    ("138 1234 5678"); anything else as it was typed."""
    text = (phone or "").strip()
    if re.fullmatch(r"1\d{10}", text):
        return f"{text[:3]} {text[3:7]} {text[7:]}"
    return text
