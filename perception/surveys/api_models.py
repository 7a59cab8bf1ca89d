"""The bodies of this phase's API (pydantic): perception.api.openapi documents their JSON Schema."""

from __future__ import annotations

from typing import Any

from perception.api.schemas import Body


class SurveysCampaignsListItemRate(Body):
    invited: float | None
    key: float | None
    label_en: str | None
    label_zh: str | None
    rate: float | None
    responded: float | None


class SurveysCampaignsListItem(Body):
    channel: str | None
    closes_at: str | None
    code: str | None
    csat_threshold: float | None
    customer_id: Any
    id: int
    kind: str | None
    max_reminders: float | None
    name_en: str | None
    name_zh: str | None
    nps_threshold: float | None
    opens_at: str | None
    public_path: str | None
    rate: SurveysCampaignsListItemRate
    region_id: int | None
    reminder_after_days: float | None
    sampling_rate: float | None
    service_id: Any
    status: str | None
    tier_id: Any
    version_id: int


class SurveysCampaignsList(Body):
    items: list[SurveysCampaignsListItem]


class SurveysCampaignGetByRegionItem(Body):
    invited: float | None
    key: float | None
    label_en: str | None
    label_zh: str | None
    rate: float | None
    responded: float | None


class SurveysCampaignGetByTierItem(Body):
    invited: float | None
    key: float | None
    label_en: str | None
    label_zh: str | None
    rate: float | None
    responded: float | None


class SurveysCampaignGetRate(Body):
    invited: float | None
    key: Any
    label_en: str | None
    label_zh: str | None
    rate: float | None
    responded: float | None


class SurveysCampaignGet(Body):
    by_region: list[SurveysCampaignGetByRegionItem]
    by_tier: list[SurveysCampaignGetByTierItem]
    channel: str | None
    closes_at: str | None
    code: str | None
    csat_threshold: float | None
    customer_id: Any
    id: int
    kind: str | None
    max_reminders: float | None
    name_en: str | None
    name_zh: str | None
    nps_threshold: float | None
    opens_at: str | None
    public_path: Any
    rate: SurveysCampaignGetRate
    region_id: Any
    reminder_after_days: float | None
    sampling_rate: float | None
    service_id: Any
    status: str | None
    tier_id: Any
    version_id: int


class SurveysFollowupsListItem(Body):
    campaign_id: int | None
    closed_at: str | None
    contact_id: int
    customer_id: int
    detail: str | None
    due_on: str | None
    id: int
    outcome: str | None
    reasons: list[str]
    region_id: int
    response_id: int
    status: str | None


class SurveysFollowupsList(Body):
    items: list[SurveysFollowupsListItem]


class SurveysListItemVersion(Body):
    fingerprint: str | None
    id: int
    number: float | None
    published_at: str | None


class SurveysListItem(Body):
    code: str | None
    id: int
    name_en: str | None
    name_zh: str | None
    versions: list[SurveysListItemVersion]


class SurveysList(Body):
    items: list[SurveysListItem]
