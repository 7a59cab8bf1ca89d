"""Internal KPIs and service-desk tickets: KPI definitions and values, tickets, import batches and
SLA escalations (issue 6, the "internal KPI" side that analysis compares with experience).

Bulk data (tickets, KPI values) is written with set-based SQL (perception.kpi.services.ticket_import,
kpi_compute), never row by row through the ORM, so these two tables are not ``__audited__``: the
audit unit is the import batch or the computation run, recorded with its counts. Definitions,
batches and escalations are ordinary audited domain objects.

Times are naive UTC (perception.core.models.base.utcnow); periods are [period_start, period_end) dates,
weeks starting on Monday (perception.core.periods.week_start).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.models.base import Base, TimestampMixin, utcnow


class KpiSource(enum.StrEnum):
    TICKETS = "tickets"  # computed from tickets by perception.kpi.services.compute
    IMPORT = "import"  # uploaded (CSV/Excel) or sent through the JSON API


class Provenance(enum.StrEnum):
    COMPUTED = "computed"
    IMPORTED = "imported"


class Direction(enum.StrEnum):
    HIGHER = "higher"  # higher is better (shares, rates of success)
    LOWER = "lower"  # lower is better (times, reopen rate, backlog)
    NEUTRAL = "neutral"  # descriptive (volume)


class Granularity(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


class TicketKind(enum.StrEnum):
    INCIDENT = "incident"
    REQUEST = "request"


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# A ticket in one of these is still waiting for its resolution: it counts in the backlog and can
# breach its SLA (a tuple, so the SQL written from it is the same on every run).
UNRESOLVED_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.PENDING)


class KpiDefinition(TimestampMixin, Base):
    """What a KPI is: name, unit, direction and the standard it measures.

    ``metric`` is a setup metric (perception.setup.models.standards.METRICS) the KPI measures; the target of a
    value is the one of the standard in force for the value's service/tier/period with that metric
    (or ``standard_id`` when the definition measures one named standard), else ``default_target``.
    Definitions with ``source == "tickets"`` are computed; their values cannot be imported.
    """

    __tablename__ = "kpi_definition"
    __audited__ = True
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_zh: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(16), default="share")  # share | minutes | count | percent | ...
    direction: Mapped[str] = mapped_column(String(8), default=Direction.HIGHER)
    metric: Mapped[str | None] = mapped_column(String(40))
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("service_standard.id"))
    default_target: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(8), default=KpiSource.IMPORT)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def comparator(self) -> str | None:
        comparators: dict[str, str] = {Direction.HIGHER: ">=", Direction.LOWER: "<="}
        return comparators.get(self.direction)


class KpiValue(Base):
    """One KPI value for service x region x tier x period, computed or imported.

    ``tier_key`` is ``tier_id or 0`` so that "all tiers" takes part in the unique key on every
    database (NULLs are distinct in SQL unique constraints). ``target``/``comparator``/``met`` are the
    attainment against the standard version in force, resolved when the value was stored.
    """

    __tablename__ = "kpi_value"
    __table_args__ = (
        UniqueConstraint(
            "definition_id",
            "service_id",
            "region_id",
            "tier_key",
            "granularity",
            "period_start",
            name="uq_kpi_value_key",
        ),
        Index("ix_kpi_value_period", "period_start", "region_id", "service_id"),
        # A region's values of a period (a region team's KPI page, a region filter): through the
        # index above, every region's entries of the period were walked (issue 19).
        Index("ix_kpi_value_region", "region_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("kpi_definition.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("service_tier.id"))
    tier_key: Mapped[int] = mapped_column(Integer, default=0)
    granularity: Mapped[str] = mapped_column(String(8), default=Granularity.WEEK)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # exclusive
    value: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int | None] = mapped_column(Integer)  # tickets (or sample size) behind the value
    target: Mapped[float | None] = mapped_column(Float)
    comparator: Mapped[str | None] = mapped_column(String(2))
    met: Mapped[bool | None] = mapped_column(Boolean)
    standard_version_id: Mapped[int | None] = mapped_column(Integer)
    provenance: Mapped[str] = mapped_column(String(10), default=Provenance.IMPORTED)
    batch_id: Mapped[int | None] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    definition: Mapped[KpiDefinition] = relationship()


class Ticket(Base):
    """A service-desk ticket (incident or request), upserted by ``external_id``.

    Not audited row by row (imports write thousands per second); each ImportBatch records who
    imported what, and ``batch_id`` names the batch that last wrote the row. Foreign keys are not
    declared on the bulk columns: the importer maps every code to an existing id before writing,
    and per-row foreign-key triggers would cost PostgreSQL more than the whole insert.
    """

    __tablename__ = "ticket"
    # One secondary index only: every index costs the bulk import; period scans read the table.
    __table_args__ = (Index("ix_ticket_region_opened", "region_id", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(12), default=TicketKind.INCIDENT)
    service_id: Mapped[int] = mapped_column(Integer)
    region_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(Integer)
    tier_id: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[str] = mapped_column(String(8))
    contact: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    engineer: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.OPEN)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)  # hand-offs; FCR needs none
    batch_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ImportKind(enum.StrEnum):
    TICKETS = "tickets"
    KPI_VALUES = "kpi_values"


class ImportStatus(enum.StrEnum):
    DRY_RUN = "dry_run"
    APPLIED = "applied"
    REJECTED = "rejected"


class ImportBatch(TimestampMixin, Base):
    """One import (file upload or API batch): what came in, what it changed, who did it.

    ``sha256`` recognises the same file uploaded twice; a dry run keeps the upload under the
    instance folder until it is applied.
    """

    __tablename__ = "import_batch"
    __audited__ = True
    __region_free__ = True  # imports may span regions; only import managers see the list

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), default=ImportStatus.DRY_RUN)
    channel: Mapped[str] = mapped_column(String(8), default="file")  # file | api
    filename: Mapped[str | None] = mapped_column(String(255))
    file_format: Mapped[str | None] = mapped_column(String(8))  # csv | xlsx | json
    encoding: Mapped[str | None] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_new: Mapped[int] = mapped_column(Integer, default=0)
    rows_changed: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)
    seconds: Mapped[float | None] = mapped_column(Float)


class Escalation(Base):
    """One firing of an SLA escalation rule for one ticket; unique per (ticket, rule, breach), so a
    rule fires once per breach however often the job runs."""

    __tablename__ = "escalation"
    __audited__ = True
    __table_args__ = (UniqueConstraint("ticket_id", "rule_id", "breach"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("escalation_rule.id", ondelete="CASCADE"))
    sla_id: Mapped[int] = mapped_column(ForeignKey("sla.id", ondelete="CASCADE"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"))
    breach: Mapped[str] = mapped_column(String(12))  # response | resolution
    breached_at: Mapped[datetime] = mapped_column(DateTime)  # the target deadline that was missed
    due_at: Mapped[datetime] = mapped_column(DateTime)  # deadline + the rule's covered minutes
    fired_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recipients: Mapped[str] = mapped_column(Text, default="")  # comma-separated addresses notified
    roles: Mapped[str] = mapped_column(String(300), default="")
    recovered_at: Mapped[datetime | None] = mapped_column(DateTime)  # the ticket responded/resolved

    ticket: Mapped[Ticket] = relationship()


from perception.kpi.intake_models import IntakeConnection, IntakeEvent  # noqa: E402,F401  (tables of the phase)


class KpiDurationArray(Base):
    """The covered seconds behind the stored percentile KPIs of one region and week (issue 19): what
    compute_kpis measured for the tickets opened that week, so a page pools percentiles over regions,
    tiers and services from these arrays instead of reloading the tickets (kpi.services.duration_arrays).

    ``segments``: int32 rows (service, tier or -1, responded, resolved), one per service x tier in
    the region that week, sorted; ``response``/``resolution``: each segment's non-missing durations
    sorted ascending, segment after segment, as ``dtype`` ("<i4" when every value is a whole number
    of seconds, else "<f8"): exact either way. A row exists for every region a computation covered,
    also a region without tickets (no segments): a missing row means "not computed", and the page
    falls back to the tickets. compute_kpis deletes and rewrites the rows of the weeks and regions it
    recomputes, in the transaction that rewrites their KPI values.
    """

    __tablename__ = "kpi_duration_array"
    __table_args__ = (
        UniqueConstraint("granularity", "period_start", "region_id", name="uq_kpi_duration_array_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    granularity: Mapped[str] = mapped_column(String(8), default=Granularity.WEEK)
    period_start: Mapped[date] = mapped_column(Date)
    region_id: Mapped[int] = mapped_column(Integer)  # no foreign key: rows of a deleted region are unread
    dtype: Mapped[str] = mapped_column(String(4), default="<i4")
    segments: Mapped[bytes] = mapped_column(LargeBinary)
    response: Mapped[bytes] = mapped_column(LargeBinary)
    resolution: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DataVersion(Base):
    """A write counter (issue 19): ``n`` goes up in every transaction that writes one of the tables
    a cache is made from (kpi.services.data_version), so the cache's key is one row read."""

    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class ExperienceWeekLog(Base):
    """The weeks of past facts written by a declared writer (issue 19; kpi.services.data_version
    .week_write: a weekly report's facts are rows of its one week), numbered in commit order by the
    counter ``experience_week_log`` of data_version: a pre-aggregate that recorded number ``seq``
    reads the facts from the earliest week logged after it on, instead of reading all the facts."""

    __tablename__ = "experience_week_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)


