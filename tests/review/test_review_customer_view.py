"""Issue 18 "Who sees what" and issue 17's countersign: a customer representative reads their
customer's view of a signed review (their standards, their results, the findings about them),
never the whole review, its PDF, other customers or the market department's internal notes; each
customer countersigns its own view; nobody signs a review before its period has ended."""

from __future__ import annotations

import email
import email.header
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from perception.core.clock import Clock
from perception.review.models import ReviewCountersignature
from perception.review.services import signoff as review_signoff
from tests.conftest import post_form
from tests.facts import add_standard, insert_observations

AFTER_PERIOD = datetime(2026, 7, 6, 9, 0)
SECRET = "INTERNAL-NOTE-R2-BUDGET"


@pytest.fixture
def signed_h1(db_session, org, catalog, h1, make_user):
    """H1 with a standard bound to each customer, each customer's answers, a finding about each
    standard and a market opportunity with an internal note; signed by the owner after the period."""
    from perception.analysis.models import Opportunity

    desk = catalog["DESK"]
    # A general standard of the service: over both customers 22 of 50 answers are satisfied
    # (44%, missed); Beijing's own 20 of 25 (80%) meet it, Shanghai's 2 of 25 do not.
    from perception.setup.models.catalog import Subscription

    add_standard(
        db_session, desk, "CSAT-ALL", "csat_share", "questionnaire", ">=", 0.8, category="experience"
    )
    for code in ("R1", "R2"):  # both customers receive the desk service
        db_session.add(
            Subscription(
                customer_id=org[code]["customer"].id, service_id=desk.id, region_id=org[code]["region"].id
            )
        )
    for code, share_five in (("R1", 20), ("R2", 2)):
        standard = add_standard(
            db_session, desk, f"CSAT-{code}", "csat_share", "questionnaire", ">=", 0.8, category="experience"
        )
        standard.customer_id = org[code]["customer"].id
        scores = [5] * share_five + [2] * (25 - share_five)
        insert_observations(
            db_session, org[code]["region"], desk, "csat", scores, day=date(2026, 3, 2),
            source_ids=range(1000 * len(code) + share_five, 10_000), customer=org[code]["customer"],
        )  # fmt: skip
    db_session.add(
        Opportunity(
            title="Night desk for Shanghai", notes=SECRET, n_customers=1, created_at=datetime(2026, 3, 3)
        )
    )
    db_session.flush()
    owner = make_user("boss", "system_owner")
    for code in ("R1", "R2"):
        review_signoff.add_finding(
            db_session, h1, kind="finding", text=f"ABOUT-{code} answers fell",
            evidence_section="standards", evidence_key=f"standard:CSAT-{code}", today=date(2026, 7, 2),
        )  # fmt: skip
    review_signoff.add_finding(
        db_session, h1, kind="decision", text="STAFF-ONLY demand decision",
        evidence_section="demand", today=date(2026, 7, 2),
    )  # fmt: skip
    review_signoff.sign(db_session, h1, owner, clock=Clock(fixed_now=AFTER_PERIOD))
    return h1


