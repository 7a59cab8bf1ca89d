"""Demo analysis: the built-in categories, some texts labelled by an analyst (category and
sentiment, from plain keyword rules), one run of the text analysis (themes and the classifiers with
their cross-validated accuracy), a few themes named, the top common need sent to the market
department as an opportunity, and the alert checks run once on the organisation's clock.
Idempotent: categories and labels are looked up, the analysis runs only when it never ran, alerts
are unique per occurrence.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.analysis import settings
from perception.analysis.models import Opportunity, OpportunityKind, TextAnalysisRun, TextTheme
from perception.analysis.services.alert_checks import check_alerts
from perception.analysis.services.demand import common_and_emerging_needs
from perception.analysis.services.opportunities import create_from_need
from perception.analysis.services.text_categories import ensure_builtin_categories
from perception.analysis.services.text_labels import label_entry
from perception.analysis.services.text_run import run_text_analysis
from perception.analysis.services.text_settings import SettingsUpdate, rename_theme, update_settings
from perception.core.audit import acting_as
from perception.core.clock import current_clock
from perception.core.demo import DemoContext
from perception.core.models.auth import User
from perception.core.models.facts import TextEntry, TextKind
from perception.core.periods import week_start

# Built-in category code (scoring.text.categories), kind family, keywords: an analyst labels a
# text containing one (requirements with kinds of need, comments with feedback dimensions).
CATEGORIES = (
    ("need_self_service", "need", ("手机", "微信", "移动端", "小程序", "mobile", "app")),
    ("need_support_hours", "need", ("驻场", "现场", "on-site", "onsite")),
    ("need_equipment", "need", ("备件", "spare")),
    ("need_training", "need", ("培训", "training")),
    ("need_reporting", "need", ("报告", "月报", "报表", "report")),
    ("response_speed", "voice", ("响应", "及时", "太慢", "等了", "slow", "quick")),
    ("training_effect", "voice", ("培训", "training")),
    ("staff_attitude", "voice", ("态度", "耐心", "attitude")),
)
POSITIVE = ("满意", "很好", "感谢", "谢谢", "及时", "专业", "thank", "great", "quick", "friendly")
NEGATIVE = ("慢", "差", "不满", "投诉", "没人", "不及时", "太长", "不足", "slow", "poor", "bad")
LABELS_PER_CATEGORY = 12
THEME_NAMES = {
    "need_self_service": "移动端报修 Mobile repair",
    "need_support_hours": "驻场工程师 On-site engineers",
    "need_equipment": "备件 Spare parts",
    "need_training": "培训需求 Training requests",
    "need_reporting": "服务报告 Service reports",
    "response_speed": "响应速度 Response speed",
    "training_effect": "培训效果 Training effect",
    "staff_attitude": "服务态度 Staff attitude",
}


def _category_of(text: str, kind: str) -> str | None:
    lowered = text.lower()
    family = "need" if kind == TextKind.REQUIREMENT else "voice"
    for code, of, words in CATEGORIES:
        if of == family and any(w in lowered for w in words):
            return code
    return None


def _sentiment_of(text: str) -> str:
    lowered = text.lower()
    if any(w in lowered for w in NEGATIVE):
        return "negative"
    if any(w in lowered for w in POSITIVE):
        return "positive"
    return "neutral"


def _label_some(session: Session, analyst: User | None) -> int:
    counts: dict[str, int] = {}
    labelled = 0
    for entry in session.scalars(select(TextEntry).order_by(TextEntry.id).limit(5000)):
        category = _category_of(entry.text, entry.kind)
        if category is None or counts.get(category, 0) >= LABELS_PER_CATEGORY:
            continue
        counts[category] = counts.get(category, 0) + 1
        label_entry(
            session,
            entry,
            category=category,
            sentiment=_sentiment_of(entry.text),
            user_id=analyst.id if analyst else None,
        )
        labelled += 1
    return labelled


def _name_themes(session: Session) -> None:
    """Name a theme after the category most of its texts fall in (at most one theme per name)."""
    used = set(session.scalars(select(TextTheme.name).where(TextTheme.name.is_not(None))))
    for theme in session.scalars(select(TextTheme).order_by(TextTheme.size.desc(), TextTheme.key)):
        if theme.name:
            continue
        texts = session.execute(
            select(TextEntry.text, TextEntry.kind)
            .where(TextEntry.theme_key == theme.key)
            .order_by(TextEntry.id)
            .limit(40)
        ).all()
        votes: dict[str, int] = {}
        for text, kind in texts:
            code = _category_of(text, kind)
            if code is not None:
                votes[code] = votes.get(code, 0) + 1
        if not votes:
            continue
        best = max(votes, key=lambda c: votes[c])
        name = THEME_NAMES[best]
        if votes[best] * 2 >= len(texts) and name not in used:
            rename_theme(session, theme.key, name)
            used.add(name)


def load(session: Session, ctx: DemoContext) -> None:
    ensure_builtin_categories(session)
    analyst = session.scalar(select(User).where(User.username == "analyst"))
    market = session.scalar(select(User).where(User.username == "market"))
    if session.scalar(select(TextAnalysisRun.id).limit(1)) is not None:
        return
    with acting_as("demo", analyst.id if analyst else None):
        update_settings(session, SettingsUpdate(user_words=["移动端报修", "驻场工程师", "小程序"]))
        labelled = _label_some(session, analyst)
        result = run_text_analysis(session, analyst.id if analyst else None)
        _name_themes(session)
        end = week_start(ctx.today) + timedelta(weeks=1)
        start = end - timedelta(weeks=min(ctx.weeks, 13))
        needs = common_and_emerging_needs(session, start, end)
        sent = 0
        for need in needs.common[:1]:
            if session.scalar(select(Opportunity.id).where(Opportunity.theme_key == need.theme_key)) is None:
                create_from_need(
                    session,
                    kind=OpportunityKind.COMMON,
                    theme_key=need.theme_key,
                    period_start=start,
                    period_end=end,
                    region_ids=None,
                    created_by_id=analyst.id if analyst else None,
                    owner_id=market.id if market else None,
                )
                sent += 1
        alerts = check_alerts(
            session,
            current_clock(),
            base_url=settings.public_base_url(),
            use_rollup=settings.rollup_enabled(),
        )
    ctx.summary.append(
        f"Analysis: {result.n_entries} texts in {result.n_themes} themes, {labelled} labelled, "
        f"{len(needs.common)} common needs ({sent} sent to market), {len(alerts)} alerts raised."
    )
