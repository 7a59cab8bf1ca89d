"""Campaigns: a published survey version sent to an audience through a channel between two dates.

The audience is every contact of the customers matching the filters (customer, region, and
service/tier through the customer's subscriptions); empty filters mean "all". A personal campaign
invites each contact by email with a single-use link (``invitations``; after a closed ticket:
``tickets``); an anonymous one has one public link (``public_slug``) and must name its region,
since its answers carry no contact. While a campaign is open its version and audience no longer
change.

Opening a campaign is one operation for the staff page and the API alike: the campaign opens and
a personal one's invitations go out in the same transaction (their emails after it commits). The
daily job (``perception.surveys.jobs``) sends what falls due later with ``send_due_invitations``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.errors import Problems
from perception.core.models.auth import User
from perception.core.models.org import CustomerOrg, Region
from perception.setup.models.catalog import Service, ServiceTier
from perception.surveys.models import Campaign, CampaignKind, CampaignStatus, Channel, SurveyVersion
from perception.surveys.services.errors import SurveyError
from perception.surveys.services.invitations import invite_audience, open_personal_campaigns
from perception.surveys.services.settings import SurveySettings
from perception.surveys.services.tickets import invite_closed_tickets

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
KINDS = tuple(CampaignKind)
CHANNELS = tuple(Channel)
EDITABLE_WHEN_OPEN = ("name_zh", "name_en", "closes_at", "reminder_after_days", "max_reminders",
                      "csat_threshold", "nps_threshold", "sampling_rate")  # fmt: skip


def _int(data: Mapping[str, Any], key: str, problems: Problems, *, low: int, high: int) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        problems.add(key, "应为整数", "Expected a whole number.")
        return None
    if not low <= number <= high:
        problems.add(key, f"应在 {low} 到 {high} 之间", f"Must be between {low} and {high}.")
        return None
    return number


def _moment(data: Mapping[str, Any], key: str, problems: Problems) -> datetime | None:
    value = data.get(key)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if not value:
        problems.add(key, "必填（日期时间）", "Required: a date and time.")
        return None
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        problems.add(key, f"“{value}”不是日期时间", f"'{value}' is not a date and time (ISO 8601).")
        return None


def _exists(
    session: Session, model: Any, key: str, data: Mapping[str, Any], problems: Problems
) -> int | None:
    raw = data.get(key)
    if raw in (None, "", 0, "0"):
        return None
    try:
        ident = int(raw)
    except (TypeError, ValueError):
        problems.add(key, "无效的编号", "Not a valid id.")
        return None
    if session.get(model, ident) is None:
        problems.add(key, "不存在", "No such item.")
        return None
    return ident


def read_campaign(session: Session, data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The campaign fields from a form or JSON body, checked; SurveyError lists every problem."""
    problems = Problems(SurveyError)
    out: dict[str, Any] = {}

    def wanted(key: str) -> bool:
        return not partial or key in data

    if wanted("code"):
        code = str(data.get("code") or "").strip()
        if not CODE.match(code):
            problems.add(
                "code",
                "代码须为 1 到 64 个字母、数字、点、横线或下划线",
                "The code needs 1-64 letters, digits, '.', '-' or '_'.",
            )
        out["code"] = code
    for key in ("name_zh", "name_en"):
        if wanted(key):
            name = str(data.get(key) or "").strip()
            if not name or len(name) > 200:
                problems.add(key, "必填，最长 200 个字符", "Required, at most 200 characters.")
            out[key] = name
    if wanted("version_id"):
        out["version_id"] = _exists(session, SurveyVersion, "version_id", data, problems)
        if out["version_id"] is None and not any(p.field == "version_id" for p in problems.items):
            problems.add("version_id", "请选择一个已发布的问卷版本", "Choose a published survey version.")
    for key, allowed in (("kind", KINDS), ("channel", CHANNELS)):
        if wanted(key):
            value = str(data.get(key) or allowed[0])
            if value not in allowed:
                problems.add(key, f"须为：{'、'.join(allowed)}", f"Must be one of: {', '.join(allowed)}.")
            out[key] = value
    for key, model in (
        ("region_id", Region),
        ("customer_id", CustomerOrg),
        ("service_id", Service),
        ("tier_id", ServiceTier),
    ):
        if wanted(key):
            out[key] = _exists(session, model, key, data, problems)
    for key in ("opens_at", "closes_at"):
        if wanted(key):
            out[key] = _moment(data, key, problems)
    for key, low, high in (
        ("reminder_after_days", 1, 60),
        ("max_reminders", 0, 5),
        ("csat_threshold", 1, 5),
        ("nps_threshold", 0, 10),
    ):
        if wanted(key):
            out[key] = _int(data, key, problems, low=low, high=high)
    if wanted("sampling_rate"):
        raw = data.get("sampling_rate")
        rate = 1.0
        if raw not in (None, ""):
            try:
                rate = float(raw)
            except (TypeError, ValueError):
                rate = -1.0
            if not 0.0 < rate <= 1.0:
                problems.add(
                    "sampling_rate",
                    "抽样比例须在 0 到 1 之间（不含 0）",
                    "The sampling rate must be above 0 and at most 1.",
                )
        out["sampling_rate"] = rate
    problems.raise_if_any()
    return out


