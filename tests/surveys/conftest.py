"""Fixtures for the survey pages: published built-in instruments, campaigns, the mailbox."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

LINK = re.compile(r"/s/t/([A-Za-z0-9_-]{20,})")
UNSUBSCRIBE = re.compile(r"(/s/unsubscribe/[A-Za-z0-9_.-]+)")
NONCE = re.compile(r'name="submission_nonce"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="submission_nonce"')
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
PAGE = re.compile(r'name="page"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="page"')


def hidden(pattern: re.Pattern[str], html: str) -> str:
    match = pattern.search(html)
    assert match, f"hidden field {pattern.pattern[:30]} not found in page"
    return match.group(1) or match.group(2)


@pytest.fixture
def versions(db_session: Any) -> dict[str, Any]:
    from perception.surveys.services.definitions import ensure_builtin_surveys

    return ensure_builtin_surveys(db_session)


def store(session: Any, version: Any, answers: dict[str, Any], **extra: Any) -> Any:
    """``store_response`` with the default settings and time zone, as the tests' app has them."""
    from perception.core.clock import DEFAULT_TIMEZONE
    from perception.surveys.services.settings import SurveySettings
    from perception.surveys.services.store import store_response

    return store_response(
        session, version, answers, org_timezone=DEFAULT_TIMEZONE, settings=SurveySettings(), **extra
    )


@pytest.fixture
def make_campaign(db_session: Any, versions: dict[str, Any], org: dict[str, Any]) -> Any:
    """Create a campaign; ``open_`` opens it without inviting anyone (tests invite with ``invite``)."""
    from perception.core.models.base import utcnow
    from perception.surveys.models import CampaignStatus
    from perception.surveys.services.campaigns import create_campaign

    counter = iter(range(1, 1000))

    def make(
        instrument: str = "csat_transactional",
        *,
        channel: str = "personal",
        region: str | None = "R1",
        open_: bool = True,
        days: int = 14,
        **extra: Any,
    ) -> Any:
        now = utcnow()
        data = {
            "code": f"C{next(counter)}-{instrument[:8]}",
            "name_zh": "服务满意度调查",
            "name_en": "Service satisfaction survey",
            "version_id": versions[instrument].id,
            "channel": channel,
            "region_id": org[region]["region"].id if region else None,
            "opens_at": now - timedelta(hours=1),
            "closes_at": now + timedelta(days=days),
            **extra,
        }
        campaign = create_campaign(db_session, data, None)
        if open_:
            campaign.status = CampaignStatus.OPEN
            db_session.flush()
        return campaign

    return make


class Mailbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen = set(folder.glob("*.eml")) if folder.exists() else set()

    def new(self) -> list[email.message.EmailMessage]:
        files = set(self.folder.glob("*.eml")) if self.folder.exists() else set()
        fresh = sorted(files - self.seen, key=lambda p: p.stat().st_mtime_ns)
        self.seen |= set(fresh)
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in fresh]  # type: ignore[misc]

    def tokens_for(self, address: str, messages: list[Any] | None = None) -> list[str]:
        found = []
        for msg in messages if messages is not None else self.new():
            if msg["To"] == address:
                found += LINK.findall(msg.get_content())
        return found


@pytest.fixture
def mailbox(app: Any) -> Mailbox:
    return Mailbox(Path(app.instance_path) / "mail")


@pytest.fixture
def invite(db_session: Any, mailbox: Mailbox) -> Any:
    """Run the invitation job for a campaign and return {contact email: token}."""
    from perception.surveys.jobs import send_campaign_invitations

    def run(campaign: Any, now: Any = None) -> dict[str, str]:
        send_campaign_invitations(db_session, campaign_id=campaign.id, now=now)
        out = {}
        for msg in mailbox.new():
            tokens = LINK.findall(msg.get_content())
            if tokens:
                out[str(msg["To"])] = tokens[-1]
        return out

    return run


def answer_page(
    client: Any, path: str, answers: dict[str, Any], *, action: str = "next", html: str | None = None
) -> Any:
    """POST one survey page the way the browser does (CSRF, nonce and page from the rendered form)."""
    html = html if html is not None else client.get(path).get_data(as_text=True)
    body = {
        "csrf_token": hidden(CSRF, html),
        "submission_nonce": hidden(NONCE, html),
        "page": hidden(PAGE, html),
        "action": action,
        **answers,
    }
    return client.post(path, data=body)


def seed_personal_link(
    app: Any,
    region: tuple[str, str, str],
    customer: tuple[str, str, str],
    contact: tuple[str, str],
    campaign: tuple[str, str, str],
    *,
    days: int,
) -> str:
    """For tests with their own app on committed data (not the rolled-back ``db_session``): create
    the tables, a region, a customer of it with one contact, an open csat_transactional campaign
    for the region closing in ``days``, and the contact's invitation (valid as long); commit and
    return the invitation's personal link token. ``region``, ``customer`` and ``campaign`` are
    (code, name_zh, name_en); ``contact`` is (name, email)."""
    from perception.core.extensions import db
    from perception.core.models.base import utcnow
    from perception.core.models.org import Contact, CustomerOrg, Region
    from perception.surveys.models import CampaignStatus, Invitation
    from perception.surveys.services.campaigns import create_campaign
    from perception.surveys.services.definitions import ensure_builtin_surveys
    from perception.surveys.services.tokens import issue_link

    with app.app_context():
        db.create_all()
        place = Region(code=region[0], name_zh=region[1], name_en=region[2])
        db.session.add(place)
        db.session.flush()
        org = CustomerOrg(code=customer[0], name_zh=customer[1], name_en=customer[2], region_id=place.id)
        db.session.add(org)
        db.session.flush()
        person = Contact(customer_id=org.id, region_id=place.id, name=contact[0], email=contact[1])
        db.session.add(person)
        versions = ensure_builtin_surveys(db.session)
        now = utcnow()
        opened = create_campaign(
            db.session,
            {
                "code": campaign[0],
                "name_zh": campaign[1],
                "name_en": campaign[2],
                "version_id": versions["csat_transactional"].id,
                "region_id": place.id,
                "opens_at": now - timedelta(hours=1),
                "closes_at": now + timedelta(days=days),
            },
            None,
        )
        opened.status = CampaignStatus.OPEN  # opened without inviting: the invitation is made here
        invitation = Invitation(
            campaign_id=opened.id,
            contact_id=person.id,
            region_id=place.id,
            customer_id=org.id,
            sent_at=now,
            expires_at=now + timedelta(days=days),
        )
        db.session.add(invitation)
        db.session.flush()
        token = issue_link(db.session, invitation, now)
        db.session.commit()
        db.session.remove()
    return token


@pytest.fixture(autouse=True)
def quick_respondents(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests answer instantly; the minimum fill time has its own test."""
    monkeypatch.setitem(app.config, "SURVEY_MIN_FILL_SECONDS", 0)


@pytest.fixture
def post_page() -> Any:
    return answer_page
