"""Issue 16, done when: six months of generated history (tickets, survey answers, weekly reports,
callbacks) loaded ONLY through the history imports, and the trend, the drop check, the completeness
board and the review period computed from the real dates. The expected figures are counted by hand
from the generated rows, not read back from the product."""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta
from typing import Any

from perception.analysis.services.alert_checks import check_experience_drops
from perception.analysis.services.facts import aggregate
from perception.analysis.services.filters import AnalysisFilters
from perception.analysis.services.overview import OVERVIEW_KINDS, trend_points
from perception.collection.services.board import Completeness, completeness
from perception.core.clock import DEFAULT_TIMEZONE
from perception.kpi.services.ticket_import import ImportOptions, import_tickets
from perception.review.models import ImprovementMetric
from perception.review.services.periods import parse_periods, period_for
from perception.review.services.results import MetricScope, sample

FIRST = date(2026, 1, 5)  # a Monday; 26 weeks to 2026-06-29 (the first half of 2026)
WEEKS = 26


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _history(rng: random.Random) -> dict[str, Any]:
    """Generated rows and the counts a person would make of them (csat answers per week, top-2)."""
    answers, tickets, reports, calls = [], [], [], []
    per_week: dict[date, list[int]] = {}
    per_day: list[tuple[date, int]] = []
    for w in range(WEEKS):
        monday = FIRST + timedelta(weeks=w)
        for region in ("R1", "R2"):
            good = 0.3 if (region == "R1" and w == WEEKS - 1) else 0.85  # R1's last week collapses
            for k in range(40):
                csat = rng.choice((4, 5)) if rng.random() < good else rng.choice((1, 2, 3))
                moment = datetime.combine(monday + timedelta(days=k % 5), datetime.min.time()) + timedelta(
                    hours=9 + k % 8
                )
                answers.append(
                    [
                        f"S-{region}-{w}-{k}",
                        moment.strftime("%Y-%m-%d %H:%M"),
                        "zh",
                        f"{region}-C",
                        csat,
                        "slow_response" if csat <= 2 else "",
                        rng.randint(1, 7),
                        "",
                    ]
                )
                per_week.setdefault(monday, []).append(csat)
                per_day.append((moment.date(), csat))
            for k in range(5):
                opened = datetime.combine(monday, datetime.min.time()) + timedelta(days=k, hours=9)
                tickets.append(
                    [
                        f"T-{region}-{w}-{k}",
                        "DESK",
                        f"{region}-C",
                        "P3",
                        opened.strftime("%Y-%m-%d %H:%M"),
                        (opened + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M"),
                        (opened + timedelta(hours=6)).strftime("%Y-%m-%d %H:%M"),
                        "closed",
                    ]
                )
            reports.append(
                [
                    f"CP-{region}",
                    monday.isoformat(),
                    f"{monday + timedelta(days=4)} 17:00",
                    "accepted",
                    "feedback",
                    f"{region}-C",
                    "DESK",
                    "response_speed",
                    rng.randint(3, 5),
                    "visit",
                    "每周反馈",
                ]
            )
        for k in range(2):  # two completed callbacks a week in R1
            csat = rng.randint(3, 5)
            calls.append(
                [
                    f"CB-{w}-{k}",
                    f"{monday + timedelta(days=2)} 1{k}:00",
                    "completed",
                    "R1-C",
                    "DESK",
                    "yes",
                    "yes",
                    csat,
                ]
            )
            per_week[monday].append(csat)
            per_day.append((monday + timedelta(days=2), csat))
    return {
        "answers": answers,
        "tickets": tickets,
        "reports": reports,
        "calls": calls,
        "per_week": per_week,
        "per_day": per_day,
    }


def test_six_months_loaded_through_the_imports_give_trends_drops_and_the_review_period(
    db_session: Any, org: dict[str, Any], make_user: Any
) -> None:
    from perception.collection.services import callbacks
    from perception.collection.services.callback_history import import_callbacks
    from perception.collection.services.report_history import import_reports
    from perception.setup.models.catalog import Service
    from perception.surveys.services.campaigns import create_campaign
    from perception.surveys.services.definitions import ensure_builtin_surveys
    from perception.surveys.services.history_import import import_responses

    db_session.add(Service(code="DESK", name_zh="服务台", name_en="Service desk"))
    db_session.flush()
    versions = ensure_builtin_surveys(db_session)
    data = _history(random.Random(16))
    apply = ImportOptions(dry_run=False)

    tickets = import_tickets(
        db_session,
        apply,
        data=_csv(
            ["id", "service", "customer", "priority", "opened", "resolved", "closed", "status"],
            data["tickets"],
        ),
    )
    assert tickets.rows_new == WEEKS * 2 * 5
    campaign = create_campaign(
        db_session,
        {
            "code": "HIST-CSAT",
            "name_zh": "历史满意度",
            "name_en": "Past CSAT",
            "version_id": versions["csat_transactional"].id,
            "channel": "personal",
            "region_id": None,
            "opens_at": datetime(2026, 1, 1),
            "closes_at": datetime(2026, 7, 1),
        },
        None,
    )
    answers = import_responses(
        db_session,
        campaign,
        apply,
        org_timezone=DEFAULT_TIMEZONE,
        data=_csv(
            ["source_id", "submitted_at", "language", "customer", "csat", "low_reasons", "ces", "improve"],
            data["answers"],
        ),
    )
    assert answers.rows_new == WEEKS * 2 * 40
    reports = import_reports(
        db_session,
        apply,
        data=_csv(
            [
                "collection_point",
                "week",
                "submitted_at",
                "status",
                "kind",
                "customer",
                "service",
                "dimension",
                "rating",
                "means",
                "text",
            ],
            data["reports"],
        ),
    )
    assert reports.rows_new == WEEKS * 2
    queue = callbacks.create_campaign(
        db_session,
        region_id=org["R1"]["region"].id,
        name="历史回访",
        survey_version_id=versions["phone_callback"].id,
        user=None,
        start=FIRST,
        end=FIRST + timedelta(weeks=WEEKS),
        sampling_rate=1.0,
        seed="h",
    )
    calls = import_callbacks(
        db_session,
        queue,
        apply,
        org_timezone=DEFAULT_TIMEZONE,
        data=_csv(
            ["source_id", "called_at", "outcome", "customer", "service", "resolved", "on_time", "csat"],
            data["calls"],
        ),
    )
    assert calls.rows_new == WEEKS * 2

    # The trend: one point per real week, each with that week's answers (survey and callback).
    filters = AnalysisFilters(start=FIRST, end=FIRST + timedelta(weeks=WEEKS))
    cells = aggregate(db_session, filters, kinds=OVERVIEW_KINDS, use_rollup=False)
    trend = trend_points(cells, filters)
    assert [p.period for p in trend] == sorted(data["per_week"])
    for point in trend:
        values = data["per_week"][point.period]
        assert point.csat is not None and point.csat.n == len(values)
        assert abs(point.csat.estimate - sum(v >= 4 for v in values) / len(values)) < 1e-12

    # The drop: R1's last weeks are flagged against the eight weeks before, R2 is not (the change
    # rule looks at complete weeks only: the look is made in the week after the last one).
    last_week = FIRST + timedelta(weeks=WEEKS - 1)
    drops = check_experience_drops(db_session, last_week + timedelta(weeks=1))
    assert [d.region_id for d in drops] == [org["R1"]["region"].id]
    assert drops[0].period_start == last_week + timedelta(weeks=1)  # the week of the look

    # The board: every migrated report is on time (submitted the Friday of its week).
    cells_board = completeness(db_session, FIRST, last_week, now=datetime(2026, 12, 1))
    assert len(cells_board) == WEEKS * 2 and {c.state for c in cells_board} == {Completeness.SUBMITTED}

    # The review period: the first half of 2026 holds the answers given up to 30 June (the last
    # week runs into July: those three days belong to the next period), counted by hand.
    period = period_for(last_week, parse_periods("H1,H2"))
    assert (period.code, period.start, period.end) == ("2026-H1", date(2026, 1, 1), date(2026, 7, 1))
    got = sample(db_session, MetricScope(ImprovementMetric.CSAT_SHARE), period.start, period.end)
    every = [v for day, v in data["per_day"] if day < date(2026, 7, 1)]
    assert len(every) < WEEKS * 2 * 40 + WEEKS * 2  # the July days are not in it
    assert (got.n, got.successes) == (len(every), sum(v >= 4 for v in every))
    before = sample(db_session, MetricScope(ImprovementMetric.CSAT_SHARE), date(2025, 7, 1), date(2026, 1, 1))
    assert before.n == 0