def test_representative_reads_only_their_customers_view(db_session, signed_h1, login_as):
    staff = login_as("reviewer", username="rev")
    whole = staff.get(f"/reviews/{signed_h1.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert SECRET in whole and "CSAT-R2" in whole  # the staff's review has everything ...
    rep = login_as("customer_rep", username="rep1", region="R1")
    response = rep.get(f"/reviews/{signed_h1.id}", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "CSAT-R1" in page and "ABOUT-R1" in page and "Beijing customer" in page
    assert "80%" in page  # 20 of 25 answers of their own organisation in the top two boxes
    for other in (SECRET, "CSAT-R2", "ABOUT-R2", "STAFF-ONLY", "Shanghai", "Night desk"):
        assert other not in page, other


def test_representative_gets_neither_the_pdf_nor_the_whole_content_by_api(
    db_session, signed_h1, login_as, app
):
    from perception.core.users import issue_token

    rep = login_as("customer_rep", username="rep1", region="R1")
    assert rep.get(f"/reviews/{signed_h1.id}/pdf/en").status_code == 403
    _, secret = issue_token(db_session, rep.user, "t")
    auth = {"Authorization": f"Bearer {secret}"}
    body = rep.get(f"/api/v1/reviews/{signed_h1.id}", headers=auth).get_json()
    assert "content" not in body and [s["code"] for s in body["standards"]] == ["CSAT-ALL", "CSAT-R1"]
    assert [f["text"] for f in body["findings"]] == ["ABOUT-R1 answers fell"]
    assert body["results"]["csat"]["n"] == 25 and body["results"]["csat"]["estimate"] == pytest.approx(0.8)
    assert SECRET not in str(body) and "R2" not in str(body["standards"])
    assert rep.get(f"/api/v1/reviews/{signed_h1.id}/pdf/en", headers=auth).status_code == 403


def test_each_customer_countersigns_its_own_view(db_session, signed_h1, login_as):
    rep1 = login_as("customer_rep", username="rep1", region="R1")
    url = f"/reviews/{signed_h1.id}"
    assert post_form(rep1, f"{url}/sign", token_from=url).status_code == 302
    again = post_form(rep1, f"{url}/sign", token_from=url)
    assert again.status_code == 302
    page = rep1.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Your organisation already countersigned this review." in page
    assert "Countersigned for your organisation by Rep1" in page
    rep2 = login_as("customer_rep", username="rep2", region="R2")
    page2 = rep2.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Rep1" not in page2 and "Countersign for my organisation" in page2
    assert post_form(rep2, f"{url}/sign", token_from=url).status_code == 302
    rows = db_session.scalars(select(ReviewCountersignature).order_by(ReviewCountersignature.id)).all()
    assert [(r.customer.code, r.signatory) for r in rows] == [("R1-C", "Rep1"), ("R2-C", "Rep2")]


def _mail_files(app) -> set[Path]:
    folder = Path(app.instance_path) / "mail"
    return set(folder.glob("*.eml")) if folder.exists() else set()


def test_a_review_is_not_signed_before_its_period_ends(db_session, h1, login_as, app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "CLOCK_NOW", datetime(2026, 6, 20, 9, 0))  # H1 runs to 2026-06-30
    owner = login_as("system_owner", username="boss")
    url = f"/reviews/{h1.id}"
    page = owner.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The period runs until 2026-06-30: sign it after the period has ended." in page
    assert "Sign as system owner" not in page
    bare = post_form(owner, f"{url}/sign", token_from=url)  # a bare POST all the same
    assert bare.status_code == 302
    db_session.expire_all()
    assert not h1.signed
    from perception.core.users import issue_token

    _, secret = issue_token(db_session, owner.user, "t")
    refused = owner.post(f"/api/v1{url}/sign", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "period_not_ended"
    assert "2026-06-30" in refused.get_json()["errors"][0]["detail_en"]

    # On 2026-07-01 the period has ended: the owner signs and every representative is told.
    make_user("rep1", "customer_rep", region="R1", email="rep1@example.com")
    make_user("rep2", "customer_rep", region="R2", email="rep2@example.com", language="en")
    before = _mail_files(app)
    monkeypatch.setitem(app.config, "CLOCK_NOW", datetime(2026, 7, 1, 2, 0))
    assert owner.post(f"/api/v1{url}/sign", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    mails = [email.message_from_bytes(p.read_bytes()) for p in _mail_files(app) - before]
    by_address = {m["To"]: m for m in mails}
    assert set(by_address) == {"rep1@example.com", "rep2@example.com"}
    subject = email.header.make_header(email.header.decode_header(by_address["rep1@example.com"]["Subject"]))
    assert "等待贵单位会签" in str(subject)
    assert "/portal" in by_address["rep2@example.com"].get_payload(decode=True).decode()


def _weeks_met(body: dict, code: str) -> tuple[int, float]:
    row = next(s for s in body["standards"] if s["code"] == code)
    return row["weeks"], row["share_met"]


def test_a_general_standard_shows_the_representatives_own_attainment(db_session, signed_h1, login_as):
    from perception.core.users import issue_token
    from perception.review.services.sections import section_of

    frozen = next(
        row
        for block in section_of(signed_h1.snapshot, "standards")["blocks"]
        if block.get("key") == "attainment"
        for row in block["rows"]
        if row["code"] == "CSAT-ALL"
    )
    assert (frozen["weeks"], frozen["share_met"]) == (1, 0.0)  # the service over both customers: 44%
    seen = {}
    for username, region in (("rep1", "R1"), ("rep2", "R2")):
        rep = login_as("customer_rep", username=username, region=region)
        _, secret = issue_token(db_session, rep.user, "t")
        body = rep.get(
            f"/api/v1/reviews/{signed_h1.id}", headers={"Authorization": f"Bearer {secret}"}
        ).get_json()
        seen[region] = _weeks_met(body, "CSAT-ALL")
        page = rep.get(f"/reviews/{signed_h1.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "own data, also for the standards that apply to every customer" in page
    assert seen == {"R1": (1, 1.0), "R2": (1, 0.0)}  # 80% meets >= 0.8; 8% does not


def test_the_api_keeps_the_old_countersignature_fields(db_session, signed_h1, login_as):
    from perception.core.users import issue_token

    staff = login_as("reviewer", username="rev")
    _, staff_secret = issue_token(db_session, staff.user, "t")
    url, auth = f"/api/v1/reviews/{signed_h1.id}", {"Authorization": f"Bearer {staff_secret}"}
    before = staff.get(url, headers=auth).get_json()
    assert before["countersignatures"] == []
    assert before["customer_signatory"] is None and before["customer_signed_at"] is None
    rep = login_as("customer_rep", username="rep1", region="R1")
    review_signoff.countersign(
        db_session, signed_h1, rep.user, clock=Clock(fixed_now=datetime(2026, 7, 8, 10, 30))
    )
    after = staff.get(url, headers=auth).get_json()
    assert after["countersignatures"] == [
        {"customer_id": rep.user.customer_id, "signatory": "Rep1", "signed_at": "2026-07-08T10:30:00"}
    ]
    assert (after["customer_signatory"], after["customer_signed_at"]) == ("Rep1", "2026-07-08T10:30:00")
