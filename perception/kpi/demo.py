"""Demo tickets and KPIs: the demo's weeks of service-desk tickets for every region, imported through the
real bulk path, KPIs computed from them, some KPI values imported (service-desk call answering,
backup success), and a few open P1 tickets that breach their SLA so escalations fire.

Two service x region cells are planted for the KPI-vs-experience comparison and named in
``ctx.shared["planted"]`` for the surveys and collection demo parts (which make experience poor
or good there):
- ``"watermelon"``: ("DESK", "GD") - desktop support in Guangdong meets every KPI (fast first
  response, quick resolution, high first-contact resolution) while customers are unhappy;
- ``"reverse"``: ("NET", "SC") - network operations in Sichuan misses its resolution standard
  (P1 network incidents take 5-8 hours) while customers are satisfied.
Idempotent: tickets are upserted by id; when the demo tickets exist the import is skipped.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from perception.core.clock import DEFAULT_TIMEZONE, Clock
from perception.core.demo import DemoContext
from perception.core.models.org import CustomerOrg, Region
from perception.core.periods import week_start
from perception.kpi.models import KpiDefinition, Ticket
from perception.kpi.services.compute import compute_kpis
from perception.kpi.services.definitions import DefinitionSpec, save_definition
from perception.kpi.services.escalation import check_escalations
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from perception.kpi.services.value_import import import_kpi_values
from perception.setup.models.catalog import Subscription

PLANTED = {"watermelon": ("DESK", "GD"), "reverse": ("NET", "SC")}
REACTIVE = ("SD", "DESK", "NET", "APP")
PRIORITIES = (("P1", 0.1), ("P2", 0.3), ("P3", 0.4), ("P4", 0.2))
HEADER = (
    "id",
    "kind",
    "service",
    "customer",
    "tier",
    "priority",
    "contact",
    "opened",
    "first_response",
    "resolved",
    "closed",
    "engineer",
    "status",
    "reopen_count",
    "transfers",
)
TICKETS_PER_REGION_WEEK = 90
FMT = "%Y-%m-%d %H:%M"


def _quality(service: str, region: str, rng: random.Random) -> dict[str, float]:
    """Response / resolution medians (minutes) and rates: good by default, planted cells extreme."""
    if (service, region) == PLANTED["watermelon"]:
        return {"response": 6, "resolution": 90, "reopen": 0.01, "transfer": 0.05}
    if (service, region) == PLANTED["reverse"]:
        return {"response": 12, "resolution": 380, "reopen": 0.03, "transfer": 0.2}
    return {
        "response": rng.uniform(8, 16),
        "resolution": rng.uniform(120, 260),
        "reopen": 0.04,
        "transfer": 0.15,
    }


def _opened(rng: random.Random, monday: date) -> datetime:
    day = monday + timedelta(days=rng.choices(range(7), weights=(5, 5, 5, 5, 5, 1, 1))[0])
    return datetime.combine(day, time(9)) + timedelta(minutes=rng.randrange(0, 7 * 60))


def _ticket(
    rng: random.Random,
    n: int,
    customer: CustomerOrg,
    service: str,
    tier: str,
    region: str,
    monday: date,
    now_local: datetime,
) -> list[str] | None:
    q = _quality(service, region, rng)
    # network faults are more often major ones
    weights = (0.3, 0.4, 0.2, 0.1) if service == "NET" else [w for _, w in PRIORITIES]
    priority = rng.choices([p for p, _ in PRIORITIES], weights=weights)[0]
    opened = _opened(rng, monday)
    if (service, region) == PLANTED["reverse"] and priority == "P1":
        # a working-day morning, so the slow resolution is slow in covered hours too
        opened = datetime.combine(monday + timedelta(days=rng.randrange(5)), time(9, rng.randrange(60)))
    if opened >= now_local - timedelta(hours=1):
        return None
    response = opened + timedelta(minutes=max(1.0, rng.lognormvariate(0, 0.6) * q["response"]))
    resolution_median = q["resolution"] * (0.6 if priority == "P1" and service != "NET" else 1.0)
    if (service, region) == PLANTED["reverse"] and priority == "P1":
        resolution_median = 390
    resolved = response + timedelta(minutes=max(5.0, rng.lognormvariate(0, 0.35) * resolution_median))
    still_open = resolved > now_local or (now_local - opened < timedelta(days=2) and rng.random() < 0.3)
    status = "in_progress" if still_open else ("closed" if rng.random() < 0.9 else "resolved")
    first = response if response < now_local else None
    return [
        f"DEMO-{n:06d}",
        "incident" if rng.random() < 0.7 else "request",
        service,
        customer.code,
        tier,
        priority,
        f"{customer.code.lower()}.{rng.randint(1, 4)}@customer.example",
        opened.strftime(FMT),
        first.strftime(FMT) if first else "",
        "" if still_open else resolved.strftime(FMT),
        (resolved + timedelta(hours=4)).strftime(FMT) if status == "closed" else "",
        f"工程师{region}{rng.randint(1, 6):02d}",
        status,
        "1" if rng.random() < q["reopen"] else "0",
        "1" if rng.random() < q["transfer"] else "0",
    ]


def _rows(session: Session, ctx: DemoContext, now_local: datetime) -> list[list[str]]:
    rng = random.Random(ctx.seed + 6)
    subs: dict[int, list[tuple[str, str]]] = {}
    for sub in session.scalars(select(Subscription).order_by(Subscription.id)):
        if sub.service.code in REACTIVE:
            subs.setdefault(sub.customer_id, []).append((sub.service.code, sub.tier.code if sub.tier else ""))
    regions = {r.id: r.code for r in session.scalars(select(Region))}
    customers = list(session.scalars(select(CustomerOrg).order_by(CustomerOrg.code)))
    rows: list[list[str]] = []
    n = 0
    for week in range(ctx.total_weeks + 1):
        monday = ctx.first_week_start + timedelta(weeks=week)
        for customer in customers:
            offers = subs.get(customer.id) or [("SD", "")]
            for _ in range(ctx.count(week, TICKETS_PER_REGION_WEEK // 3)):
                service, tier = rng.choice(offers)
                n += 1
                row = _ticket(rng, n, customer, service, tier, regions[customer.region_id], monday, now_local)
                if row is not None:
                    rows.append(row)
    return rows


def _breaching(session: Session, now_local: datetime) -> list[list[str]]:
    """Open P1 network incidents in Sichuan, unresolved for two working days: they escalate."""
    customers = session.scalars(
        select(CustomerOrg)
        .join(Region)
        .where(Region.code == PLANTED["reverse"][1])
        .order_by(CustomerOrg.code)
    ).all()
    rows = []
    for i, customer in enumerate(c for c in customers if c.code.endswith(("BANK", "GRID"))):
        opened = now_local - timedelta(days=2, hours=i + 1)
        rows.append(
            [
                f"DEMO-ESC-{i + 1}",
                "incident",
                "NET",
                customer.code,
                "",
                "P1",
                f"{customer.code.lower()}.1@customer.example",
                opened.strftime(FMT),
                (opened + timedelta(minutes=10)).strftime(FMT),
                "",
                "",
                "网络值班",
                "in_progress",
                "0",
                "1",
            ]
        )
    return rows


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _imported_values(session: Session, ctx: DemoContext) -> None:
    """Weekly KPI values from other systems: call answering (SD) and backup success (BAK)."""
    if session.scalar(select(KpiDefinition).where(KpiDefinition.code == "SD_ANSWER_2RING")) is None:
        save_definition(
            session,
            DefinitionSpec(
                "SD_ANSWER_2RING",
                "两声内接听率",
                "Calls answered by the 2nd ring",
                "%",
                "higher",
                metric="answered_by_2nd_ring_share",
            ),
        )
        save_definition(
            session,
            DefinitionSpec(
                "BAK_SUCCESS",
                "备份成功率",
                "Backup jobs succeeded",
                "%",
                "higher",
                metric="backup_success_share",
            ),
        )
    rng = random.Random(ctx.seed + 7)
    items = []
    for region in session.scalars(select(Region).order_by(Region.code)):
        for week in range(ctx.total_weeks):
            monday = ctx.first_week_start + timedelta(weeks=week)
            label = f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
            answer = rng.uniform(95.0, 99.5) - (3.0 if region.code in ("HN", "LN") else 0.0)
            items.append(
                {
                    "kpi": "SD_ANSWER_2RING",
                    "service": "SD",
                    "region": region.code,
                    "period": label,
                    "value": round(answer, 2),
                    "n": rng.randint(300, 900),
                }
            )
            items.append(
                {
                    "kpi": "BAK_SUCCESS",
                    "service": "BAK",
                    "region": region.code,
                    "period": label,
                    "value": round(rng.uniform(98.5, 100.0), 2),
                    "n": rng.randint(100, 300),
                }
            )
    import_kpi_values(session, ImportOptions(dry_run=False, allow_duplicate=True), items=items)


def load(session: Session, ctx: DemoContext) -> None:
    ctx.shared["planted"] = dict(PLANTED)
    # The demo regions keep the default time zone (demo_org), so their tickets are written on its
    # wall clock; as_of turns that back into the naive UTC the KPI computation compares with.
    wall = Clock(DEFAULT_TIMEZONE).local()
    offset = wall.utcoffset() or timedelta(0)
    end_of_today = datetime.combine(ctx.today, time(23, 59))
    now_local = min(wall.replace(tzinfo=None), end_of_today)
    as_of = now_local - offset
    existing = session.scalar(select(func.count(Ticket.id)).where(Ticket.external_id.like("DEMO-%"))) or 0
    if existing:
        ctx.summary.append(f"Tickets: {existing} demo tickets already present; left as they are.")
        return
    rows = _rows(session, ctx, now_local) + _breaching(session, now_local)
    result = import_tickets(
        session,
        ImportOptions(dry_run=False, allow_duplicate=True),
        data=_csv(rows),
        filename="demo-tickets.csv",
    )
    _imported_values(session, ctx)
    summary = compute_kpis(
        session,
        ctx.first_week_start,
        week_start(ctx.today) + timedelta(weeks=1),
        as_of=as_of,
    )
    fired = check_escalations(session, as_of)
    ctx.summary.append(
        f"Tickets: {result.rows_new} imported, {summary.values} KPI values computed, "
        f"{len(fired)} escalations fired; planted watermelon {PLANTED['watermelon']}, "
        f"reverse {PLANTED['reverse']}."
    )
