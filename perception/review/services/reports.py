"""Generating, storing and serving a review's PDF.

The PDF is stored in the database (``ReviewReport``, one row per review and language) so every
node of a deployment can serve it; regenerating replaces it. Pages ask for it through
``perception.review.jobs.request_pdf``: the background job ``generate_review_pdf`` on the Redis
queue when configured (large organisations), else at once. A signed review renders from its frozen
snapshot, so its PDF is the same whenever it is regenerated (apart from the generation date).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.audit import record
from perception.core.jobs.progress import report as report_progress
from perception.core.models.base import utcnow
from perception.reporting.fonts import find_cjk_font
from perception.review.models import Review, ReviewPdfStatus, ReviewReport
from perception.review.services.blocks import Lang
from perception.review.services.errors import ReviewError
from perception.review.services.pdf import build_review_pdf, signatories_for
from perception.review.services.sections import content_for, content_hash

LANGS: tuple[Lang, ...] = ("zh", "en")
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@dataclass(frozen=True)
class PdfSettings:
    """What the PDF takes from the settings (the caller reads them): the organisation's name on
    the cover (``ORGANISATION_NAME``, else the perception system's name) and the CJK font file
    (``CJK_FONT``, else perception.reporting.fonts searches for one)."""

    organisation: str | None = None
    font_path: str | None = None


def check_lang(lang: str) -> Lang:
    if lang not in LANGS:
        raise ReviewError.one("lang", "语言须为 zh 或 en", "The language must be zh or en.")
    return lang  # type: ignore[return-value]


def organisation_name(session: Session, lang: Lang, configured: str | None = None) -> str:
    """The provider's name for the cover: ``ORGANISATION_NAME`` if configured, else the name set
    in setup in ``lang`` (the other language's when only that one was given), else "" (the cover
    then leaves the line out rather than print a placeholder)."""
    if configured:
        return configured
    from perception.setup.services.plan import provider_names

    zh, en = provider_names(session)
    return (zh or en) if lang == "zh" else (en or zh)


def report_for(session: Session, review: Review, lang: str) -> ReviewReport | None:
    return session.scalar(
        select(ReviewReport).where(ReviewReport.review_id == review.id, ReviewReport.lang == lang)
    )


def generate_report(
    session: Session,
    review: Review,
    lang: str,
    *,
    today: date,
    settings: PdfSettings = PdfSettings(),
    user_id: int | None = None,
) -> ReviewReport:
    """Render the review's PDF in ``lang`` and store it (replacing an earlier one). ``today`` is
    the organisation's date: the generation date on the cover, and "today" of an open review."""
    lang = check_lang(lang)
    report = report_for(session, review, lang)
    if report is None:
        report = ReviewReport(review_id=review.id, lang=lang)
        session.add(report)
    started = time.perf_counter()
    try:
        report_progress("sections", 0, 2)
        content = content_for(session, review, today=today)
        report_progress("rendering", 1, 2)
        pdf = build_review_pdf(
            content,
            lang,
            organisation=organisation_name(session, lang, settings.organisation),
            signatories=signatories_for(review, lang),
            signed=review.signed,
            font=find_cjk_font(settings.font_path) if settings.font_path else None,
            generated_on=today,
        )
    except Exception as exc:  # noqa: BLE001 - the failure is stored and shown; the job must not die silently
        report.status = ReviewPdfStatus.FAILED
        report.error = f"{type(exc).__name__}: {exc}"[:2000]
        report.generated_at = utcnow()
        report.generated_by_id = user_id
        session.flush()
        return report
    report.status = ReviewPdfStatus.READY
    report.error = None
    report.content = pdf
    report.sha256 = hashlib.sha256(pdf).hexdigest()
    report.size_bytes = len(pdf)
    report.pages = len(_PAGE.findall(pdf))
    report.seconds = round(time.perf_counter() - started, 3)
    report.source_sha256 = review.snapshot_sha256 if review.signed else content_hash(content)
    report.generated_at = utcnow()
    report.generated_by_id = user_id
    session.flush()
    record(
        session,
        "export",
        object_type="Review",
        object_id=review.id,
        summary=f"review PDF {review.code} ({lang}): {report.pages} pages, {report.size_bytes} bytes",
    )
    return report


def downloadable(session: Session, review: Review, lang: str) -> tuple[ReviewReport, bytes] | None:
    """The stored PDF in ``lang`` and its bytes when its last generation succeeded, else None."""
    report = report_for(session, review, lang)
    if report is None or report.status != ReviewPdfStatus.READY or report.content is None:
        return None
    return report, report.content


def record_download(session: Session, review: Review, lang: str) -> None:
    """The audit row of a download: the PDF is an export of the review."""
    record(session, "export", object_type="Review", object_id=review.id, summary=f"download PDF {lang}")


def download_name(review: Review, lang: str) -> str:
    """The file name offered to the browser (UTF-8; Werkzeug writes RFC 6266 filename*)."""
    return f"用户感知体系回顾-{review.code}.pdf" if lang == "zh" else f"perception-review-{review.code}.pdf"