class KpiValueCumulative(Base):
    """Running sums of the weekly KPI values of one series (definition x service x region x tier)
    up to and including ``period_start``, one row for every week from the series' first week with a
    value to the last week of any series (issue 19): any period's sums are two rows' difference, so
    the KPI-versus-experience page reads two weeks' rows instead of every week of its period.

    ``tier_key`` is KpiValue's (tier id or 0); ``ALL_TIERS`` (-1) is the series of the cell's weeks
    with a value in any tier (its ``cum_rows`` counts distinct weeks). Derived rows, kept by
    perception.kpi.services.kpi_cumulative; only read while its state matches the write counter.
    """

    __tablename__ = "kpi_value_cumulative"

    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    definition_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tier_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    tier_id: Mapped[int | None] = mapped_column(Integer)
    #: sum of weight x value (weight: n, or 1 for a week without tickets), as an unevaluated sum
    #: of two floats (hi + lo, compensated) so a difference of two rows keeps full precision
    cum_wv: Mapped[float] = mapped_column(Float)
    cum_wv_lo: Mapped[float] = mapped_column(Float)
    cum_w: Mapped[float] = mapped_column(Float)
    cum_n: Mapped[int] = mapped_column(BigInteger)  # tickets (weeks without: cum_missing)
    cum_missing: Mapped[int] = mapped_column(Integer)
    cum_rows: Mapped[int] = mapped_column(Integer)  # weeks with a value
    last_week: Mapped[date] = mapped_column(Date)  # the latest week with a value, up to this row
    target: Mapped[float | None] = mapped_column(Float)  # that week's target and comparator
    comparator: Mapped[str | None] = mapped_column(String(2))


