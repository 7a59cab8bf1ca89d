"""The review PDF: a valid A4 document with contents, the executive summary, the six sections,
the register and the sign-off page; Chinese text extracted back (embedded TrueType font); the
planted watermelon named in it; stored, downloadable with a UTF-8 file name, regenerable."""

from __future__ import annotations

import io
from datetime import date, datetime
from urllib.parse import quote

import pypdf
import pytest

from perception.core.clock import Clock
from perception.reporting.fonts import find_cjk_font
from perception.review.models import ReviewReport
from perception.review.services import register as review_register
from perception.review.services import reports as review_reports
from perception.review.services import signoff as review_signoff
from tests.conftest import post_form, require_component

MELON = "watermelon:DESK|R1"


@pytest.fixture
def signed_h1(db_session, h1, watermelon, make_user):
    owner = make_user("boss", "system_owner")
    owner.display_name = "张体系"
    review_signoff.add_finding(
        db_session,
        h1,
        kind="finding",
        text="北京服务台的响应 KPI 达标，但客户满意度只有 48%。",
        evidence_section="kpi_experience",
        evidence_key=MELON,
        today=date(2026, 6, 20),
    )
    review_register.create_item(
        db_session,
        review_register.ItemInput(title="服务台回访闭环", review_id=h1.id, value=5, effort=2),
        today=date(2026, 6, 20),
    )
    review_signoff.sign(db_session, h1, owner, clock=Clock(fixed_now=datetime(2026, 7, 6, 9)))
    return h1


def _reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def test_english_pdf_structure_and_the_planted_watermelon(db_session, signed_h1):
    report = review_reports.generate_report(db_session, signed_h1, "en", today=date(2026, 7, 6))
    assert report.status == "ready" and report.content.startswith(b"%PDF-")
    reader = _reader(report.content)
    assert len(reader.pages) >= 8 and report.pages == len(reader.pages)
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    texts = [page.extract_text() for page in reader.pages]
    text = "\n".join(texts)
    for heading in (
        "Contents",
        "Executive summary",
        "1. System health",
        "2. Service standards",
        "3. KPI versus experience",
        "4. Demand",
        "5. Previous improvement actions",
        "6. Findings and decisions",
        "Continual improvement register",
        "Sign-off",
    ):
        assert heading in text, heading
    summary_page = next(t for t in texts if "Executive summary" in t and "Contents" not in t)
    assert "Watermelon: Service desk · Beijing" in summary_page  # ranked first by the rule
    assert all("2026 H1" in t for t in texts[1:])  # the period on every page after the cover
    assert all(f"/ {len(texts)}" in t for t in texts[1:])  # page X / Y
    assert "张体系" in text or not find_cjk_font().embedded
    assert "48.0% against a target of 85.0%" in summary_page
    assert "{" not in text  # no unformatted template text anywhere


def test_chinese_text_is_extracted_back(db_session, signed_h1):
    font = find_cjk_font()
    require_component(
        "TrueType CJK font",
        font.embedded,
        "install fonts-wqy-zenhei or set PERCEPTION_CJK_FONT (only the CID fallback)",
    )
    report = review_reports.generate_report(db_session, signed_h1, "zh", today=date(2026, 7, 6))
    text = "\n".join(page.extract_text() for page in _reader(report.content).pages)
    assert "用户感知体系回顾报告" in text and "执行摘要" in text and "签署确认" in text
    assert "服务台" in text and "北京" in text  # the planted watermelon's service and region
    assert "西瓜效应：服务台 · 北京" in text
    assert "北京服务台的响应 KPI 达标" in text  # the reviewers' finding
    assert "服务台回访闭环" in text  # the improvement register


