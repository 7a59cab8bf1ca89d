"""Issue 18: a setup import must not put a general standard in force on one representative's word.
A general standard binds every customer subscribed to its service; each must have confirmed it
(perception.setup.services.confirm), in the imported trail or in the stored one."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from sqlalchemy import select

from perception.setup.models.standards import ServiceStandard, VersionStatus
from perception.setup.services import catalog as setup_catalog
from perception.setup.services.config import import_document
from perception.setup.services.config_export import export_document
from perception.setup.services.confirm import confirm, confirm_need, propose
from perception.setup.services.defs import SubscriptionDef
from perception.setup.services.errors import SetupError
from tests.setup import setup_fixtures
from tests.setup.setup_fixtures import agree, make_standard, standard_def

world = setup_fixtures.world  # the fixture
ON = date(2026, 3, 2)


@pytest.fixture
def two_customers(db_session, world):
    """DESK is received by both customers, so a general DESK standard binds both."""
    setup_catalog.save_subscription(db_session, SubscriptionDef("R2-C", "DESK", "GOLD"))
    db_session.flush()
    return world


def _entry(db_session, code):
    doc = export_document(db_session)
    return copy.deepcopy(next(s for s in doc["standards"] if s["code"] == code))


def _import(db_session, *entries):
    return import_document(db_session, {"format": "perception-setup/1", "standards": list(entries)})


def test_import_naming_one_representative_does_not_put_a_general_standard_in_force(db_session, two_customers):
    w = two_customers
    standard = make_standard(db_session, w, standard_def("DESK-ALL"))
    agree(db_session, w, standard, ON, reps=(w.rep1, w.rep2))
    assert standard.versions[-1].status == VersionStatus.CONFIRMED
    entry = _entry(db_session, "DESK-ALL")
    events = entry["versions"][0]["events"]
    assert {e["customer"] for e in events if e["action"] == "customer_confirmed"} == {"R1-C", "R2-C"}

    forged = dict(entry, code="DESK-ONE-REP")
    trail = [e for e in events if e["customer"] != "R2-C"]
    forged["versions"] = [dict(entry["versions"][0], customer_confirmed_by="rep1", events=trail)]
    with pytest.raises(SetupError) as err:
        _import(db_session, forged)
    problem = next(p for p in err.value.problems if p.field == "standards[0].versions[0].status")
    assert "R2-C" in problem.en and "binds 2 customers" in problem.en and "R2-C" in problem.zh
    assert db_session.scalar(select(ServiceStandard).where(ServiceStandard.code == "DESK-ONE-REP")) is None

    honest = dict(entry, code="DESK-BOTH")  # the whole trail: both customers confirmed
    _import(db_session, honest)
    imported = db_session.scalar(select(ServiceStandard).where(ServiceStandard.code == "DESK-BOTH"))
    assert imported.versions[0].status == VersionStatus.CONFIRMED


def test_import_does_not_confirm_a_stored_proposed_version(db_session, two_customers):
    w = two_customers
    standard = make_standard(db_session, w, standard_def("DESK-WAIT"))
    version = standard.versions[-1]
    confirm_need(db_session, version, w.rep1)
    propose(db_session, version, w.owner, accept_without_history=True)
    confirm(db_session, version, w.manager, today=ON)
    confirm(db_session, version, w.rep1, today=ON)  # rep2 has not confirmed yet
    assert version.status == VersionStatus.PROPOSED
    entry = _entry(db_session, "DESK-WAIT")
    entry["versions"][0].update(status="confirmed", effective_from=ON.isoformat())
    entry["versions"][0]["events"].append(
        {"action": "customer_confirmed", "side": "customer", "user": "rep2", "customer": "R2-C",
         "comment": None, "at": None}
    )  # fmt: skip
    with pytest.raises(SetupError) as err:
        _import(db_session, entry)
    assert any(p.field == "standards[0].versions[0].status" and "R2-C" in p.en for p in err.value.problems)
    db_session.refresh(version)
    assert version.status == VersionStatus.PROPOSED
