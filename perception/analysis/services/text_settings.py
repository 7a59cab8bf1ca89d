"""Text-analysis settings and the user's theme decisions (name, merge, split), which persist across
re-runs as one ThemeDecisions document (scoring.text.decisions).

Renaming takes effect at once (the theme row is renamed too); merges and splits change which entry
belongs to which theme, so they take effect at the next run of the text analysis (the views enqueue
one). Every decision is recorded in the audit log as an event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.analysis.models import TextAnalysisSettings, TextCategory, TextTheme
from perception.core import audit
from perception.core.errors import UserError
from scoring.text import ThemeDecisions, Tokenizer


class TextAnalysisError(UserError):
    """A text-analysis or market-opportunity request that cannot be carried out: one problem
    naming the field, in zh and en (``TextAnalysisError.one(field, zh, en, code=...)``)."""


def get_settings(session: Session) -> TextAnalysisSettings:
    """The single settings row; before anyone saved settings, an unsaved row of the defaults, so
    reading the settings never writes (a page that only reads stays a reading request)."""
    row = session.scalar(select(TextAnalysisSettings).order_by(TextAnalysisSettings.id).limit(1))
    if row is not None:
        return row
    defaults = {
        column.key: column.default.arg
        for column in TextAnalysisSettings.__table__.columns
        if column.default is not None and column.default.is_scalar
    }
    return TextAnalysisSettings(
        **{**defaults, "decisions_json": ThemeDecisions().to_json(), "user_words": ""}
    )


def _stored_settings(session: Session) -> TextAnalysisSettings:
    """The settings row to change, stored with the defaults first if nobody saved any yet."""
    row = get_settings(session)
    if row.id is None:
        session.add(row)
        session.flush()
    return row


def decisions(session: Session) -> ThemeDecisions:
    raw = get_settings(session).decisions_json or "{}"
    return ThemeDecisions.from_json(raw) if raw.strip() not in ("", "{}") else ThemeDecisions()


def save_decisions(session: Session, value: ThemeDecisions) -> None:
    _stored_settings(session).decisions_json = value.to_json()
    session.flush()


def user_words(session: Session) -> list[str]:
    return [w.strip() for w in get_settings(session).user_words.splitlines() if w.strip()]


def tokenizer(session: Session) -> Tokenizer:
    """The segmenter: jieba with the shipped IT-service dictionary plus the users' own words."""
    return Tokenizer(user_words=user_words(session))


@dataclass(frozen=True)
class SettingsUpdate:
    user_words: Sequence[str] | None = None
    theme_count: int | None = None  # 0 = choose automatically
    min_customers: int | None = None
    min_regions: int | None = None
    review_threshold: float | None = None
    emerging_alpha: float | None = None


def update_settings(session: Session, change: SettingsUpdate) -> TextAnalysisSettings:
    row = _stored_settings(session)
    if change.user_words is not None:
        words = list(dict.fromkeys(w.strip() for w in change.user_words if w.strip()))
        bad = [w for w in words if len(w) > 40 or any(c.isspace() for c in w)]
        if bad:
            raise TextAnalysisError.one(
                "user_words",
                f"每行一个词，不含空格，最多 40 个字符：“{bad[0]}”",
                f"one word per line, without spaces, at most 40 characters: {bad[0]!r}",
                code="invalid_word",
                value=bad[0][:80],
            )
        row.user_words = "\n".join(words)
    if change.theme_count is not None:
        if not 0 <= change.theme_count <= 50:
            raise TextAnalysisError.one(
                "theme_count", "应在 0（自动）到 50 之间", "between 0 (automatic) and 50", code="out_of_range"
            )
        row.theme_count = change.theme_count or None
    for field in ("min_customers", "min_regions"):
        value = getattr(change, field)
        if value is not None:
            if not 1 <= value <= 1000:
                raise TextAnalysisError.one(
                    field, "应在 1 到 1000 之间", "between 1 and 1000", code="out_of_range"
                )
            setattr(row, field, value)
    if change.review_threshold is not None:
        if not 0.0 < change.review_threshold < 1.0:
            raise TextAnalysisError.one(
                "review_threshold", "应在 0 到 1 之间", "between 0 and 1", code="out_of_range"
            )
        row.review_threshold = change.review_threshold
    if change.emerging_alpha is not None:
        if not 0.0 < change.emerging_alpha < 0.5:
            raise TextAnalysisError.one(
                "emerging_alpha", "应在 0 到 0.5 之间", "between 0 and 0.5", code="out_of_range"
            )
        row.emerging_alpha = change.emerging_alpha
    session.flush()
    return row


