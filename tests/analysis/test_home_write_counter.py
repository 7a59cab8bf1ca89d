"""Issue 19: the manager home's headline cache was keyed by one query scanning eight weeks of facts on
every load. Now its key is a write counter (kpi.services.data_version): every committed transaction
that wrote the data the headline reads bumps it, whatever the path (ORM flush, Core statement, the
driver's own executemany); a rolled-back transaction, or one writing other tables, does not."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

import perception.analysis.home as home
from perception.core.clock import Clock
from perception.core.extensions import db
from perception.core.models.audit import AuditEntry
from perception.core.models.facts import ExperienceObservation
from perception.core.models.org import Region
from perception.kpi.models import DataVersion
from perception.kpi.services.data_version import HEADLINE, read_version
from perception.surveys.services.history_bulk import insert_rows

CLOCK = Clock(fixed_now=datetime(2026, 3, 30, 4, 0))  # Monday of W14: W10-W13 complete


def _committed(app) -> int:
    with app.app_context(), Session(db.engine) as session:
        return int(session.scalar(select(DataVersion.n).where(DataVersion.name == HEADLINE)) or 0)


@pytest.fixture
def committing(app):
    """Sessions that really commit (the usual db_session never does); their rows are removed after."""
    codes: list[str] = []
    yield codes
    with app.app_context(), Session(db.engine) as session:
        ids = list(session.scalars(select(Region.id).where(Region.code.in_(codes))))
        if ids:
            session.execute(delete(ExperienceObservation).where(ExperienceObservation.region_id.in_(ids)))
            session.execute(delete(Region).where(Region.id.in_(ids)))
            # The ORM insert was audited and committed: SQLite hands a deleted region's id out
            # again, and a later test would find this region's "create" entry under its own id.
            session.execute(
                delete(AuditEntry).where(
                    AuditEntry.object_type == "Region", AuditEntry.object_id.in_([str(i) for i in ids])
                )
            )
        session.commit()


def test_every_write_path_bumps_the_counter_once_per_commit(app, committing):
    before = _committed(app)
    with app.app_context(), Session(db.engine) as session:
        committing.append("WC1")
        session.add(Region(code="WC1", name_zh="计数", name_en="Counter"))  # an ORM flush
        session.flush()
        region_id = session.scalar(select(Region.id).where(Region.code == "WC1"))
        session.execute(update(Region).where(Region.id == region_id).values(name_en="Counted"))  # Core
        session.commit()
    assert _committed(app) == before + 1  # one transaction, one bump

    with app.app_context(), Session(db.engine) as session:
        session.add(Region(code="WC2", name_zh="回滚", name_en="Rolled back"))
        session.flush()
        session.rollback()
    assert _committed(app) == before + 1  # nothing committed, nothing bumped

    with app.app_context(), Session(db.engine) as session:
        session.execute(
            text("UPDATE ticket SET transfers = transfers WHERE id < 0")
        )  # not read by the headline
        session.commit()
    assert _committed(app) == before + 1

    # A survey history import: on SQLite through the driver's own executemany (history_bulk).
    row = {
        "source": "survey", "source_id": 987654, "observed_on": date(2026, 3, 3),
        "period_start": date(2026, 3, 2), "region_id": region_id, "customer_id": None, "service_id": None,
        "kind": "csat", "dimension": None, "item": "csat", "value": 5.0, "scale_min": 1.0, "scale_max": 5.0,
    }  # fmt: skip
    with app.app_context(), Session(db.engine) as session:
        insert_rows(session.connection(), ExperienceObservation.__table__, [row])  # type: ignore[arg-type]
        session.commit()
    assert _committed(app) == before + 2

    with app.app_context(), Session(db.engine) as session:
        session.execute(insert(ExperienceObservation.__table__), [{**row, "source_id": 987655}])
        assert read_version(session, HEADLINE)[0] == before + 2  # not committed yet: the same count
        assert read_version(session, HEADLINE)[1:] != (0, 0)  # ... but this transaction's own key
        session.commit()
    assert _committed(app) == before + 3


def _figures(app, db_session, user):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        panel = home.analysis_panel(db_session, user, CLOCK)
    assert panel is not None
    return panel


def test_a_renamed_region_and_a_changed_standard_show_at_once(
    app, db_session, org, catalog, observe, link_kpi, kpi_value, make_user, monkeypatch
):
    """Writers beyond answers and KPI values: a region's name (shown in the watermelon note) and
    a standard version's target (which decides the watermelon)."""
    from perception.setup.models.standards import StandardVersion

    home._kept.forget()
    r1, desk = org["R1"]["region"], catalog["DESK"]
    resp = link_kpi(desk, "RESP", 0.95, "csat_share", 0.85)
    for week in range(4):
        kpi_value(resp, desk, r1, 0.97, 0.95, week=week, n=1000)
        observe(r1, desk, "csat", [5] * 12 + [2] * 13, week=week)
    user = make_user("counter_manager", "manager", region="R1")

    first = _figures(app, db_session, user)
    melons = next(f for f in first.figures if f.label == "Evidenced watermelons")
    assert melons.value == "1" and r1.name_en in (melons.note or "")

    r1.name_en = "Renamed region"
    db_session.flush()
    second = next(f for f in _figures(app, db_session, user).figures if f.label == "Evidenced watermelons")
    assert "Renamed region" in (second.note or "")

    # The experience standard now asks for 40 %: 48 % meets it, so no watermelon any more.
    db_session.execute(
        update(StandardVersion).where(StandardVersion.metric == "csat_share").values(target=0.40)
    )
    third = next(f for f in _figures(app, db_session, user).figures if f.label == "Evidenced watermelons")
    assert third.value == "0"


def test_a_database_without_the_counter_table_still_commits(tmp_path):
    """A migration below the revision that creates data_version writes watched tables too: the
    bump fails alone, in its savepoint, and the migration's writes are kept."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path}/bare.sqlite")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE region (id INTEGER PRIMARY KEY, code TEXT)"))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO region (code) VALUES ('R9')"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT code FROM region")).scalar() == "R9"
    engine.dispose()