def _check_whole(session: Session, values: Mapping[str, Any]) -> None:
    problems = Problems(SurveyError)
    if values["opens_at"] and values["closes_at"] and values["closes_at"] <= values["opens_at"]:
        problems.add("closes_at", "结束时间须晚于开始时间", "The campaign must close after it opens.")
    if values["channel"] == Channel.ANONYMOUS:
        if values["region_id"] is None:
            problems.add(
                "region_id",
                "匿名链接须指定区域（答卷不含联系人，靠区域归属）",
                "An anonymous link needs a region: its answers carry no contact to attribute them.",
            )
        if values["kind"] == CampaignKind.TRANSACTIONAL:
            problems.add(
                "channel", "工单触发的调查须使用个人链接", "A ticket-triggered campaign needs personal links."
            )
    customer_id = values.get("customer_id")
    if customer_id and values.get("region_id"):
        customer = session.get(CustomerOrg, customer_id)
        if customer is not None and customer.region_id != values["region_id"]:
            problems.add("customer_id", "该客户不属于所选区域", "This customer is not in the chosen region.")
    problems.raise_if_any()


def create_campaign(session: Session, data: Mapping[str, Any], user: User | None) -> Campaign:
    values = read_campaign(session, data)
    if session.scalar(select(Campaign.id).where(Campaign.code == values["code"])) is not None:
        raise SurveyError.one("code", "该代码已被使用", "This code is already taken.", code="taken")
    _check_whole(session, values)
    defaults = {"reminder_after_days": 3, "max_reminders": 1, "csat_threshold": 2, "nps_threshold": 6}
    for key, default in defaults.items():
        if values.get(key) is None:
            values[key] = default
    if user is not None and user.region_id is not None and values["region_id"] != user.region_id:
        raise SurveyError.one(
            "region_id", "您只能为自己的区域创建调查", "You can only create campaigns for your own region."
        )
    campaign = Campaign(**values, status=CampaignStatus.DRAFT, created_by_id=user.id if user else None)
    if campaign.channel == Channel.ANONYMOUS:
        campaign.public_slug = secrets.token_urlsafe(12)
    session.add(campaign)
    session.flush()
    return campaign


def update_campaign(session: Session, campaign: Campaign, data: Mapping[str, Any]) -> Campaign:
    """Change a campaign; once open, only names, close date, reminders, thresholds and sampling."""
    if campaign.status == CampaignStatus.CLOSED:
        raise SurveyError.one("status", "已结束的调查不能修改", "A closed campaign cannot be changed.")
    values = read_campaign(session, data, partial=True)
    values.pop("code", None)
    if campaign.status == CampaignStatus.OPEN:
        locked = sorted(
            k for k in values if k not in EDITABLE_WHEN_OPEN and values[k] != getattr(campaign, k)
        )
        if locked:
            raise SurveyError.one(
                locked[0],
                "调查开始后不能再修改问卷、渠道或对象",
                "Once open, the version, channel and audience are fixed.",
            )
    merged = {
        key: getattr(campaign, key)
        for key in ("opens_at", "closes_at", "channel", "kind", "region_id", "customer_id")
    }
    merged.update({k: v for k, v in values.items() if k in merged})
    _check_whole(session, merged)
    for key, value in values.items():
        if value is not None or key in ("region_id", "customer_id", "service_id", "tier_id"):
            setattr(campaign, key, value)
    if campaign.channel == Channel.ANONYMOUS and not campaign.public_slug:
        campaign.public_slug = secrets.token_urlsafe(12)
    session.flush()
    return campaign


def open_campaign(session: Session, campaign: Campaign, *, now: datetime, settings: SurveySettings) -> int:
    """Draft -> open; a personal campaign invites whoever is due right away. Returns how many
    invitations were sent (their emails leave once the transaction commits)."""
    if campaign.status != CampaignStatus.DRAFT:
        raise SurveyError.one(
            "status",
            "只有草稿状态的调查可以开始",
            "Only a draft campaign can be opened.",
            code="conflict",
            status=409,
        )
    campaign.status = CampaignStatus.OPEN
    session.flush()
    if campaign.channel != Channel.PERSONAL:
        return 0
    return send_due_invitations(session, now, settings, campaign_id=campaign.id)


def close_campaign(session: Session, campaign: Campaign) -> Campaign:
    if campaign.status == CampaignStatus.CLOSED:
        raise SurveyError.one(
            "status", "该调查已经结束", "The campaign is already closed.", code="conflict", status=409
        )
    campaign.status = CampaignStatus.CLOSED
    session.flush()
    return campaign


def send_due_invitations(
    session: Session, now: datetime, settings: SurveySettings, *, campaign_id: int | None = None
) -> int:
    """Invite what is due for every open personal campaign (or one); returns the emails sent.

    A relationship campaign invites the audience contacts it has not invited yet; a transactional
    one the contacts of tickets closed since its last scan.
    """
    total = 0
    for campaign in open_personal_campaigns(session, now, campaign_id):
        if campaign.kind == CampaignKind.TRANSACTIONAL:
            count = invite_closed_tickets(session, campaign, now, settings)
        else:
            count = invite_audience(session, campaign, now, settings)
        if count:
            record(
                session, "survey_invitations", object_type="Campaign", object_id=campaign.id,
                region_id=campaign.region_id, summary=f"{count} invitations sent",
            )  # fmt: skip
        total += count
    return total