def test_stored_downloadable_and_regenerable(db_session, signed_h1, login_as):
    client = login_as("reviewer")
    assert client.get(f"/reviews/{signed_h1.id}/pdf/zh").status_code == 404  # not generated yet
    response = post_form(
        client, f"/reviews/{signed_h1.id}/pdf", {"lang": "zh"}, token_from=f"/reviews/{signed_h1.id}"
    )
    assert response.status_code == 302
    first = db_session.query(ReviewReport).one()
    first_hash, first_id = first.sha256, first.id
    download = client.get(f"/reviews/{signed_h1.id}/pdf/zh")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF-") and len(_reader(download.data).pages) == first.pages
    disposition = download.headers["Content-Disposition"]
    assert (
        "attachment" in disposition
        and "filename*=UTF-8''" + quote("用户感知体系回顾-2026-H1.pdf") in disposition
    )
    post_form(client, f"/reviews/{signed_h1.id}/pdf", {"lang": "zh"}, token_from=f"/reviews/{signed_h1.id}")
    db_session.expire_all()
    again = db_session.query(ReviewReport).one()
    assert again.id == first_id and again.sha256 and again.source_sha256 == signed_h1.snapshot_sha256
    _ = first_hash


def test_job_runs_in_process_without_redis(db_session, h1, watermelon):
    from perception.core.jobs import run_now

    result = run_now(db_session, "generate_review_pdf", review_id=h1.id, lang="en")
    assert result["status"] == "ready" and result["pages"] >= 8


def test_with_redis_the_job_is_queued_and_its_id_answered(
    db_session, h1, client, make_user, app, monkeypatch
):
    """On Redis, enqueue() sends after the commit (tests/e2e/test_jobs_redis.py); here: the API
    answers 202 with the job's id, and a refused request queues nothing."""
    from perception.core.users import issue_token
    from perception.review import jobs

    queued: list[tuple[str, dict]] = []

    def enqueue(name: str, **kwargs: object) -> str:
        queued.append((name, kwargs))
        return "job-1"

    monkeypatch.setitem(app.config, "REDIS_URL", "redis://queue.invalid/0")
    monkeypatch.setattr(jobs, "enqueue", enqueue)
    _, secret = issue_token(db_session, make_user("rev", "reviewer"), "t")
    auth = {"Authorization": f"Bearer {secret}"}
    response = client.post(f"/api/v1/reviews/{h1.id}/pdf", json={"lang": "en"}, headers=auth)
    assert response.status_code == 202 and response.get_json() == {
        "job_id": "job-1",
        "status": "queued",
        "status_url": "/api/v1/jobs/job-1",
    }
    assert response.headers["Location"] == "/api/v1/jobs/job-1"
    assert [name for name, _ in queued] == ["generate_review_pdf"]
    assert queued[0][1]["review_id"] == h1.id and queued[0][1]["lang"] == "en"
    refused = client.post(f"/api/v1/reviews/{h1.id}/pdf", json={"lang": "fr"}, headers=auth)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "lang"
    assert len(queued) == 1  # nothing queued for a refused request
    missing = client.get(f"/api/v1/reviews/{h1.id}/pdf/en", headers=auth)
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"


def test_api_generates_at_once_and_audits_the_download(db_session, h1, client, make_user):
    from sqlalchemy import select

    from perception.core.models.audit import AuditEntry
    from perception.core.users import issue_token

    _, secret = issue_token(db_session, make_user("rev", "reviewer"), "t")
    auth = {"Authorization": f"Bearer {secret}"}
    made = client.post(f"/api/v1/reviews/{h1.id}/pdf", json={"lang": "en"}, headers=auth)
    assert made.status_code == 200 and made.get_json()["status"] == "ready"
    download = client.get(f"/api/v1/reviews/{h1.id}/pdf/en", headers=auth)
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    summaries = db_session.scalars(
        select(AuditEntry.summary).where(AuditEntry.object_type == "Review", AuditEntry.action == "export")
    ).all()
    assert "download PDF en" in summaries


def test_cli_generates_the_pdf(runner, db_session, h1):
    result = runner.invoke(args=["review", "pdf", h1.code, "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert f"{h1.code} en:" in result.output and "pages" in result.output
    assert db_session.query(ReviewReport).one().status == "ready"
    missing = runner.invoke(args=["review", "pdf", "1999-H1"])
    assert missing.exit_code != 0 and "no review" in missing.output
