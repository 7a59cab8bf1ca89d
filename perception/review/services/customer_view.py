"""A customer representative's view of a review (issue 18): the standards that bind their
customer with their attainment, their organisation's experience results over the period, and the
findings and decisions whose evidence is one of those standards, with their countersignature.

Never the whole review: other regions' and customers' results, the demand section (with the
market department's internal notes) and the health section are staff's reading only. A standard
of the customer's own shows the attainment frozen in the review (it is theirs alone); a general
standard (of the service, for every customer) is measured again from this customer's own data
(issue 17): the frozen row is the service over all its customers. The experience results are
recomputed from this customer's own observations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perception.core.models.base import utcnow
from perception.core.models.org import CustomerOrg
from perception.review.models import Review, ReviewCountersignature, ReviewFinding
from perception.review.services.customer_results import CustomerResults, customer_results
from perception.review.services.section_standards import customer_rows
from perception.review.services.sections import SectionContext, content_for, section_of
from perception.review.services.signoff import countersignature_of
from perception.setup.models.standards import ServiceStandard


@dataclass(frozen=True)
class CustomerReview:
    review: Review
    customer: CustomerOrg
    standards: list[dict[str, Any]]  # rows of the review's attainment table, plus "scope"
    results: CustomerResults
    findings: list[ReviewFinding]
    countersignature: ReviewCountersignature | None


def customer_standard_codes(session: Session, customer_id: int) -> dict[str, bool]:
    """Codes of the standards binding the customer -> whether the standard is theirs alone."""
    rows = session.execute(
        select(ServiceStandard.code, ServiceStandard.customer_id).where(
            ServiceStandard.customer_clause(customer_id)
        )
    )
    return {code: owner == customer_id for code, owner in rows}


def _standard_code_of(evidence_key: str | None) -> str | None:
    """The standard a finding's evidence names: keys ``standard:C``, ``flag:C``,
    ``standard_change:C:vN`` (perception.review.services.section_standards)."""
    if not evidence_key:
        return None
    kind, _sep, rest = evidence_key.partition(":")
    if kind in ("standard", "flag", "standard_change"):
        return rest.split(":", 1)[0]
    return None


def customer_review(session: Session, review: Review, customer_id: int, *, today: date) -> CustomerReview:
    customer = session.get(CustomerOrg, customer_id)
    if customer is None:
        raise LookupError(customer_id)
    codes = customer_standard_codes(session, customer_id)
    content = content_for(session, review, today=today)
    standards: list[dict[str, Any]] = []
    section = section_of(content, "standards") or {}
    for block in section.get("blocks", []):
        if block.get("type") == "table" and block.get("key") == "attainment":
            for row in block.get("rows", []):
                if row.get("code") in codes:
                    standards.append(dict(row, own=codes[row["code"]]))
    general = frozenset(row["code"] for row in standards if not row["own"])
    if general:
        ctx = SectionContext(session=session, review=review, today=today, now=utcnow())
        mine = {row["code"]: row for row in customer_rows(ctx, customer_id, general)}
        standards = [dict(mine[row["code"]], own=False) if row["code"] in mine else row for row in standards]
    findings = [f for f in review.findings if _standard_code_of(f.evidence_key) in codes]
    return CustomerReview(
        review=review,
        customer=customer,
        standards=standards,
        results=customer_results(session, customer_id, review.period_start, review.period_end),
        findings=findings,
        countersignature=countersignature_of(session, review, customer_id) if review.signed else None,
    )
