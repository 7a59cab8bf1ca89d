"""Issue 14 "CES and alpha appear where a user looks for them", on the demo through HTTP: the
overview shows CES with its n beside CSAT and NPS, and states that drops are tested on customers'
answers only; the experience page shows CES and Cronbach's alpha (listwise, as pingouin) of the
questionnaires the demo's customers answer, and its dimension means keep customers' answers and the
collectors' weekly-report ratings apart; the demo's office-hours SLA page lists the make-up
working days (调休) of the years it covers. Uses the shared demo build of tests/e2e/demo_live.py
(8 weeks), so it adds no demo load when the other demo pages run in the same process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.e2e.demo_live import demo_database
from tests.e2e.test_visible_words import signed_in, visible_text

pytestmark = [pytest.mark.slow, pytest.mark.own_sqlite]


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import os

    from perception import create_app
    from perception.core.extensions import db

    folder = tmp_path_factory.mktemp("experience")
    demo_database(folder / "demo.sqlite", weeks=8)
    os.environ["PERCEPTION_INSTANCE_PATH"] = str(folder / "instance")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite'}",
            "MAIL_BACKEND": "file",
            "REDIS_URL": None,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def _stat(text: str, label: str) -> str:
    """The visible text after a stat's label, up to the next stat."""
    at = text.index(label)
    return " ".join(text[at + len(label) : at + len(label) + 120].split())


@pytest.mark.parametrize(
    ("lang", "voice"), [("en", "Customers' own answers only"), ("zh-CN", "仅检验客户本人的答复")]
)
def test_overview_shows_ces_and_says_whose_answers_are_tested(demo_app, lang, voice):
    client = signed_in(demo_app, "analyst")
    text = visible_text(
        client.get("/analysis/overview", headers={"Accept-Language": lang}).get_data(as_text=True)
    )
    ces = _stat(text, "CES")
    assert re.match(r"\d\.\d+", ces), ces  # a mean on 1..7, not "—"
    assert re.search(r"n\s*=\s*\d{2,}", ces), ces  # with its n (thousands of answers in the demo)
    assert voice in text


def test_experience_page_shows_alpha_and_ces_of_the_demo(demo_app):
    client = signed_in(demo_app, "analyst")
    body = client.get("/analysis/experience", headers={"Accept-Language": "en"}).get_data(as_text=True)
    section = body[body.index('id="reliability"') : body.index("SERVQUAL gaps")]
    alphas = [float(a) for a in re.findall(r"<strong>(-?\d\.\d\d)</strong>", section)]
    assert alphas, visible_text(section)
    assert all(-1.0 < a <= 1.0 for a in alphas)
    assert "Listwise" in section and "pingouin" in section
    effort = visible_text(body[body.index('id="effort"') : body.index('id="reliability"')])
    assert re.search(r"\d\.\d\d\s*\[\d\.\d\d–\d\.\d\d\]\s*n=\d{2,}", effort), effort


@pytest.mark.parametrize(
    ("lang", "customers", "reports"),
    [
        ("en", "Customers' answers", "Weekly reports (collectors)"),
        ("zh-CN", "客户答复", "每周报告（采集员）"),
    ],
)
def test_experience_page_shows_the_demo_s_two_voices_apart(demo_app, lang, customers, reports):
    """Issue 14: the dimension means mixed the collectors' weekly-report ratings into the
    customers' answers; the demo's page shows each voice in its own column with its own n."""
    client = signed_in(demo_app, "analyst")
    body = client.get("/analysis/experience", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert 'data-testid="experience-voices"' in body
    table = body[body.index('id="dimension-means"') :]
    table = table[: table.index("</table>")]
    head = visible_text(table[: table.index("</thead>")])
    assert customers in head and reports in head
    mean = r"\d\.\d\d\s*(?:\[[^\]]*\]\s*)?n=\d+"
    both = [
        row
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
        if len(cells := [visible_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]) >= 3
        and re.search(mean, cells[1])
        and re.search(mean, cells[2])
    ]
    assert both, visible_text(table)


def test_demo_sla_page_lists_its_make_up_working_days(demo_app):
    from perception.core.extensions import db
    from perception.setup.demo import CHINA_WORKDAYS
    from perception.setup.models.standards import Sla

    with demo_app.app_context():
        sla = db.session.query(Sla).filter_by(code="SLA-STD").one()
        sla_id, stored = sla.id, [w.day for w in sla.workdays]
    covered = {y for y in CHINA_WORKDAYS if date.today().year - 2 <= y <= date.today().year + 1}
    expected = [date.fromisoformat(f"{y}-{md}") for y in sorted(covered) for md, _ in CHINA_WORKDAYS[y]]
    assert [d for d in stored if d.year in covered] == expected
    client = signed_in(demo_app, "owner")
    for lang in ("en", "zh-CN"):
        text = visible_text(
            client.get(f"/setup/slas/{sla_id}", headers={"Accept-Language": lang}).get_data(as_text=True)
        )
        assert all(d.isoformat() in text for d in stored)
