"""Review section 6, the findings and decisions the reviewers wrote, each with its evidence (a
section of this review and, usually, one row of it) and the improvement items raised from it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from perception.core.models.auth import User
from perception.review.models import FindingKind, ImprovementItem, ReviewFinding
from perception.review.services.blocks import Text, column, paragraph, section, t, table
from perception.review.services.sections import SECTION_TITLES, SectionContext

KIND: dict[str, Text] = {
    FindingKind.FINDING: t("发现", "finding"),
    FindingKind.DECISION: t("决定", "decision"),
}


def evidence_text(finding: ReviewFinding) -> dict[str, str]:
    title = SECTION_TITLES.get(
        finding.evidence_section, t(finding.evidence_section, finding.evidence_section)
    )
    label = finding.evidence_label or {}
    note = f"；{finding.evidence_note}" if finding.evidence_note else ""
    note_en = f"; {finding.evidence_note}" if finding.evidence_note else ""
    zh = title["zh"] + (f" › {label.get('zh') or label.get('en')}" if label else "") + note
    en = title["en"] + (f" › {label.get('en') or label.get('zh')}" if label else "") + note_en
    return {"zh": zh, "en": en}


def build(ctx: SectionContext) -> dict[str, Any]:
    findings = ctx.session.scalars(
        select(ReviewFinding).where(ReviewFinding.review_id == ctx.review.id).order_by(ReviewFinding.position)
    ).all()
    authors = dict(
        ctx.session.execute(
            select(User.id, User.display_name).where(
                User.id.in_({f.author_id for f in findings if f.author_id})
            )
        ).all()
    )
    raised: dict[int, list[str]] = {}
    for finding_id, code in ctx.session.execute(
        select(ImprovementItem.finding_id, ImprovementItem.code).where(
            ImprovementItem.finding_id.in_([f.id for f in findings])
        )
    ):
        if finding_id is not None:
            raised.setdefault(finding_id, []).append(code)
    rows = [
        {
            "_key": f"finding:{f.position}",
            "number": f.position,
            "kind": KIND.get(f.kind, t(f.kind, f.kind)),
            "text": f.texts,
            "evidence": evidence_text(f),
            "evidence_ref": {"section": f.evidence_section, "key": f.evidence_key},
            "improvements": ", ".join(raised.get(f.id, [])) or None,
            "author": authors.get(f.author_id or 0, "—"),
        }
        for f in findings
    ]
    decisions = sum(1 for f in findings if f.kind == FindingKind.DECISION)
    blocks = [
        paragraph(
            t(
                f"评审人员记录了 {len(findings) - decisions} "
                f"项发现和 {decisions} 项决定，每项都链接到本回顾中的证据。",
                f"The reviewers recorded {len(findings) - decisions} findings and {decisions} decisions, "
                "each linked to evidence in this review.",
            )
        ),
        table(
            "findings",
            t("发现与决定", "Findings and decisions"),
            [
                column("number", t("序号", "No."), "int"),
                column("kind", t("类型", "Kind")),
                column("text", t("内容", "Text")),
                column("evidence", t("证据", "Evidence")),
                column("improvements", t("改进事项", "Improvements")),
                column("author", t("记录人", "By")),
            ],
            rows,
            empty=t("尚未记录发现或决定", "No finding or decision recorded yet"),
            weights=[0.5, 0.8, 4, 3, 1, 1],
        ),
    ]
    return section(
        "findings",
        SECTION_TITLES["findings"],
        blocks,
        {"findings": len(findings) - decisions, "decisions": decisions},
    )
