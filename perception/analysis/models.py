"""Phase 3 (perception analysis) models: text-analysis state (theme decisions, themes of the last
run, user labels, trained classifiers, category vocabulary), market opportunities and alerts.

The facts analysed (ExperienceObservation, TextEntry) live in perception.core.models.facts and are
written by the collecting phases. The analysis writes its results back onto TextEntry
(theme_key, category, sentiment, confidence, label_source) and keeps what must survive the
collecting phases' delete-and-rewrite of their facts in its own tables: the user's labels carry
the text they labelled (they are the classifier's training data), and the theme decisions are one
JSON document (scoring.text.ThemeDecisions).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    exists,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.models.base import Base, TimestampMixin, utcnow


class Sentiment(enum.StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class LabelSource(enum.StrEnum):
    """Who gave a text its category and sentiment (``TextEntry.label_source``)."""

    MODEL = "model"  # the classifier of the last run, with its confidence
    USER = "user"  # a person (a TextLabel), kept across runs
    RATING = "rating"  # the sentiment the comment's own rating gives (category by the model)


class TextAnalysisSettings(TimestampMixin, Base):
    """The single row of text-analysis settings and the user's theme decisions.

    ``decisions_json`` is ``scoring.text.ThemeDecisions.to_json()``: names, merges, splits, pins and
    the remembered signatures that map a re-run's themes onto the same keys. ``user_words`` extend
    the segmenter's domain dictionary (one word per line).
    """

    __tablename__ = "text_analysis_settings"
    __audited__ = True
    __region_free__ = True
    __audit_exclude__ = frozenset({"decisions_json"})  # large; theme edits are audited as events

    id: Mapped[int] = mapped_column(primary_key=True)
    decisions_json: Mapped[str] = mapped_column(Text, default="{}")
    user_words: Mapped[str] = mapped_column(Text, default="")
    theme_count: Mapped[int | None] = mapped_column(Integer)  # None: chosen by the silhouette rule
    min_customers: Mapped[int] = mapped_column(Integer, default=3)
    min_regions: Mapped[int] = mapped_column(Integer, default=3)
    emerging_alpha: Mapped[float] = mapped_column(Float, default=0.05)
    emerging_min_entries: Mapped[int] = mapped_column(Integer, default=3)
    review_threshold: Mapped[float] = mapped_column(Float, default=0.6)
    max_entries: Mapped[int] = mapped_column(Integer, default=100_000)  # newest N entries per run


class TextRunStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class TextAnalysisRun(Base):
    """One run of the text analysis (themes + classification), with its figures."""

    __tablename__ = "text_analysis_run"
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(12), default=TextRunStatus.RUNNING)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    n_entries: Mapped[int] = mapped_column(Integer, default=0)
    n_themes: Mapped[int] = mapped_column(Integer, default=0)
    k_rule: Mapped[str | None] = mapped_column(String(16))
    seconds: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str | None] = mapped_column(Text)
    # Digest of what the run read and what the entries held after it (text_run._inputs): a run
    # that finds the same has nothing to do.
    input_digest: Mapped[str | None] = mapped_column(String(64))
    # What a run built on (text_incremental.Basis as JSON): the digest of its settings, labels and
    # decisions, a sum of its entries' digests, its highest entry id and its last full recompute,
    # so the next run can place only the entries that are new since.
    basis: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class TextTheme(Base):
    """A theme of the latest run: its key (stable across runs), top terms and example entry ids.

    Example texts are not copied here: pages read them from TextEntry through the user's region
    scope, so a theme never shows another region's text to a region-bound user.
    """

    __tablename__ = "text_theme"
    __region_free__ = True
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    top_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    top_terms_en: Mapped[list[str] | None] = mapped_column(JSON)  # the same terms in English
    size: Mapped[int] = mapped_column(Integer, default=0)
    example_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("text_analysis_run.id", ondelete="SET NULL"))

    @property
    def label(self) -> str:
        return self.name or " / ".join(self.top_terms[:3]) or self.key

    def label_in(self, language: str) -> str:
        """The name, or the top terms in the reader's language (English words where known)."""
        from scoring.text.themes import label_terms, name_in

        return (
            name_in(self.name, language)
            or label_terms(self.top_terms, self.top_terms_en or (), language)
            or self.key
        )


