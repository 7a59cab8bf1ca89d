"""Catalogue maintenance: find UI strings that have no Chinese translation yet.

`perception i18n missing` lists them; a test fails when any exist, so Chinese stays first-class.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from perception.core.i18n import PACKAGE_ROOT, catalogue_files

KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
}

PACKAGE = PACKAGE_ROOT
TEMPLATES = PACKAGE / "templates" if (PACKAGE / "templates").is_dir() else PACKAGE.parent / "templates"


def extracted_messages() -> dict[str, str]:
    """msgid -> first place it was found, from the Python sources and the Jinja templates."""
    found: dict[str, str] = {}
    sources: tuple[tuple[Path, list[tuple[str, str]], dict[str, dict[str, str]]], ...] = (
        (PACKAGE, [("**.py", "python")], {}),
        (TEMPLATES, [("**.html", "jinja2.ext:babel_extract")], {"**.html": {"trimmed": "true"}}),
    )
    for folder, method_map, options in sources:
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
            str(folder), method_map, options_map=options, keywords=KEYWORDS
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, f"{folder.name}/{filename}:{lineno}")
    return found


def translations(lang: str = "zh_CN") -> dict[str, str]:
    out: dict[str, str] = {}
    for po in catalogue_files(lang):
        with po.open("rb") as fh:
            for message in read_po(fh, locale=lang):
                if message.id and message.string:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    out[key] = message.string if isinstance(message.string, str) else message.string[0]
    return out


def missing_translations(lang: str = "zh_CN") -> dict[str, str]:
    have = translations(lang)
    return {msgid: where for msgid, where in extracted_messages().items() if msgid not in have}


def po_stub(missing: dict[str, str]) -> str:
    """A .po fragment for the missing strings, to be translated and added to the area's file."""
    lines = []
    for msgid, where in sorted(missing.items(), key=lambda kv: kv[1]):
        escaped = msgid.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        lines += [f"#: {where}", f'msgid "{escaped}"', 'msgstr ""', ""]
    return "\n".join(lines)
