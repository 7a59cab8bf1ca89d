"""Languages: zh_CN and en are first-class.

UI strings go through Flask-Babel. Catalogues live as .po files in perception/translations/zh_CN/
(one file per area, so phases don't collide); at start-up they are merged and compiled into the
instance folder (the installed package may be read-only, and compiled .mo files are build output).
Stored bilingual text (``name_zh``/``name_en``) is picked with ``localized()``.
"""

from __future__ import annotations

import hashlib
import io
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, request, session
from flask_babel import get_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
SUPPORTED = ("en", "zh_CN")


def catalogue_files(lang: str) -> list[Path]:
    """The .po files of one language: core's and each phase's ``translations/<lang>/*.po``."""
    return sorted(PACKAGE_ROOT.glob(f"*/translations/{lang}/*.po"))


def normalise_language(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("-", "_").lower()
    if value.startswith("zh"):
        return "zh_CN"
    if value.startswith("en"):
        return "en"
    return None


@lru_cache(maxsize=256)
def _browser_language(accept_language: str) -> str:
    # Parsed once per distinct header: the survey answer endpoint asks on every request.
    accepted = parse_accept_header(accept_language, LanguageAccept)
    best = accepted.best_match(["zh-CN", "zh", "en"], default="en")
    return normalise_language(best) or "en"


def select_locale() -> str:
    """User preference, then the session's choice, then the browser's Accept-Language."""
    user = getattr(g, "user", None)
    for candidate in (
        getattr(user, "language", None),
        session.get("lang"),
        getattr(g, "survey_language", None),
    ):
        lang = normalise_language(candidate)
        if lang:
            return lang
    return _browser_language(request.headers.get("Accept-Language", ""))


_LOCALES = {code: Locale.parse(code) for code in SUPPORTED}


def selected_locale() -> Locale:
    """``select_locale`` as a parsed Locale (Flask-Babel's selector), without parsing per request."""
    return _LOCALES[select_locale()]


def lang_code() -> str:
    """The request's language as the short code operations and exports take: "zh" or "en"."""
    return "zh" if is_zh() else "en"


def is_zh() -> bool:
    # The Locale's language, not str(locale): formatting the identifier cost every survey request.
    return getattr(get_locale(), "language", "en") == "zh"


def localized(obj: Any, field: str = "name") -> str:
    """The zh or en variant of a bilingual field, falling back to the other when one is empty."""
    zh = getattr(obj, f"{field}_zh", None) if not isinstance(obj, dict) else obj.get("zh")
    en = getattr(obj, f"{field}_en", None) if not isinstance(obj, dict) else obj.get("en")
    first, second = (zh, en) if is_zh() else (en, zh)
    return first or second or ""


def compile_catalogs(target: Path) -> Path:
    """Merge every package's translations/<lang>/*.po into <target>/<lang>/LC_MESSAGES/messages.mo."""
    for lang in SUPPORTED:
        sources = catalogue_files(lang)
        if not sources:
            continue
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
        # Babel resolves "zh_CN" to "zh_Hans_CN" and gettext then looks for that folder or "zh";
        # write the catalogue under every name it may ask for.
        names = {lang, str(Locale.parse(lang)), lang.split("_")[0]}
        out_dirs = [target / name / "LC_MESSAGES" for name in sorted(names)]
        stamp = out_dirs[0] / "messages.sha256"
        if (
            stamp.exists()
            and stamp.read_text() == digest
            and all((d / "messages.mo").exists() for d in out_dirs)
        ):
            continue
        merged = Catalog(locale=lang)
        for po in sources:
            with po.open("rb") as fh:
                for message in read_po(fh, locale=lang):
                    if message.id and message.string:
                        merged.add(message.id, message.string, context=message.context)
        buf = io.BytesIO()
        write_mo(buf, merged)
        for out_dir in out_dirs:
            out_dir.mkdir(parents=True, exist_ok=True)
            tmp = out_dir / f"messages.mo.{os.getpid()}.tmp"
            tmp.write_bytes(buf.getvalue())
            tmp.replace(out_dir / "messages.mo")  # atomic: several workers may start at once
        stamp.write_text(digest)
    return target


def init_app(app: Flask) -> None:
    target = compile_catalogs(Path(app.instance_path) / "translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    app.jinja_env.globals["localized"] = localized
    app.jinja_env.globals["is_zh"] = is_zh
    from perception.core.vocabulary import role_label

    app.jinja_env.globals["role_label"] = role_label
    from perception.core.clock import local_time

    app.jinja_env.filters["local_time"] = local_time
