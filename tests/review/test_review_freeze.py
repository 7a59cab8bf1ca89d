"""The review workspace: live while open, frozen at the system owner's sign-off (data changed
afterwards alters neither the page nor the PDF), read only once signed, countersigned by a customer
representative, findings linked to evidence."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pypdf
import pytest
from sqlalchemy import func, select

from perception.api.errors import PROBLEM_JSON
from perception.core.clock import Clock
from perception.review.models import ReviewFinding
from perception.review.services import reports as review_reports
from perception.review.services import signoff as review_signoff
from perception.review.services.errors import ReviewError
from perception.review.services.sections import compute_content, content_for, section_of
from tests.conftest import post_form

MELON = "watermelon:DESK|R1"
TODAY = date(2026, 7, 2)
SIGNED = Clock(fixed_now=datetime(2026, 7, 6, 9, 0))


def _melon_facts(content):
    return section_of(content, "kpi_experience")["facts"]["watermelons"]


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_open_review_is_live(db_session, h1, watermelon, observe):
    before = _melon_facts(compute_content(db_session, h1, today=date(2026, 7, 2)))
    assert [f["key"] for f in before] == [MELON] and before[0]["evidenced"]
    observe(watermelon["r1"], watermelon["desk"], "csat", [5] * 400, day=date(2026, 4, 6))
    after = _melon_facts(compute_content(db_session, h1, today=date(2026, 7, 2)))
    assert after == []  # 412 of 500 satisfied now: no longer a watermelon


def test_finding_must_link_to_evidence_of_that_section(db_session, h1, watermelon, make_user):
    author = make_user("rev", "reviewer")
    finding = review_signoff.add_finding(
        db_session,
        h1,
        kind="finding",
        text="北京服务台 KPI 达标但客户不满意",
        evidence_section="kpi_experience",
        evidence_key=MELON,
        author=author,
        today=TODAY,
    )
    assert finding.evidence_label["en"].startswith("Service desk") and finding.position == 1
    for section, key, field in (
        ("", None, "evidence_section"),
        ("health", MELON, "evidence_key"),
        ("kpi_experience", "watermelon:nope", "evidence_key"),
    ):
        with pytest.raises(ReviewError) as raised:
            review_signoff.add_finding(
                db_session,
                h1,
                kind="finding",
                text="x",
                evidence_section=section,
                evidence_key=key,
                today=TODAY,
            )
        assert raised.value.field == field


def test_sign_off_freezes_page_and_pdf(db_session, h1, watermelon, observe, make_user, login_as, app):
    owner = make_user("boss", "system_owner")
    review_signoff.add_finding(
        db_session,
        h1,
        kind="decision",
        text="纳入改进登记册",
        evidence_section="kpi_experience",
        evidence_key=MELON,
        today=TODAY,
    )
    review_signoff.sign(db_session, h1, owner, clock=SIGNED)
    assert h1.signed and h1.snapshot_sha256 and h1.owner_signatory == "Boss"
    frozen = h1.snapshot
    assert section_of(frozen, "findings")["facts"]["findings"] == 0  # one decision, no finding
    assert section_of(frozen, "findings")["facts"]["decisions"] == 1
    pdf_before = _pdf_text(
        review_reports.generate_report(db_session, h1, "en", today=date(2026, 7, 6)).content
    )
    client = login_as("reviewer")
    page_before = client.get(f"/reviews/{h1.id}").get_data(as_text=True)

    # The data changes after sign-off: many happy customers and a renamed region.
    observe(watermelon["r1"], watermelon["desk"], "csat", [5] * 400, day=date(2026, 4, 6))
    watermelon["r1"].name_en = "Peking"
    db_session.flush()
    assert _melon_facts(compute_content(db_session, h1, today=TODAY)) == []  # the live figures did change ...

    assert content_for(db_session, h1, today=TODAY) == frozen  # ... the review did not
    page_after = client.get(f"/reviews/{h1.id}").get_data(as_text=True)
    strip = re.compile(r'name="csrf_token"[^>]*>|value="[^"]*"')
    assert strip.sub("", page_after) == strip.sub("", page_before)
    assert "Peking" not in page_after and "Beijing" in page_after
    pdf_after = _pdf_text(
        review_reports.generate_report(db_session, h1, "en", today=date(2026, 7, 6)).content
    )
    assert pdf_after == pdf_before and "Beijing" in pdf_after


def test_signed_review_is_read_only(db_session, h1, make_user, login_as):
    owner = make_user("boss", "system_owner")
    review_signoff.sign(db_session, h1, owner, clock=SIGNED)
    with pytest.raises(ReviewError) as raised:
        review_signoff.add_finding(
            db_session, h1, kind="finding", text="late", evidence_section="health", today=TODAY
        )
    assert raised.value.code == "review_signed" and raised.value.status == 409
    client = login_as("reviewer")
    response = post_form(
        client,
        f"/reviews/{h1.id}/findings",
        {"kind": "finding", "text": "late", "evidence": "health|"},
        token_from=f"/reviews/{h1.id}",
    )
    assert response.status_code == 302
    assert db_session.scalar(select(func.count(ReviewFinding.id))) == 0
    page = client.get(f"/reviews/{h1.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The review is signed and read only." in page  # flashed in the reader's language
    with pytest.raises(ReviewError):
        review_signoff.sign(db_session, h1, owner, clock=SIGNED)


def test_only_the_system_owner_signs_and_a_customer_rep_countersigns(db_session, h1, login_as):
    reviewer = login_as("reviewer")
    assert post_form(reviewer, f"/reviews/{h1.id}/sign", token_from=f"/reviews/{h1.id}").status_code == 403
    rep = login_as("customer_rep", username="rep")
    assert rep.get(f"/reviews/{h1.id}").status_code == 404  # not signed yet: not shown to customers
    owner = login_as("system_owner", username="boss")
    assert post_form(owner, f"/reviews/{h1.id}/sign", token_from=f"/reviews/{h1.id}").status_code == 302
    db_session.expire_all()
    assert h1.signed and h1.countersignatures == []
    assert rep.get(f"/reviews/{h1.id}").status_code == 200
    assert post_form(rep, f"/reviews/{h1.id}/sign", token_from=f"/reviews/{h1.id}").status_code == 302
    db_session.expire_all()
    assert [c.signatory for c in h1.countersignatures] == ["Rep"] and h1.snapshot_sha256


def test_add_finding_through_the_page(db_session, h1, watermelon, login_as):
    client = login_as("reviewer")
    page = client.get(f"/reviews/{h1.id}").get_data(as_text=True)
    assert f'value="kpi_experience|{MELON}"' in page
    response = post_form(
        client,
        f"/reviews/{h1.id}/findings",
        {"kind": "finding", "text": "西瓜效应需要跟进", "evidence": f"kpi_experience|{MELON}"},
        token_from=f"/reviews/{h1.id}",
    )
    assert response.status_code == 302
    finding = db_session.scalar(select(ReviewFinding))
    assert finding.evidence_key == MELON and finding.text == "西瓜效应需要跟进"


def test_api_review_content_and_sign(db_session, h1, client, make_user):
    from perception.core.users import issue_token

    owner = make_user("boss", "system_owner")
    _, secret = issue_token(db_session, owner, "t")
    auth = {"Authorization": f"Bearer {secret}"}
    body = client.get(f"/api/v1/reviews/{h1.id}", headers=auth).get_json()
    assert [s["code"] for s in body["content"]["sections"]] == [
        "health",
        "standards",
        "kpi_experience",
        "demand",
        "improvements",
        "findings",
    ]
    bad = client.post(
        f"/api/v1/reviews/{h1.id}/findings", json={"kind": "finding", "text": "x"}, headers=auth
    )
    assert bad.status_code == 422 and bad.mimetype == PROBLEM_JSON
    problem = bad.get_json()
    assert problem["status"] == 422 and problem["code"] == "invalid"
    assert [e["field"] for e in problem["errors"]] == ["evidence_section"]
    assert problem["errors"][0]["detail_zh"] == "每项发现都须链接到证据：请选择一个章节"
    assert problem["errors"][0]["detail_en"] == "Link the finding to evidence: choose a section."
    signed = client.post(f"/api/v1/reviews/{h1.id}/sign", headers=auth).get_json()
    assert signed["status"] == "signed"
    again = client.post(
        f"/api/v1/reviews/{h1.id}/findings",
        json={"kind": "finding", "text": "x", "evidence_section": "health"},
        headers=auth,
    )
    assert again.status_code == 409 and again.mimetype == PROBLEM_JSON
    assert again.get_json()["code"] == "review_signed"
    assert db_session.scalar(select(func.count(ReviewFinding.id))) == 0
    not_json = client.post(f"/api/v1/reviews/{h1.id}/findings", data="x", headers=auth)
    assert not_json.status_code == 415 and not_json.get_json()["code"] == "unsupported_media_type"
