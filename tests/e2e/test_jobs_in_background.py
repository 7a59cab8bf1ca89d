"""Without Redis, long work runs in a background thread of the service, never in the request (the
issue: re-running the text analysis took 20-30 s inside the request, 71 s under gunicorn; a
review PDF 4-17 s inside the POST). The page shows the job's state, its step and progress, and the
result once it is ready; a failed attempt is retried with back-off and a job that keeps failing
says why. The app has a SQLite file of its own: the job's thread reads what the request
committed, as it does in production.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from perception.core.jobs import job
from tests.conftest import PASSWORD, csrf_token

# Serves its own SQLite file whatever the database setting: CI runs it in the SQLite pass only.
pytestmark = pytest.mark.own_sqlite

ATTEMPTS: dict[str, int] = {}


@job("test_fails_first_time")
def fails_first_time(session: Any, key: str, **_: Any) -> str:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] == 1:
        raise RuntimeError("the first attempt fails")
    return "second time lucky"


@job("test_always_fails")
def always_fails(session: Any, **_: Any) -> None:
    raise ValueError("the mail server refused the message")


@pytest.fixture
def background(tmp_path, monkeypatch):
    from perception import create_app
    from perception.core import users
    from perception.core.extensions import db
    from perception.core.jobs.runner import stop_threads
    from perception.core.models.auth import Role
    from perception.core.transaction import unit_of_work

    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(tmp_path))
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'background.sqlite'}",
            "SECRET_KEY": "test-secret-key-which-is-long-enough-0123456789",
            "SERVER_NAME": None,
            "REDIS_URL": None,
            "JOBS_BACKGROUND": True,
            "JOB_RETRY_BASE_SECONDS": 0.2,
            "JOB_SWEEP_SECONDS": 0.2,
            "MAIL_BACKEND": "file",
        }
    )
    with app.app_context():
        db.create_all()
        with unit_of_work() as session:
            owner = users.create_user(
                session,
                users.UserSpec(
                    username="owner",
                    display_name="Owner",
                    roles=frozenset({Role.SYSTEM_OWNER}),
                    password=PASSWORD,
                ),
            )
            app.owner_id = owner.id
    from perception.core.jobs.runner import start_sweeper

    start_sweeper(app)  # a served app starts it with its first job; a test app is told to
    client = app.test_client()
    response = client.post(
        "/login", data={"username": "owner", "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    yield app, client
    stop_threads(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def progress(monkeypatch):
    """Every progress report a job makes, as (step, done, total), while the real one is stored."""
    from perception.core.jobs.progress import Heartbeat

    seen: list[tuple[str, int, int]] = []
    real = Heartbeat.report

    def spy(self, step, done, total):
        seen.append((step, done, total))
        real(self, step, done, total)

    monkeypatch.setattr(Heartbeat, "report", spy)
    return seen


def _job_url(html: str) -> str:
    match = re.search(r'data-job-url="([^"]+)"', html)
    assert match, "the page shows no job state"
    return match.group(1).replace("&amp;", "&")


def _until_finished(client, url: str, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(url).get_json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"the job did not finish: {state}")


def _post(client, path: str, data: dict[str, str], token_from: str) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def test_the_review_pdf_is_made_in_the_background_with_progress(background, progress):
    app, client = background
    created = _post(client, "/reviews/ensure", {}, "/reviews")
    assert created.status_code == 302
    review_url = created.headers["Location"]
    review_id = int(review_url.rstrip("/").rsplit("/", 1)[1])
    asked = _post(client, f"/reviews/{review_id}/pdf", {"lang": "en"}, review_url)
    assert asked.status_code == 302
    page = client.get(review_url).get_data(as_text=True)
    # The request answered before the PDF existed; the page shows the job where the PDF will be.
    assert "not generated yet" not in page.split('id="pdf"', 1)[1].split("</li>", 2)[1]
    state = _until_finished(client, _job_url(page))
    assert state["status"] == "done" and state["attempts"] == 1, state
    assert [step for step, *_ in progress] == ["sections", "rendering"]
    assert progress[-1][1:] == (1, 2)
    ready = client.get(review_url).get_data(as_text=True)
    assert f"/reviews/{review_id}/pdf/en" in ready  # the download link: the result is there
    download = client.get(f"/reviews/{review_id}/pdf/en")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")


def test_the_text_analysis_reruns_in_the_background_with_progress(background, progress):
    app, client = background
    asked = _post(client, "/analysis/demand/run", {"next": "/analysis/demand"}, "/analysis/demand")
    assert asked.status_code == 302
    page = client.get("/analysis/demand").get_data(as_text=True)
    assert "running in the background" in page
    state = _until_finished(client, _job_url(page))
    assert state["status"] == "done", state
    assert [step for step, *_ in progress] == ["loading", "themes", "training", "predicting", "writing"]
    assert all(total == 5 for *_, total in progress)
    again = client.get("/analysis/demand").get_data(as_text=True)
    assert "The text analysis has not run yet." not in again  # the run is there


def _enqueue_as_request(app, name: str, **kwargs: Any) -> str:
    from perception.core.jobs import enqueue
    from perception.core.transaction import unit_of_work

    with app.test_request_context(method="POST"), unit_of_work():
        return enqueue(name, job_requested_by=app.owner_id, **kwargs)


def test_the_job_page_shows_the_step_and_a_progress_bar_while_it_runs(background):
    app, client = background
    job_id = _enqueue_as_request(app, "probe", steps=6, seconds=0.4)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = client.get(f"/jobs/{job_id}?next=/reviews")
        html = page.get_data(as_text=True)
        if re.search(r'<progress max="6" value="[1-5]"', html):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("no progress bar seen mid-job")
    assert "Checking the worker" in html and '<meta http-equiv="refresh" content="3">' in html  # no JS needed
    zh = client.get(f"/jobs/{job_id}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and zh.status_code == 200
    finished = _until_finished(client, f"/jobs/{job_id}?format=json")
    assert finished["status"] == "done" and finished["done"] == 6
    html = client.get(f"/jobs/{job_id}?next=/reviews").get_data(as_text=True)
    assert "http-equiv" not in html and 'href="/reviews"' in html  # stops refreshing; the way back


def test_a_failed_attempt_is_retried_with_back_off_and_a_hopeless_job_says_why(background):
    app, client = background
    lucky = _enqueue_as_request(app, "test_fails_first_time", key="a")
    state = _until_finished(client, f"/jobs/{lucky}?format=json", 60)
    assert state["status"] == "done" and state["attempts"] == 2 and state["retries"] == 1
    assert "the first attempt fails" in state["error"]

    hopeless = _enqueue_as_request(app, "test_always_fails")
    state = _until_finished(client, f"/jobs/{hopeless}?format=json", 60)
    assert state["status"] == "failed" and state["attempts"] == 3 and state["retries"] == 2
    assert state["error"] == "ValueError: the mail server refused the message"
    page = client.get(f"/jobs/{hopeless}").get_data(as_text=True)
    assert "Failed" in page and "retried 2 times" in page and "the mail server refused the message" in page
    assert "Traceback" not in page


def test_only_the_user_who_asked_or_who_may_see_the_result_sees_a_job(background):
    from perception.core import users
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.core.transaction import unit_of_work

    app, client = background
    job_id = _enqueue_as_request(app, "test_always_fails")
    with app.app_context(), unit_of_work() as session:
        users.create_user(
            session,
            users.UserSpec(
                username="mkt", display_name="Mkt", roles=frozenset({Role.MARKET}), password=PASSWORD
            ),
        )
    other = app.test_client()
    other.post("/login", data={"username": "mkt", "password": PASSWORD, "csrf_token": csrf_token(other)})
    assert other.get(f"/jobs/{job_id}").status_code == 404
    assert other.get(f"/jobs/{job_id}?format=json").status_code == 404
    assert app.test_client().get(f"/jobs/{job_id}").status_code in (302, 401)
    _until_finished(client, f"/jobs/{job_id}?format=json", 60)
    with app.app_context():
        db.session.remove()


def test_opening_a_review_has_its_slow_sections_computed_ahead_for_the_next_opening(background):
    from sqlalchemy import select

    from perception.core.extensions import db
    from perception.core.jobs import latest_for
    from perception.review.models import ReviewSectionCache
    from perception.review.page_cache import STORED

    app, client = background
    review_url = _post(client, "/reviews/ensure", {}, "/reviews").headers["Location"]
    review_id = int(review_url.rstrip("/").rsplit("/", 1)[1])
    first = client.get(review_url)  # the slow sections say they are being computed, and are asked for
    assert first.status_code == 200 and 'data-state="pending"' in first.get_data(as_text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with app.app_context():
            found = latest_for(f"review_page:{review_id}")
            status = found.status if found else None
            db.session.remove()
        if status == "done":
            break
        time.sleep(0.1)
    assert status == "done"
    with app.app_context():
        codes = db.session.scalars(
            select(ReviewSectionCache.code).where(ReviewSectionCache.review_id == review_id)
        ).all()
        db.session.remove()
    assert sorted(codes) == sorted(STORED)
    second = client.get(review_url)
    assert second.status_code == 200 and 'data-state="current"' in second.get_data(as_text=True)


def test_a_webhook_to_a_slow_receiver_never_holds_up_the_request(background):
    """Session 4 left a doubt: without Redis a webhook was sent after the commit inside the request,
    so the response could wait up to the 5 s timeout. The receiver here holds its answer until the
    request has finished: were the delivery still in the request, the request would finish only
    after the receiver gave up waiting, and ``answered_before_the_request_ended`` would be set."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from flask import Response

    from perception.core.extensions import db, orm
    from perception.core.models.webhooks import WebhookDelivery, WebhookSubscription
    from perception.core.webhooks import emit, new_secret

    app, _client = background
    request_ended = threading.Event()
    flags: dict[str, bool] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            self.rfile.read(int(self.headers["Content-Length"]))
            flags["answered_before_the_request_ended"] = not request_ended.wait(timeout=15)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with app.app_context():
            subscription = WebhookSubscription(
                url=f"http://127.0.0.1:{server.server_address[1]}/hook",
                event_types=["alert.raised"],
                secret=new_secret(),
            )
            db.session.add(subscription)
            db.session.commit()
        with app.test_request_context("/anything", method="POST"):
            app.preprocess_request()  # the request's transaction, as a view would have it
            (delivery_id,) = emit(orm(), "alert.raised", {"alert": 1})
            app.process_response(Response(status=204))  # commit, then the after-commit hooks
            request_ended.set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with app.app_context():
                status = db.session.get(WebhookDelivery, delivery_id).status
                db.session.remove()
            if status == "delivered":
                break
            time.sleep(0.1)
        assert status == "delivered", "the delivery timed out: it was sent inside the request"
        assert flags == {"answered_before_the_request_ended": False}
    finally:
        server.shutdown()
        server.server_close()