class TextCategory(TimestampMixin, Base):
    """A category users label texts with (the classifier learns these)."""

    __tablename__ = "text_category"
    __audited__ = True
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TextLabel(TimestampMixin, Base):
    """A person's label (category and/or sentiment) on a text: training data for the classifier.

    The text is kept here because the collecting phases re-write their TextEntry rows when a source
    changes; ``source``/``source_id`` find the entry again after such a rewrite.
    """

    __tablename__ = "text_label"
    __audited__ = True
    __table_args__ = (UniqueConstraint("source", "source_id", "text_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text_entry_id: Mapped[int | None] = mapped_column(ForeignKey("text_entry.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(Integer)
    text_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(64))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    labelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class TextClassifierModel(Base):
    """The classifier trained at a run for one target (category or sentiment) and its
    cross-validated accuracy, shown in the UI next to its predictions."""

    __tablename__ = "text_classifier_model"
    __region_free__ = True
    __table_args__ = (UniqueConstraint("target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(16))  # category | sentiment
    trained_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    n_labelled: Mapped[int] = mapped_column(Integer, default=0)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    folds: Mapped[int | None] = mapped_column(Integer)
    cv_accuracy: Mapped[float | None] = mapped_column(Float)
    cv_accuracy_std: Mapped[float | None] = mapped_column(Float)
    baseline_accuracy: Mapped[float | None] = mapped_column(Float)
    per_class: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The model card: balanced accuracy on distinct labels, cross-validated (cv_accuracy) and on
    # the held-back share, and how many labels came from ratings and from people.
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    model: Mapped[bytes | None] = mapped_column(LargeBinary)


class TextTokenCache(Base):
    """The tokens of the texts the last text-analysis run segmented, under the digest of the
    tokenizer that made them (``Tokenizer.cache_key``: dictionary, user words, stopwords,
    synonyms, jieba's version), so the next run segments only texts it has not seen. One row per
    key; a run with another key (the words changed) replaces it (text_tokens)."""

    __tablename__ = "text_token_cache"
    __region_free__ = True

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    n_texts: Mapped[int] = mapped_column(Integer, default=0)
    stored_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class TextFeatureCache(Base):
    """The classifier features (hashed n-gram counts, cue values) of the distinct texts the last
    full text-analysis run featurised, each under its text's SHA-256 digest (never the text), in
    one document (scoring.text.feature_rows) under the digest of the vectoriser's settings
    (``TextCounts.cache_key``, which includes the tokenizer's), so the next full run computes
    features only for texts it has not seen. One row per key; a run with another key (a user
    word added, the hashing changed) replaces it (text_features)."""

    __tablename__ = "text_feature_cache"
    __region_free__ = True

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    n_texts: Mapped[int] = mapped_column(Integer, default=0)
    stored_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    data: Mapped[bytes] = mapped_column(LargeBinary)


# --- market opportunities -----------------------------------------------------------------------


class OpportunityStatus(enum.StrEnum):
    """How far the market-expansion department has followed the need up, in this order."""

    NEW = "new"
    CONTACTED = "contacted"
    OPPORTUNITY = "opportunity"
    CLOSED = "closed"


class OpportunityKind(enum.StrEnum):
    COMMON = "common"  # raised by many customers across regions
    EMERGING = "emerging"  # a theme whose share rose significantly
    MANUAL = "manual"


class Opportunity(TimestampMixin, Base):
    """A common or emerging need sent to the market-expansion department (市场拓展部门)."""

    __tablename__ = "opportunity"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), default=OpportunityKind.COMMON)
    theme_key: Mapped[str | None] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary_zh: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)  # exclusive
    n_entries: Mapped[int] = mapped_column(Integer, default=0)
    n_customers: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default=OpportunityStatus.NEW)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    # The texts the need was made from, as [source, source_id] pairs (stable across the collecting
    # phases' rewrites and across re-runs that give a theme key to other texts).
    entry_refs: Mapped[list[list[Any]] | None] = mapped_column(JSON)

    regions: Mapped[list[OpportunityRegion]] = relationship(
        back_populates="opportunity", cascade="all, delete-orphan"
    )

    @property
    def period_last_day(self) -> date | None:
        """The last day of the period (period_end is exclusive), for links that take a day."""
        return self.period_end - timedelta(days=1) if self.period_end else None

    @classmethod
    def region_clause(cls, region_ids: frozenset[int]) -> Any:
        return exists().where(
            OpportunityRegion.opportunity_id == cls.id, OpportunityRegion.region_id.in_(region_ids)
        )