def _known(session: Session, key: str) -> TextTheme:
    theme = session.scalar(select(TextTheme).where(TextTheme.key == key))
    if theme is None:
        raise TextAnalysisError.one(
            "key", f"没有主题 {key}", f"no theme {key!r}", code="unknown_theme", value=key[:80]
        )
    return theme


def rename_theme(session: Session, key: str, name: str) -> TextTheme:
    """Name a theme (an empty name removes it); the name stays with the key across runs."""
    name = name.strip()
    if len(name) > 200:
        raise TextAnalysisError.one("name", "最多 200 个字符", "at most 200 characters", code="too_long")
    theme = _known(session, key)
    save_decisions(session, decisions(session).rename(key, name))
    theme.name = name or None
    audit.record(session, "theme_rename", object_type="TextTheme", object_id=key, summary=name or "(cleared)")
    return theme


def merge_themes(session: Session, keys: Sequence[str], into: str | None = None) -> ThemeDecisions:
    """Fold themes ``keys`` into ``into`` (default the first); applied at the next run."""
    keys = list(dict.fromkeys(k.strip() for k in keys if k.strip()))
    target = into or (keys[0] if keys else "")
    if target and target not in keys:
        keys.insert(0, target)
    if len(keys) < 2:
        raise TextAnalysisError.one(
            "keys", "请至少选择两个主题进行合并", "choose at least two themes to merge", code="too_few"
        )
    for key in keys:
        _known(session, key)
    value = decisions(session).merge(keys, into=target)
    save_decisions(session, value)
    audit.record(session, "theme_merge", object_type="TextTheme", object_id=target, summary=",".join(keys))
    return value


def split_theme(session: Session, key: str, seed_groups: Iterable[Iterable[str]]) -> ThemeDecisions:
    """Split theme ``key`` by groups of seed terms (the first group keeps the key); next run."""
    _known(session, key)
    groups = [[t.strip() for t in group if t.strip()] for group in seed_groups]
    groups = [g for g in groups if g]
    if len(groups) < 2:
        raise TextAnalysisError.one(
            "seeds",
            "请至少给出两组种子词，每行一组",
            "give at least two groups of seed terms, one group per line",
            code="too_few",
        )
    value = decisions(session).split(key, groups)
    save_decisions(session, value)
    audit.record(
        session,
        "theme_split",
        object_type="TextTheme",
        object_id=key,
        summary=" | ".join(",".join(g) for g in groups),
    )
    return value


def categories(session: Session, *, active_only: bool = True) -> list[TextCategory]:
    stmt = select(TextCategory).order_by(TextCategory.code)
    if active_only:
        stmt = stmt.where(TextCategory.active.is_(True))
    return list(session.scalars(stmt))


def add_category(session: Session, code: str, name_zh: str, name_en: str) -> TextCategory:
    code = code.strip().lower()
    if not code or len(code) > 64 or not all(c.isalnum() or c in "_-" for c in code):
        raise TextAnalysisError.one(
            "code",
            "只能包含字母、数字、_ 或 -（最多 64 个）",
            "letters, digits, _ or - (at most 64)",
            code="invalid_code",
        )
    if not name_zh.strip() or not name_en.strip():
        raise TextAnalysisError.one(
            "name", "请填写中文和英文名称", "give the Chinese and the English name", code="required"
        )
    if session.scalar(select(TextCategory).where(TextCategory.code == code)) is not None:
        raise TextAnalysisError.one(
            "code", f"类别 {code} 已存在", f"category {code} exists already", code="duplicate", value=code
        )
    category = TextCategory(code=code, name_zh=name_zh.strip(), name_en=name_en.strip())
    session.add(category)
    session.flush()
    return category
