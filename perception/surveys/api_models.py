"""The bodies of this phase's API (pydantic): perception.api.openapi documents their JSON Schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from perception.api.schemas import Body


class SurveysCampaignsListItemRate(Body):
    """A response rate (surveys.services.rates.Rate) of a campaign, a region or a tier."""

    invited: int | None
    key: int | None = Field(description="The region's or tier's id; null for the whole campaign or no tier")
    label_en: str | None
    label_zh: str | None
    rate: float | None
    responded: int | None


class SurveysCampaignsListItem(Body):
    channel: str | None
    closes_at: str | None
    code: str | None
    csat_threshold: float | None
    customer_id: int | None
    id: int
    kind: str | None
    max_reminders: int | None
    name_en: str | None
    name_zh: str | None
    nps_threshold: float | None
    opens_at: str | None
    public_path: str | None
    rate: SurveysCampaignsListItemRate
    region_id: int | None
    reminder_after_days: int | None
    sampling_rate: float | None
    service_id: int | None
    status: str | None
    tier_id: int | None
    version_id: int | None


class SurveysCampaignsList(Body):
    items: list[SurveysCampaignsListItem]


SurveysCampaignGetByRegionItem = SurveysCampaignsListItemRate  # the same shape


SurveysCampaignGetByTierItem = SurveysCampaignsListItemRate  # the same shape


SurveysCampaignGetRate = SurveysCampaignsListItemRate  # the same concept


class SurveysCampaignGet(Body):
    by_region: list[SurveysCampaignGetByRegionItem]
    by_tier: list[SurveysCampaignGetByTierItem]
    channel: str | None
    closes_at: str | None
    code: str | None
    csat_threshold: float | None
    customer_id: int | None
    id: int
    kind: str | None
    max_reminders: int | None
    name_en: str | None
    name_zh: str | None
    nps_threshold: float | None
    opens_at: str | None
    public_path: str | None
    rate: SurveysCampaignGetRate
    region_id: int | None
    reminder_after_days: int | None
    sampling_rate: float | None
    service_id: int | None
    status: str | None
    tier_id: int | None
    version_id: int | None


class SurveysFollowupsListItem(Body):
    campaign_id: int | None
    closed_at: str | None
    contact_id: int | None
    customer_id: int | None
    detail: str | None
    due_on: str | None
    id: int
    outcome: str | None
    reasons: list[str]
    region_id: int | None
    response_id: int | None
    status: str | None


class SurveysFollowupsList(Body):
    items: list[SurveysFollowupsListItem]


class SurveysListItemVersion(Body):
    fingerprint: str | None
    id: int
    number: int | None
    published_at: str | None


class SurveysListItem(Body):
    code: str | None
    id: int
    name_en: str | None
    name_zh: str | None
    versions: list[SurveysListItemVersion]


class SurveysList(Body):
    items: list[SurveysListItem]


CampaignRate = SurveysCampaignsListItemRate  # the same concept (surveys.api.rate_json)


class Campaign(Body):
    """A campaign as the API answers it (create, change, open, close)."""

    id: int
    code: str
    name_zh: str
    name_en: str
    version_id: int | None
    kind: str
    channel: str
    status: str
    region_id: int | None
    customer_id: int | None
    service_id: int | None
    tier_id: int | None
    opens_at: str
    closes_at: str
    reminder_after_days: int | None
    max_reminders: int | None
    sampling_rate: float | None
    csat_threshold: int | float | None
    nps_threshold: int | float | None
    public_path: str | None = Field(description="The anonymous link's path, for an anonymous campaign")
    rate: CampaignRate | None = None


class CampaignInput(Body):
    """A campaign's fields (create: code, names, version_id, kind, channel, dates at least)."""

    code: str | None = None
    name_zh: str | None = None
    name_en: str | None = None
    version_id: int | None = None
    kind: Literal["relationship", "transactional"] | None = None
    channel: Literal["personal", "anonymous"] | None = None
    region_id: int | None = None
    customer_id: int | None = None
    service_id: int | None = None
    tier_id: int | None = None
    opens_at: str | None = Field(default=None, description="UTC, ISO 8601")
    closes_at: str | None = Field(default=None, description="UTC, ISO 8601")
    reminder_after_days: int | None = Field(default=None, ge=1)
    max_reminders: int | None = Field(default=None, ge=0)
    sampling_rate: float | None = Field(default=None, ge=0, le=1)
    csat_threshold: int | None = None
    nps_threshold: int | None = None


class FollowUp(Body):
    id: int
    response_id: int | None
    region_id: int | None
    customer_id: int | None
    contact_id: int | None
    campaign_id: int | None
    reasons: list[str]
    detail: str | None
    status: str
    outcome: str | None
    due_on: str | None
    closed_at: str | None


class FollowUpChange(Body):
    status: Literal["open", "in_progress", "done"]
    outcome: str | None = None


class PublishInput(Body):
    definition: dict[str, Any] | str = Field(
        description="Free-form: a user-defined questionnaire document (an object, or its YAML/JSON"
        " text); publishing checks it against the questionnaire schema and answers 422 with its problems"
    )


class PublishedVersion(Body):
    id: int
    number: int
    fingerprint: str


class ResponsesImport(Body):
    responses: list[dict[str, Any]] = Field(description="One object per response, keys as the file's columns")
