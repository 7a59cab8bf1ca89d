"""An answer is committed by the request's transaction mechanism, once, and the answer POST
starts with its write (the hot path: no SELECT before the write lock, see bench/bench_answer.py).

Its own app on a SQLite file, as in test_race.py: the rolled-back test fixture would hide commits.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

from sqlalchemy import event

from tests.surveys.conftest import seed_personal_link
from tests.surveys.test_race import CSRF, INVITED, NONCE, _app


def test_an_answer_is_committed_once_by_the_request(tmp_path, monkeypatch):
    from perception.core.extensions import db

    path = tmp_path / "answer.sqlite"
    app = _app(f"sqlite:///{path}", tmp_path, monkeypatch, {})
    try:
        token = seed_personal_link(app, *INVITED, days=1)
        client = app.test_client()
        assert client.get(f"/s/t/{token}").status_code == 303
        html = client.get("/s/r").get_data(as_text=True)
        body = {
            "csrf_token": CSRF.search(html).group(1),
            "submission_nonce": NONCE.search(html).group(1),
            "page": "0",
            "csat": "5",
        }
        with app.app_context():
            engine = db.engine
        commits: list[Any] = []
        statements: list[str] = []

        def on_commit(conn: Any) -> None:
            commits.append(conn)

        def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement.lstrip().split()[0].upper())

        event.listen(engine, "commit", on_commit)
        event.listen(engine, "before_cursor_execute", on_execute)
        try:
            done = client.post("/s/r", data=body)
        finally:
            event.remove(engine, "commit", on_commit)
            event.remove(engine, "before_cursor_execute", on_execute)
        assert done.status_code == 303 and done.location.split("?")[0].endswith("/s/done")
        assert len(commits) == 1
        assert statements[0] == "UPDATE"  # consuming the invitation comes first
        # Another connection, outside the app, sees the response and the used invitation.
        with closing(sqlite3.connect(path)) as other:
            assert other.execute("SELECT count(*) FROM survey_response").fetchone() == (1,)
            assert other.execute("SELECT used_at IS NOT NULL FROM survey_invitation").fetchone() == (1,)
    finally:
        with app.app_context():
            db.engine.dispose()
