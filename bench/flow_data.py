"""The data of bench/bench_flow.py: a database with two campaigns (the demo's CSAT instrument and a
LimeSurvey-shaped questionnaire of nine five-point scales and one text), invitations with known
link tokens, the per-run link files for the driver, and the product's own page bytes for the
bare apps.

Answers are drawn from 3-5 (a low score would make the product write a follow-up task, which the
bare apps do not); 30% carry a comment.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

COMMENTS = ("希望工程师上门前先电话确认。", "Quick fix, thanks.", "响应很及时，处理结果也很好。")
LIME: dict[str, Any] = {
    "schema_version": 1,
    "id": "lime_shaped",
    "version": "1",
    "title": {"zh": "服务满意度调查", "en": "Service satisfaction survey"},
    "pages": [
        {
            "id": "all",
            "questions": [
                {
                    "id": f"q{i}",
                    "type": "rating",
                    "required": True,
                    "scale": {
                        "min": 1,
                        "max": 5,
                        "min_label": {"zh": "非常不满意", "en": "Very dissatisfied"},
                        "max_label": {"zh": "非常满意", "en": "Very satisfied"},
                    },
                    "text": {
                        "zh": f"第 {i} 个方面的满意程度",
                        "en": f"How satisfied are you with aspect {i}?",
                    },
                }
                for i in range(1, 10)
            ]
            + [
                {
                    "id": "comment",
                    "type": "text",
                    "max_length": 1000,
                    "text": {"zh": "其他意见和建议", "en": "Anything else you would like to tell us?"},
                }
            ],
        }
    ],
}
SURVEYS = ("csat", "lime")


def answers(survey: str, rng: random.Random) -> str:
    comment = rng.choice(COMMENTS) if rng.random() < 0.3 else ""
    if survey == "csat":
        out: dict[str, Any] = {"csat": rng.choice((3, 4, 4, 5, 5)), "ces": rng.randint(4, 7)}
        return urlencode({**out, **({"improve": comment} if comment else {})})
    out = {f"q{i}": rng.choice((3, 4, 4, 5, 5)) for i in range(1, 10)}
    return urlencode({**out, **({"comment": comment} if comment else {})})


def prepare(
    env: dict[str, str], counts: dict[tuple[str, str], int], folder: Path
) -> dict[tuple[str, str], Path]:
    """Create the schema, campaigns, invitations and links; write one link file per run name
    (``counts`` maps (run, survey) to the number of flows) and the product's pages."""
    os.environ.update(env)
    from sqlalchemy import insert

    from perception import create_app
    from perception.core.extensions import db, orm
    from perception.core.models.base import utcnow
    from perception.core.models.org import Contact, CustomerOrg, Region
    from perception.surveys.models import CampaignStatus, Invitation, SurveyLink, table_of
    from perception.surveys.services.campaigns import create_campaign
    from perception.surveys.services.definitions import ensure_builtin_surveys, publish

    app = create_app()
    rng = random.Random(7)
    files: dict[tuple[str, str], Path] = {}
    with app.app_context():
        db.drop_all()
        db.create_all()
        region = Region(code="BENCH", name_zh="压测", name_en="Bench")
        db.session.add(region)
        db.session.flush()
        customer = CustomerOrg(code="BENCH-C", name_zh="客户", name_en="Customer", region_id=region.id)
        db.session.add(customer)
        db.session.flush()
        contacts = [
            Contact(customer_id=customer.id, region_id=region.id, name=f"c{i}", email=f"c{i}@example.com")
            for i in range(500)
        ]
        db.session.add_all(contacts)
        store = orm()
        versions = {
            "csat": ensure_builtin_surveys(store)["csat_transactional"],
            "lime": publish(store, "lime", LIME),
        }
        now = utcnow()
        campaigns = {}
        for name, version in versions.items():
            campaign = create_campaign(
                store,
                {
                    "code": f"BENCH-{name}",
                    "name_zh": "压测",
                    "name_en": "Bench",
                    "version_id": version.id,
                    "region_id": region.id,
                    "opens_at": now - timedelta(hours=1),
                    "closes_at": now + timedelta(days=7),
                },
                None,
            )
            campaign.status = CampaignStatus.OPEN  # open_campaign would also mail the contacts
            campaigns[name] = campaign
        db.session.flush()
        inv_table, link_table = table_of(Invitation), table_of(SurveyLink)
        for (run, survey), count in counts.items():
            rows = [
                {
                    "campaign_id": campaigns[survey].id,
                    "contact_id": contacts[i % 500].id,
                    "region_id": region.id,
                    "customer_id": customer.id,
                    "created_at": now,
                    "sent_at": now,
                    "expires_at": now + timedelta(days=7),
                    "reminders_sent": 0,
                }
                for i in range(count)
            ]
            ids = list(
                db.session.execute(
                    insert(inv_table).returning(inv_table.c.id, sort_by_parameter_order=True), rows
                ).scalars()
            )
            tokens = [secrets.token_urlsafe(32) for _ in ids]
            db.session.execute(
                insert(link_table),
                [
                    {
                        "invitation_id": i,
                        "token_hash": hashlib.sha256(t.encode()).hexdigest(),
                        "created_at": now,
                        "expires_at": now + timedelta(days=7),
                    }
                    for i, t in zip(ids, tokens, strict=True)
                ],
            )
            path = folder / f"{run}_{survey}.flows"
            path.write_text("".join(f"{t}\t{answers(survey, rng)}\n" for t in tokens))
            files[(run, survey)] = path
        db.session.commit()
        _write_pages(app, {name: v.id for name, v in versions.items()}, folder / "html")
        db.session.remove()
        db.engine.dispose()
    return files


def _write_pages(app: Any, versions: dict[str, int], folder: Path) -> None:
    """The product's page and thank-you bytes, with placeholders where its per-request values go."""
    from perception.core.extensions import db
    from perception.surveys.models import Invitation, SurveyVersion

    folder.mkdir(parents=True, exist_ok=True)
    client = app.test_client()
    for version_id in versions.values():
        version = db.session.get(SurveyVersion, version_id)
        invitation = (
            db.session.query(Invitation).join(Invitation.campaign).filter_by(version_id=version_id).first()
        )
        if invitation is None:  # a questionnaire this run does not use
            continue
        with client.session_transaction() as sess:
            sess["survey_link"] = {"i": invitation.id, "v": version_id, "f": version.fingerprint, "t": 0}
        page = client.get("/s/r").get_data()
        page = re.sub(rb'name="csrf_token" value="[^"]+"', b'name="csrf_token" value="@@CSRF@@"', page)
        page = re.sub(
            rb'name="submission_nonce" value="[^"]+"', b'name="submission_nonce" value="@@NONCE@@"', page
        )
        (folder / f"page_{version_id}.html").write_bytes(page)
        thanks = client.get(f"/s/done?v={version_id}").get_data()
        thanks = re.sub(rb'name="csrf_token" value="[^"]+"', b'name="csrf_token" value="@@CSRF@@"', thanks)
        (folder / f"thanks_{version_id}.html").write_bytes(thanks)
