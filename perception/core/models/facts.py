"""Analysis-ready facts written by the collecting phases and read by analysis and review.

Every way experience reaches the provider (survey answer, phone callback, weekly-report feedback
entry, sampling confirmation) writes one ExperienceObservation per scored item, and every text
(requirement, feedback comment, survey comment) one TextEntry. Analysis then aggregates one
table with set-based SQL instead of joining every source, which keeps dashboards fast at
millions of responses. The writer deletes and re-writes its own rows (source, source_id) when a
source record changes.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from perception.core.models.base import Base


class ExperienceSource(enum.StrEnum):
    SURVEY = "survey"
    CALLBACK = "callback"
    FEEDBACK = "feedback"  # weekly collection report entry
    SAMPLING = "sampling"


class ExperienceObservation(Base):
    __tablename__ = "experience_observation"
    __table_args__ = (
        Index("ix_experience_observation_period", "period_start", "region_id", "service_id"),
        Index("ix_experience_observation_source", "source", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # ExperienceSource
    source_id: Mapped[int] = mapped_column(Integer)  # id of the response / entry / callback
    observed_on: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date] = mapped_column(Date)  # Monday of the ISO week (perception.core.periods)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("service_tier.id"))
    # csat | nps | ces | rating | likert | servqual_expectation | servqual_perception | importance
    kind: Mapped[str] = mapped_column(String(24))
    dimension: Mapped[str | None] = mapped_column(String(32))  # the six feedback dimensions
    servqual_dimension: Mapped[str | None] = mapped_column(String(16))
    item: Mapped[str | None] = mapped_column(String(64))  # question id, for item-level analysis
    standard_code: Mapped[str | None] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Float)
    scale_min: Mapped[float] = mapped_column(Float)
    scale_max: Mapped[float] = mapped_column(Float)


class TextKind(enum.StrEnum):
    REQUIREMENT = "requirement"  # personalised requirement (个性化需求)
    FEEDBACK = "feedback"  # feedback/suggestion text from a weekly report
    SURVEY_COMMENT = "survey_comment"
    CALLBACK_COMMENT = "callback_comment"


class TextEntry(Base):
    __tablename__ = "text_entry"
    __table_args__ = (
        Index("ix_text_entry_period", "period_start", "region_id"),
        Index("ix_text_entry_source", "source", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))  # TextKind
    observed_on: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date] = mapped_column(Date)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer_org.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    dimension: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    # Filled by the analysis phase (themes, classification); None until analysed.
    theme_key: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    label_source: Mapped[str | None] = mapped_column(String(8))  # "model" | "user"
