"""One transaction per request, CLI command and job (perception.core.transaction), on a real
SQLite file: what is committed, what is rolled back, and when the hooks run."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select


@pytest.fixture
def wired(tmp_path, monkeypatch):
    """An app of its own with a few routes that exercise the mechanism."""
    from flask import abort

    from perception import create_app
    from perception.core.errors import UserError
    from perception.core.extensions import db, orm
    from perception.core.models.jobs import ScheduledRun
    from perception.core.transaction import after_commit, atomic, write_afterwards, writes

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app(
        {"TESTING": True, "STRICT_READERS": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/t.sqlite"}
    )
    app.config.update(WTF_CSRF_ENABLED=False, PROPAGATE_EXCEPTIONS=True)
    events: list[str] = []

    def add(slot: str) -> None:
        orm().add(ScheduledRun(job_name="t", slot=slot))
        orm().flush()

    def ok() -> Any:
        add("ok")
        after_commit(lambda: events.append("mail ok"))
        return "fine"

    def refused() -> Any:
        add("refused")
        after_commit(lambda: events.append("mail refused"))
        write_afterwards(lambda session: session.add(ScheduledRun(job_name="t", slot="audit of refusal")))
        abort(403)

    def invalid() -> Any:
        add("invalid")
        raise UserError.one("slot", "无效", "invalid")

    def form_problem() -> Any:
        try:
            with atomic():
                add("failed step")
                after_commit(lambda: events.append("mail of the failed step"))
                raise UserError.one("slot", "无效", "invalid")
        except UserError:
            add("after the problem")
        return "form shown again"

    def reader_that_writes() -> Any:
        add("sneaky")
        return "no"

    def static_page() -> Any:
        return "nothing read"

    @writes
    def export() -> Any:
        add("export audit")
        return "csv"

    for name, view, methods in (
        ("ok", ok, ["POST"]),
        ("refused", refused, ["POST"]),
        ("invalid", invalid, ["POST"]),
        ("form_problem", form_problem, ["POST"]),
        ("reader", reader_that_writes, ["GET"]),
        ("export", export, ["GET"]),
        ("static_page", static_page, ["GET", "POST"]),
    ):
        app.add_url_rule(f"/t/{name}", name, view, methods=methods)
    with app.app_context():
        db.create_all()

    def slots() -> list[str]:
        with app.app_context():
            found = sorted(db.session.scalars(select(ScheduledRun.slot)))
            db.session.remove()
            return found

    yield app, events, slots
    with app.app_context():
        db.engine.dispose()


def test_a_good_request_commits_once_and_then_runs_its_hooks(wired):
    app, events, slots = wired
    assert app.test_client().post("/t/ok").status_code == 200
    assert slots() == ["ok"] and events == ["mail ok"]


def test_a_request_that_touched_no_table_does_not_commit(wired):
    """No empty commit (the thank-you page reads nothing): the ORM's commit machinery is not run;
    a request that did touch a table still commits."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    app, events, slots = wired
    commits: list[object] = []

    def count(session: Session) -> None:
        commits.append(session)

    event.listen(Session, "after_commit", count)
    try:
        assert app.test_client().get("/t/static_page").status_code == 200
        assert app.test_client().post("/t/static_page").status_code == 200
        assert commits == []
        assert app.test_client().post("/t/ok").status_code == 200
        assert len(commits) == 1
    finally:
        event.remove(Session, "after_commit", count)
    assert slots() == ["ok"] and events == ["mail ok"]


def test_a_refused_request_rolls_back_but_keeps_its_afterwards_write(wired):
    app, events, slots = wired
    assert app.test_client().post("/t/refused").status_code == 403
    assert slots() == ["audit of refusal"] and events == []


def test_a_user_error_answers_422_and_stores_nothing(wired):
    app, events, slots = wired
    response = app.test_client().post("/t/invalid", headers={"Accept": "application/json"})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert response.get_json()["errors"][0]["field"] == "slot"
    assert slots() == []


def test_atomic_undoes_the_failed_step_and_its_hooks_only(wired):
    app, events, slots = wired
    assert app.test_client().post("/t/form_problem").status_code == 200
    assert slots() == ["after the problem"] and events == []


def test_a_reading_request_may_not_write_unless_marked(wired):
    from perception.core.transaction import ReaderWrote

    app, events, slots = wired
    with pytest.raises(ReaderWrote, match="reader"):
        app.test_client().get("/t/reader")
    assert slots() == []
    assert app.test_client().get("/t/export").status_code == 200
    assert slots() == ["export audit"]


def test_unit_of_work_commits_or_rolls_back(wired):
    from perception.core.extensions import db
    from perception.core.models.jobs import ScheduledRun
    from perception.core.transaction import after_commit, unit_of_work

    app, events, slots = wired
    with app.app_context():
        with unit_of_work() as session:
            session.add(ScheduledRun(job_name="t", slot="cli"))
            after_commit(lambda: events.append("after cli"))
            assert events == []
        with pytest.raises(RuntimeError), unit_of_work() as session:
            session.add(ScheduledRun(job_name="t", slot="failed job"))
            after_commit(lambda: events.append("after failed job"))
            raise RuntimeError("job failed")
        assert db.session.scalar(select(func.count(ScheduledRun.id))) == 1
    assert slots() == ["cli"] and events == ["after cli"]