class KpiCumulativeState(Base):
    """The single row telling whether kpi_value_cumulative is current: the KPI values' write
    signature it matches after its transaction commits (``signature``) and, for the transaction
    that wrote it, the signature it matches inside that transaction (``pending``)."""

    __tablename__ = "kpi_cumulative_state"
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    signature: Mapped[str] = mapped_column(String(80))
    pending: Mapped[str | None] = mapped_column(String(80))
    last_week: Mapped[date | None] = mapped_column(Date)  # the last week of the rows (None: empty)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)


class KpiWeekSum(Base):
    """The weekly KPI values of one definition, service, tier (``tier_id`` as the values have it)
    and comparator in one week, summed over the regions (issue 19): the internal KPI page's
    per-week sums for every region are a hundredth of the values' rows at a national provider.

    Derived rows, kept by perception.kpi.services.kpi_week_sums; only read while its state matches
    the KPI values' write counter.
    """

    __tablename__ = "kpi_week_sum"
    __table_args__ = (Index("ix_kpi_week_sum_week", "period_start", "definition_id", "service_id"),)

    # A surrogate key: tier and comparator may be NULL, which a primary key cannot hold.
    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    definition_id: Mapped[int] = mapped_column(Integer)
    service_id: Mapped[int] = mapped_column(Integer)
    tier_id: Mapped[int | None] = mapped_column(Integer)
    comparator: Mapped[str | None] = mapped_column(String(2))
    weighted_sum: Mapped[float] = mapped_column(Float)  # sum of weight x value (weight: n, or 1)
    weights: Mapped[float] = mapped_column(Float)
    rows: Mapped[int] = mapped_column(Integer)
    missed: Mapped[int] = mapped_column(Integer)  # rows with met False
    met_rows: Mapped[int] = mapped_column(Integer)  # rows with met True
    target_max: Mapped[float | None] = mapped_column(Float)  # of the rows with a target and comparator
    target_min: Mapped[float | None] = mapped_column(Float)


class KpiWeekSumState(Base):
    """The single row telling whether kpi_week_sum is current (as KpiCumulativeState does for the
    running sums): the KPI values' write signature it matches after its transaction commits and,
    for the transaction that wrote it, inside it."""

    __tablename__ = "kpi_week_sum_state"
    __region_free__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    signature: Mapped[str] = mapped_column(String(80))
    pending: Mapped[str | None] = mapped_column(String(80))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