class OpportunityRegion(Base):
    """A region whose customers raised the need behind an opportunity."""

    __tablename__ = "opportunity_region"
    __table_args__ = (UniqueConstraint("opportunity_id", "region_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)

    opportunity: Mapped[Opportunity] = relationship(back_populates="regions")


# --- alerts -------------------------------------------------------------------------------------


class AlertKind(enum.StrEnum):
    """The alert conditions (perception.analysis.services.alert_checks)."""

    EXPERIENCE_DROP = "experience_drop"
    NEW_WATERMELON = "new_watermelon"
    STANDARD_MISSED = "standard_missed"
    MISSING_REPORTS = "missing_reports"


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class Alert(Base):
    """One occurrence of an alert condition; ``occurrence_key`` is unique so it is raised once."""

    __tablename__ = "alert"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    occurrence_key: Mapped[str] = mapped_column(String(200), unique=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    period_start: Mapped[date | None] = mapped_column(Date)
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    evidence_url: Mapped[str] = mapped_column(String(500))  # a path inside the app
    raised_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(12), default=AlertStatus.OPEN)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)

    recipients: Mapped[list[AlertRecipient]] = relationship(
        back_populates="alert", cascade="all, delete-orphan"
    )

    @classmethod
    def region_clause(cls, region_ids: frozenset[int]) -> Any:
        # An alert without a region (system-wide) is visible to everyone who may see alerts.
        return or_(cls.region_id.in_(region_ids), cls.region_id.is_(None))


class AlertRecipient(Base):
    """An owner concerned by an alert: shown in their in-app list, emailed by the job."""

    __tablename__ = "alert_recipient"
    __table_args__ = (UniqueConstraint("alert_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    alert: Mapped[Alert] = relationship(back_populates="recipients")


# --- pre-aggregated experience (the dashboards' fast path) --------------------------------------


class ExperienceRollup(Base):
    """Weekly sums of ExperienceObservation without the customer, rebuilt by the
    ``refresh_analysis_rollup`` job (perception.analysis.services.rollup). Two levels in one table:
    ``level`` 0 per region x service x tier x source x kind x dimension x scale, ``level`` 1 the
    same summed over the services and tiers (service_id and tier_id NULL), which the pages read
    when they neither filter nor group by service or tier (some ten times fewer rows). A customer
    filter always reads the facts. The dashboards read it only while it matches the facts (see
    AnalysisRollupState)."""

    __tablename__ = "experience_rollup"
    __table_args__ = (Index("ix_experience_rollup_level_period", "level", "period_start", "region_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    region_id: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[int | None] = mapped_column(Integer)
    tier_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    dimension: Mapped[str | None] = mapped_column(String(32))
    scale_min: Mapped[float] = mapped_column(Float)
    scale_max: Mapped[float] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer)
    s: Mapped[float] = mapped_column(Float)
    ss: Mapped[float] = mapped_column(Float)
    top2: Mapped[int] = mapped_column(Integer)
    promoters: Mapped[int] = mapped_column(Integer)
    detractors: Mapped[int] = mapped_column(Integer)


#: The dimension columns of the index sums: per dimension d the count (c{d}) and sum (t{d}) of the
#: rescaled ratings (0..100), and over the respondents the sums of the products of their sums and
#: counts (ss_d_e and cc_d_e for d <= e, sc_d_e for every pair): what the linearisation variance of
#: the perception index needs (perception_index.index_from_moments).
INDEX_DIMS = 6
INDEX_SUMS = tuple(f"c{d}" for d in range(INDEX_DIMS)) + tuple(f"t{d}" for d in range(INDEX_DIMS))
INDEX_MOMENTS = (
    tuple(f"ss_{d}_{e}" for d in range(INDEX_DIMS) for e in range(d, INDEX_DIMS))
    + tuple(f"sc_{d}_{e}" for d in range(INDEX_DIMS) for e in range(INDEX_DIMS))
    + tuple(f"cc_{d}_{e}" for d in range(INDEX_DIMS) for e in range(d, INDEX_DIMS))
)


def _cell_columns() -> list[Column[Any]]:
    return [
        Column("id", Integer, primary_key=True),
        Column("period_start", Date, nullable=False),
        Column("region_id", Integer, nullable=False),
        Column("service_id", Integer),
        Column("tier_id", Integer),
        Column("source", String(16), nullable=False),
    ]


#: The perception index's sums per cell (level 0: region x service x tier x source x week; level 1:
#: summed over services and tiers) over the respondents whose ratings lie in one level-0 cell:
#: ``respondents`` (with any rating), INDEX_SUMS and INDEX_MOMENTS. Rebuilt with ExperienceRollup.
experience_index_rollup = Table(
    "experience_index_rollup",
    Base.metadata,
    *_cell_columns(),
    Column("level", Integer, nullable=False),
    Column("respondents", Integer, nullable=False),
    *(Column(name, Float, nullable=False) for name in INDEX_SUMS + INDEX_MOMENTS),
    Index("ix_experience_index_rollup_level_period", "level", "period_start", "region_id"),
)

#: The respondents whose ratings span several level-0 cells (a report entry covering two weeks,
#: an answer moved between services): their rows per cell, merged per respondent when read.
experience_index_spanning = Table(
    "experience_index_spanning",
    Base.metadata,
    *_cell_columns(),
    Column("source_id", Integer, nullable=False),
    *(Column(name, Float, nullable=False) for name in INDEX_SUMS),
    Index("ix_experience_index_spanning_period", "period_start", "region_id"),
)


class AnalysisRollupState(Base):
    """The single row telling whether ExperienceRollup is current: the facts' write signature it
    was built from (PostgreSQL's insert/update/delete counters of experience_observation)."""

    __tablename__ = "analysis_rollup_state"
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    signature: Mapped[str] = mapped_column(String(80))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)


# --- the newest respondents' ratings (the experience page's samples, issue 19) -----------------

#: The dimension columns of ExperienceRespondent, in DIMENSION_CODES order.
RESPONDENT_DIMS = tuple(f"d{d}" for d in range(INDEX_DIMS))

#: One row per respondent (source, source_id) and cell (week, region, service, tier, customer) of
#: their answers of the kinds the experience page's samples read (dimension ratings, CSAT, NPS):
#: per dimension the highest rating (``d0``..``d5``, DIMENSION_CODES order), the CSAT and NPS
#: answers, whether any dimension-kind answer (``dim_kind``) or one naming a dimension (``rated``)
#: is among them, and how many cells the respondent has (``cells``; 1 for nearly everyone, who is
#: then one row and needs no grouping). Written sorted by week, newest first, so the newest
#: respondents are one short index range scan (services.respondents). Rebuilt with the rollup.
experience_respondent = Table(
    "experience_respondent",
    Base.metadata,
    Column("period_start", Date, nullable=False),
    Column("source", String(16), nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("region_id", Integer, nullable=False),
    Column("service_id", Integer),
    Column("tier_id", Integer),
    Column("customer_id", Integer),
    Column("cells", Integer, nullable=False),
    Column("dim_kind", Boolean, nullable=False),
    Column("rated", Boolean, nullable=False),
    *(Column(name, Float) for name in RESPONDENT_DIMS),
    Column("csat", Float),
    Column("nps", Float),
)
Index(
    "ix_experience_respondent_newest",
    experience_respondent.c.period_start.desc(),
    experience_respondent.c.source,
    experience_respondent.c.source_id,
    postgresql_where=experience_respondent.c.cells == 1,
)
Index(
    "ix_experience_respondent_region_newest",
    experience_respondent.c.region_id,
    experience_respondent.c.period_start.desc(),
    experience_respondent.c.source,
    experience_respondent.c.source_id,
    postgresql_where=experience_respondent.c.cells == 1,
)
Index(
    "ix_experience_respondent_spanning",
    experience_respondent.c.period_start,
    postgresql_where=experience_respondent.c.cells > 1,
)
# A respondent's rows: the samples merge a respondent of the split's weeks with their rows before
# it (services.respondents._recent_respondents), a probe that finds nothing for nearly everyone.
Index(
    "ix_experience_respondent_source",
    experience_respondent.c.source,
    experience_respondent.c.source_id,
    experience_respondent.c.period_start,
)


class ExperienceRespondentState(Base):
    """The single row telling whether experience_respondent is current: the facts' write signature
    it was built from (as AnalysisRollupState for the sums; kept apart so that a database whose
    sums were built before the table existed never reads it empty)."""

    __tablename__ = "experience_respondent_state"
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    signature: Mapped[str] = mapped_column(String(80))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)


# --- running sums of the weekly experience sums (the KPI-versus-experience page, issue 19) ------


class ExperienceCumulative(Base):
    """The running sums of the pre-aggregate (ExperienceRollup, level 0, summed over sources) per
    series (region x service x tier x measure, the measure a kind, dimension and scale), up to and
    including ``period_start``: one row per week that has sums, its ``sums`` every series' running
    statistics as one little-endian float64 array (series x CUMULATIVE_STATS), the series in the
    order of ExperienceCumulativeState.keys. Any period's sums are then two rows' difference
    (analysis.services.experience_cumulative). Holds every region: read only by that module,
    which keeps the series of the reader's scope."""

    __tablename__ = "experience_cumulative"
    __region_free__ = True

    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    sums: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of ``sums``: a refresh rewrites changed rows


class ExperienceCumulativeState(Base):
    """The single row telling whether experience_cumulative is current: the facts' write signature
    it was built from (as AnalysisRollupState), and the series its rows hold: ``keys`` a
    little-endian int64 array (series x 4: region, service or -1, tier or -1, measure) and
    ``measures`` the [kind, dimension or null, scale_min, scale_max] each measure number names."""

    __tablename__ = "experience_cumulative_state"
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    signature: Mapped[str] = mapped_column(String(80))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    series: Mapped[int] = mapped_column(Integer, default=0)
    weeks: Mapped[int] = mapped_column(Integer, default=0)
    keys: Mapped[bytes] = mapped_column(LargeBinary)
    measures: Mapped[list[Any]] = mapped_column(JSON, default=list)
    seconds: Mapped[float | None] = mapped_column(Float)
