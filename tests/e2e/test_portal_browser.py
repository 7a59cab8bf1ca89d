"""Issue 17 "Done when": a customer representative's journey in a real Chromium, on a phone and
in both languages' reach: the mail that something waits -> the portal -> confirm a standard ->
countersign the review; nothing of the other customer is ever on screen, and no page of the
journey scrolls sideways at 390 px.

Live server: its own app on a temporary SQLite file (committed data, tests.browser.live_server).
The world: two customers of the desktop service in two regions; a standard of each customer's
own, proposed by the owner (which mails the representative); a signed H1 review (which mails
every representative) with a finding about each customer's standard and a market opportunity
whose internal note names the other customer.
"""

from __future__ import annotations

import email
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser import ARGS, CHROMIUM, live_server, require_chromium
from tests.facts import add_standard, insert_observations

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"
BASE = "http://perception.example"
# What only the other customer's people or the provider's staff may read.
OTHERS = ("Shanghai Hospital", "上海医院", "SH-HOSP", "NOTE-ABOUT-SH-HOSP", "ABOUT-SH", "OWN-SH")


def _seed(app: Any) -> None:
    from perception.analysis.models import Opportunity
    from perception.core.clock import Clock
    from perception.core.extensions import db
    from perception.core.models.auth import Role
    from perception.core.models.org import CustomerOrg, Region
    from perception.core.transaction import unit_of_work
    from perception.core.users import UserSpec, create_user
    from perception.review.services import signoff
    from perception.review.services.periods import ensure_review, parse_periods
    from perception.setup.models.catalog import Service, Subscription
    from perception.setup.models.standards import StandardVersion
    from perception.setup.services.confirm import confirm_need, propose

    with app.app_context():
        db.create_all()
        with unit_of_work() as s:
            desk = Service(code="DESK", name_zh="桌面运维", name_en="Desktop support")
            s.add(desk)
            customers = {}
            for code, zh, en, czh, cen in (
                ("BJ", "北京", "Beijing", "北京银行", "Beijing Bank"),
                ("SH", "上海", "Shanghai", "上海医院", "Shanghai Hospital"),
            ):
                region = Region(code=code, name_zh=zh, name_en=en)
                s.add(region)
                s.flush()
                customer = CustomerOrg(
                    code=f"{code}-{'BANK' if code == 'BJ' else 'HOSP'}",
                    name_zh=czh,
                    name_en=cen,
                    region_id=region.id,
                )
                s.add(customer)
                s.flush()
                s.add(Subscription(customer_id=customer.id, service_id=desk.id, region_id=region.id))
                customers[code] = (region, customer)
            s.flush()

            def user(name: str, role: Role, **kw: Any) -> Any:
                spec = UserSpec(name, name.title(), frozenset({role}), password=PASSWORD, **kw)
                return create_user(s, spec)

            owner = user("owner", Role.SYSTEM_OWNER, email="owner@example.com")
            rep_bj = user(
                "rep.bj", Role.CUSTOMER_REP, email="rep.bj@example.com", customer_id=customers["BJ"][1].id
            )
            rep_sh = user(
                "rep.sh", Role.CUSTOMER_REP, email="rep.sh@example.com", customer_id=customers["SH"][1].id
            )
            for code, rep in (("BJ", rep_bj), ("SH", rep_sh)):
                region, customer = customers[code]
                # A standard in force through H1 (the review's) and a new one to confirm now.
                old = add_standard(
                    s, desk, f"OWN-{code}", "csat_share", "questionnaire", ">=", 0.8, category="experience"
                )
                old.customer_id = customer.id
                new = add_standard(
                    s, desk, f"NEW-{code}", "csat_share", "questionnaire", ">=", 0.85, category="experience",
                    customer_need=f"{customer.name_en} wants satisfied users", procedure="Call back",
                    window="month", unit="share",
                )  # fmt: skip
                new.customer_id = customer.id
                version = s.scalar(select(StandardVersion).where(StandardVersion.standard_id == new.id))
                version.status, version.effective_from = "draft", None
                s.flush()
                confirm_need(s, version, rep)
                propose(s, version, owner, history=[0.9] * 8, base_url=BASE)
                five = 20 if code == "BJ" else 5
                insert_observations(
                    s, region, desk, "csat", [5] * five + [2] * (25 - five), day=date(2026, 3, 2),
                    source_ids=range(1000 if code == "BJ" else 2000, 3000), customer=customer,
                )  # fmt: skip
            s.add(
                Opportunity(
                    title="Night desk", notes="NOTE-ABOUT-SH-HOSP budget", created_at=datetime(2026, 3, 3)
                )
            )
            review, _ = ensure_review(s, date(2026, 3, 1), parse_periods("H1,H2"))
            for code in ("BJ", "SH"):
                signoff.add_finding(
                    s, review, kind="finding", text=f"ABOUT-{code}: fewer satisfied answers in March",
                    evidence_section="standards", evidence_key=f"standard:OWN-{code}", today=date(2026, 7, 2),
                )  # fmt: skip
            signoff.sign(s, review, owner, clock=Clock(fixed_now=datetime(2026, 7, 6, 9)), base_url=BASE)
        db.session.remove()


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    require_chromium()
    from perception import create_app
    from perception.core.extensions import db

    instance = tmp_path / "instance"
    monkeypatch.setenv("PERCEPTION_INSTANCE_PATH", str(instance))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'portal.sqlite'}",
            "SECRET_KEY": "browser-secret-key-which-is-long-enough-0123456789",
            "MAIL_BACKEND": "file",
            "PUBLIC_BASE_URL": BASE,
            "CLOCK_NOW": datetime(2026, 7, 10, 2, 0),  # ten days after the H1 review's period
        }
    )
    _seed(app)
    try:
        with live_server(app) as base:
            yield {"app": app, "base": base, "mail": instance / "mail"}
    finally:
        with app.app_context():
            db.engine.dispose()
        shutil.rmtree(instance, ignore_errors=True)


