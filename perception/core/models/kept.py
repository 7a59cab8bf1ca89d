"""Page results kept while their data are unchanged (perception.core.kept, issue 19).

One row per page and key (the page's period, filters and the user's scope): the write counter the
result was computed at, when, and the result itself as zlib-compressed JSON (never pickle: the
row is read back only through the page's own typed decoder). Aggregates a page shows only: no
personal data, no answer of a single respondent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from perception.core.models.base import Base, utcnow


class KeptResult(Base):
    __tablename__ = "kept_result"
    __table_args__ = (Index("ix_kept_result_page_computed_at", "page", "computed_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of page and params
    page: Mapped[str] = mapped_column(String(40))
    params: Mapped[str] = mapped_column(Text)  # the key's canonical JSON (checked on read)
    version: Mapped[int] = mapped_column(BigInteger)  # the write counter it was computed at
    format: Mapped[int] = mapped_column(Integer)  # the page's encoding; another is ignored
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
