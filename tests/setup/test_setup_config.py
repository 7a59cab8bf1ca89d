"""Configuration as code: the demo setup exported, wiped and imported again gives the same
document; import is idempotent and all-or-nothing; problems name the path of the bad field; the
HTML page and the API use the same import."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import delete, func, select

from perception.core.demo import DemoContext
from perception.core.models.audit import AuditEntry
from perception.core.models.auth import User
from perception.core.users import issue_token
from perception.setup import demo as demo_setup
from perception.setup import demo_org
from perception.setup.models.catalog import Service, ServiceTier, Subscription
from perception.setup.models.standards import (
    PerceptionSystem,
    PlanItem,
    ServiceRegion,
    ServiceStandard,
    ServiceStrategy,
    Sla,
    StandardEvent,
    StandardVersion,
    TrainingRecord,
)
from perception.setup.services.config import import_document, load_text
from perception.setup.services.config_export import dump_text, export_document
from perception.setup.services.errors import SetupError
from tests.conftest import login, post_form
from tests.setup import setup_fixtures

world = setup_fixtures.world  # the fixture


@pytest.fixture
def demo(db_session):
    ctx = DemoContext(weeks=8, today=date(2026, 11, 16))
    demo_org.load(db_session, ctx)
    demo_setup.load(db_session, ctx)
    db_session.flush()
    return ctx


def _wipe_setup(session):
    """Remove everything the setup phase owns (organisation and users stay)."""
    session.query(ServiceStandard).update({ServiceStandard.experience_standard_id: None})
    session.query(Sla).update({Sla.supports_sla_id: None})
    for model in (StandardEvent, StandardVersion, ServiceStandard, PlanItem, TrainingRecord, ServiceStrategy,
                  PerceptionSystem, Subscription, ServiceRegion):  # fmt: skip
        session.execute(delete(model))
    for sla in session.scalars(select(Sla)):
        session.delete(sla)
    session.flush()
    session.execute(delete(Service))
    session.execute(delete(ServiceTier))
    session.flush()
    session.expire_all()


def test_import_is_idempotent_then_round_trips(db_session, demo):
    doc = export_document(db_session)
    first = import_document(db_session, doc)
    assert first.changes == 0, "the demo's own export changes nothing"
    entries_before = db_session.scalar(select(func.count()).select_from(AuditEntry))
    second = import_document(db_session, doc)
    assert second.changes == 0
    # Only the explicit "import" audit event is added.
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == entries_before + 1
    # A changed name and a new tier are exactly two changes.
    desk = next(s for s in doc["services"] if s["code"] == "DESK")
    desk["name_en"] = "Desktop and end-user support"
    doc["tiers"].append({"code": "BRONZE", "name_zh": "青铜", "name_en": "Bronze", "rank": 4})
    result = import_document(db_session, doc)
    assert result.changes == 2
    assert (
        db_session.scalar(select(Service.name_en).where(Service.code == "DESK"))
        == "Desktop and end-user support"
    )
    # Round trip: export, wipe the setup, import, export again.
    original = export_document(db_session)
    text = dump_text(original, "yaml")
    assert len(original["standards"]) == len(demo_setup.STANDARDS) and original["slas"]
    _wipe_setup(db_session)
    assert db_session.scalar(select(func.count()).select_from(ServiceStandard)) == 0
    result = import_document(db_session, load_text(text))
    assert result.changes > 0
    again = export_document(db_session)
    assert again == original
    gold = next(s for s in again["standards"] if s["code"] == "DESK-RESP-P1-GOLD")
    assert [v["status"] for v in gold["versions"]] == ["superseded", "confirmed"]
    # JSON text round-trips to the same document as well.
    assert load_text(dump_text(again, "json")) == json.loads(json.dumps(original))


def test_import_is_all_or_nothing_and_names_every_bad_path(db_session, demo):
    doc = export_document(db_session)
    doc["tiers"].append({"code": "BRONZE", "name_zh": "青铜", "name_en": "Bronze", "rank": 4})
    doc["services"][2]["kind"] = "sometimes"
    doc["standards"][3]["versions"][0]["target"] = "high"
    doc["slas"][0]["covered_hours"] = "weekdays"
    doc["plan"].append(
        {"service": "NOPE", "means": "questionnaire", "frequency": "monthly", "sample_size": 5}
    )
    doc["colour"] = "blue"
    doc["collection_points"][1]["active_from"] = "2026-13-01"
    with pytest.raises(SetupError) as err:
        import_document(db_session, doc)
    paths = {p.field for p in err.value.problems}
    assert {
        "services[2].kind",
        "standards[3].versions[0].target",
        "slas[0].covered_hours",
        "colour",
        "collection_points[1].active_from",
    } <= paths
    assert (
        db_session.scalar(select(func.count()).select_from(ServiceTier).where(ServiceTier.code == "BRONZE"))
        == 0
    )
    _confirmed_versions_cannot_be_rewritten_or_forged(db_session)


def test_reference_problems_roll_back_everything(db_session, world):
    doc = {
        "format": "perception-setup/1",
        "tiers": [{"code": "BRONZE", "name_zh": "青铜", "name_en": "Bronze", "rank": 4}],
        "plan": [{"service": "NOPE", "means": "questionnaire", "frequency": "monthly", "sample_size": 5}],
    }
    with pytest.raises(SetupError) as err:
        import_document(db_session, doc)
    assert [p.field for p in err.value.problems] == ["plan[0].service"]
    assert (
        db_session.scalar(select(func.count()).select_from(ServiceTier).where(ServiceTier.code == "BRONZE"))
        == 0
    )


def _confirmed_versions_cannot_be_rewritten_or_forged(db_session):
    doc = export_document(db_session)
    std = next(s for s in doc["standards"] if s["code"] == "SD-ANSWER")
    std["versions"][0]["target"] = 0.5
    with pytest.raises(SetupError) as err:
        import_document(db_session, doc)
    assert err.value.problems[0].field.endswith("versions[0]")
    forged = export_document(db_session)
    std = next(s for s in forged["standards"] if s["code"] == "SD-ANSWER")
    extra = dict(std["versions"][0], version=2, target=0.97, customer_confirmed_by="analyst", events=[])
    std["versions"][0]["status"] = "superseded"
    std["versions"].append(extra)
    with pytest.raises(SetupError) as err:
        import_document(db_session, forged)
    assert any(p.field.endswith("versions[1].customer_confirmed_by") for p in err.value.problems)


def test_dry_run_changes_nothing(db_session, world):
    doc = {
        "format": "perception-setup/1",
        "tiers": [{"code": "X", "name_zh": "X", "name_en": "X", "rank": 9}],
    }
    result = import_document(db_session, doc, dry_run=True)
    assert result.changes == 1 and result.dry_run
    assert (
        db_session.scalar(select(func.count()).select_from(ServiceTier).where(ServiceTier.code == "X")) == 0
    )


def test_import_page_export_download_and_api(db_session, demo, app, client, make_user):
    make_user("boss", "system_owner")
    c = app.test_client()
    login(c, "boss")
    exported = c.get("/setup/config/export?format=yaml")
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert load_text(exported.data)["format"] == "perception-setup/1"
    bad = "format: perception-setup/1\ntiers:\n  - code: B\n    name_zh: 铜\n    rank: zero\n"
    response = post_form(c, "/setup/config/import", {"text": bad}, token_from="/setup/config")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "tiers[0].name_en" in html and "tiers[0].rank" in html
    good = "format: perception-setup/1\ntiers:\n  - {code: B, name_zh: 铜, name_en: Bronze, rank: 5}\n"
    response = post_form(c, "/setup/config/import", {"text": good}, token_from="/setup/config")
    assert response.status_code == 200 and "Imported: 1 changes." in response.get_data(as_text=True)
    assert db_session.scalar(select(ServiceTier.name_en).where(ServiceTier.code == "B")) == "Bronze"
    actions = set(db_session.scalars(select(AuditEntry.action)))
    assert {"import", "export"} <= actions
    _, secret = issue_token(db_session, db_session.scalar(select(User).where(User.username == "boss")), "t")
    headers = {"Authorization": f"Bearer {secret}"}
    doc = client.get("/api/v1/setup/export", headers=headers).get_json()
    assert doc["format"] == "perception-setup/1"
    response = client.post("/api/v1/setup/import", json=doc, headers=headers)
    assert response.status_code == 200 and response.get_json()["changes"] == 0
    assert client.get("/api/v1/setup/export?format=yaml", headers=headers).mimetype == "application/x-yaml"
    doc["services"][0]["kind"] = "never"
    response = client.post("/api/v1/setup/import?dry_run=1", json=doc, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "services[0].kind"
    _, analyst = issue_token(db_session, make_user("ann", "analyst"), "t")
    assert (
        client.get("/api/v1/setup/export", headers={"Authorization": f"Bearer {analyst}"}).status_code == 403
    )