def _mails_to(folder: Path, address: str) -> list[email.message.EmailMessage]:
    out = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            out.append(message)
    return out


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def _shows_nothing_of_others(page: Any) -> None:
    text = page.locator("body").inner_text()
    for other in OTHERS:
        assert other not in text, (other, page.url)


def _tiles_fit_a_phone(page: Any) -> None:
    """The experience-beside-SLA tiles: one for the one service Beijing Bank receives, its CSAT
    (20 of 25 answers satisfied, fewer than 30: marked) beside its SLA (no ticket: a dash), and
    the tile with its three figures inside the 390 px screen."""
    assert "各项服务的体验与 SLA 对照" in page.locator("#tiles h2").inner_text()
    tiles = page.locator("#tiles article.service-tile")
    assert tiles.count() == 1
    tile = page.locator('#tiles [data-service="DESK"]')
    assert "桌面运维" in tile.locator("h3").inner_text()
    csat = tile.locator('[data-measure="csat"]').inner_text()
    assert "80%*" in csat and "n = 25 份回答" in csat
    assert tile.locator('[data-measure="sla"] .num').inner_text() == "—"
    width = page.evaluate("window.innerWidth")
    for part in (tile, *(tile.locator(f'[data-measure="{m}"]') for m in ("sla", "csat", "nps"))):
        box = part.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert part.evaluate("e => e.scrollWidth <= e.clientWidth")


def test_representative_journey_mail_portal_confirm_countersign(live):
    from playwright.sync_api import sync_playwright

    from perception.core.extensions import db
    from perception.review.models import ReviewCountersignature
    from perception.setup.models.standards import ServiceStandard, StandardVersion

    mails = _mails_to(live["mail"], "rep.bj@example.com")
    subjects = sorted(str(m["Subject"]) for m in mails)
    assert subjects == ["回顾 2026 年上半年 已签署，等待贵单位会签", "服务标准 NEW-BJ 等待贵单位确认"]
    links = {re.search(r"https?://\S+", m.get_content()).group(0) for m in mails}
    assert links == {f"{BASE}/portal"}

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True
            )
            page = context.new_page()
            page.goto(links.pop().replace(BASE, live["base"]))  # the mail's link, on this server
            page.fill('input[name="username"]', "rep.bj")
            page.fill('input[name="password"]', PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.wait_for_url("**/portal")
            assert "客户门户 · 北京银行" in page.locator("h1").inner_text()
            todo = page.locator("#todo")
            assert (
                "确认服务标准 NEW-BJ" in todo.inner_text() and "会签回顾 2026 年上半年" in todo.inner_text()
            )
            headline = page.locator("#headline").inner_text()
            assert "80%" in headline and "25 份回答" in headline  # their own answers only
            _shows_nothing_of_others(page)
            _no_sideways_scroll(page)
            _tiles_fit_a_phone(page)

            page.locator('[data-standard="NEW-BJ"] button.primary').click()
            page.wait_for_load_state()
            _shows_nothing_of_others(page)
            page.goto(f"{live['base']}/portal")
            assert "NEW-BJ" not in page.locator("#todo").inner_text()

            page.get_by_role("link", name="阅读并会签").click()
            page.wait_for_url("**/reviews/*")
            body = page.locator("body").inner_text()
            assert "OWN-BJ" in body and "ABOUT-BJ" in body and "80%" in body
            _shows_nothing_of_others(page)
            _no_sideways_scroll(page)
            page.get_by_role("button", name="代表本单位会签").click()
            page.wait_for_load_state()
            assert "已代表贵单位会签。" in page.locator("body").inner_text()
            _shows_nothing_of_others(page)
            page.goto(f"{live['base']}/portal")
            assert "目前没有待您处理的事项。" in page.locator("#todo").inner_text()
        finally:
            browser.close()

    with live["app"].app_context():
        new_bj = db.session.scalar(select(ServiceStandard).where(ServiceStandard.code == "NEW-BJ"))
        version = db.session.scalar(select(StandardVersion).where(StandardVersion.standard_id == new_bj.id))
        assert [e.action for e in version.events][-1] == "customer_confirmed"
        signatures = db.session.scalars(select(ReviewCountersignature)).all()
        assert [(c.customer.code, c.signatory) for c in signatures] == [("BJ-BANK", "Rep.Bj")]
        db.session.remove()
