"""The phases are wired explicitly: a missing or broken phase package stops start-up by name."""

from __future__ import annotations

import sys

import pytest


def _fresh_app(tmp_path):
    from perception import create_app

    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'wiring.sqlite'}"})


def test_a_missing_phase_package_stops_start_up_with_its_name(tmp_path, monkeypatch):
    from perception.core.phase import PhaseMissing

    # None in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "perception.collection", None)
    with pytest.raises(PhaseMissing, match=r"perception\.collection"):
        _fresh_app(tmp_path)


def test_a_phase_whose_parts_do_not_import_stops_start_up(tmp_path, monkeypatch):
    import perception.review
    from perception.core.phase import PhaseMissing

    monkeypatch.setitem(sys.modules, "perception.review.api", None)
    # An earlier app in this process left the submodule on its package: take it away too.
    monkeypatch.delattr(perception.review, "api", raising=False)
    with pytest.raises(PhaseMissing, match=r"perception\.review is incomplete"):
        _fresh_app(tmp_path)


def test_every_phase_is_mounted_in_order(app):
    phases = [phase.name for phase in app.extensions["perception.phases"]]
    assert phases == ["setup", "kpi", "surveys", "collection", "analysis", "review"]
    blueprints = set(app.blueprints)
    assert {"setup", "kpi", "surveys", "public", "collection", "analysis", "review", "api"} <= blueprints


def test_the_demo_parts_and_periodic_jobs_come_from_the_phases(app):
    from perception.core.jobs import JOBS

    parts = [load.__module__ for phase in app.extensions["perception.phases"] for load in phase.demo]
    assert parts[:3] == ["perception.setup.demo_org", "perception.setup.demo", "perception.kpi.demo"]
    assert parts[-1] == "perception.review.demo"
    for item in app.extensions["perception.periodic"]:
        assert item.job in JOBS
