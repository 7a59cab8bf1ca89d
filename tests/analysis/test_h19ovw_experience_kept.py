"""Issue 19: the experience page keeps its view while the answers and names are unchanged (every
load computed it again: 0.7-0.9 s at a tenth of a national provider's size). What is kept equals
what is computed, field for field, as another process reads it back; a process that finds it
stored reads one row and nothing of the facts, their sums or the respondents' table; an answer
written in the transaction shows at once and is never stored."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from perception.analysis.services import experience as experience_module
from perception.analysis.services.experience import ExperienceView, computed_experience, experience
from perception.analysis.services.facts import DIMENSION_CODES
from perception.analysis.services.filters import parse_filters
from perception.core import kept
from perception.core.kept import decode, encode
from perception.core.models.kept import KeptResult
from tests.analysis.conftest import MONDAY
from tests.analysis.test_h19ovw_overview_kept import _page, own_app  # noqa: F401 - the fixture

#: The facts, their weekly sums and the respondents' table (not the tables' small state rows).
READS_DATA = re.compile(r"\b(experience_observation|experience_rollup|experience_respondent)\b")
N = 80


@pytest.fixture(autouse=True)
def _nothing_kept():
    experience_module.forget_kept()
    yield
    experience_module.forget_kept()


def _ratings() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    base = rng.integers(1, 6, size=N)
    ratings = np.clip(base[:, None] + rng.integers(-1, 2, size=(N, 6)), 1, 5).astype(float)
    overall = np.clip(np.rint(ratings[:, :3].mean(axis=1) + rng.normal(0, 0.4, N)), 1, 5)
    return ratings, overall


def _write(write: Any, region: Any, service: Any) -> None:
    """Respondents rating the six dimensions with their CSAT, and SERVQUAL pairs: every part of
    the page (means, heat map, drivers, importance-performance, reliability, gaps) has figures."""
    ratings, overall = _ratings()
    for d, dim in enumerate(DIMENSION_CODES):
        write(
            region,
            service,
            "likert" if d % 2 else "rating",
            ratings[:, d],
            dimension=dim,
            ids=range(1, N + 1),
        )
    write(region, service, "csat", overall, ids=range(1, N + 1))
    write(region, service, "ces", [7, 6, 3, 5, 5], ids=range(1, 6), scale=(1, 7))
    for kind, values in (("servqual_expectation", [6, 5, 7, 6]), ("servqual_perception", [5, 5, 4, 6])):
        write(region, service, kind, values, ids=range(1, 5), scale=(1, 7), servqual="reliability")


def _observe(db_session: Any) -> Any:
    from tests.facts import insert_observations

    def write(region, service, kind, values, *, ids, dimension=None, scale=(1, 5), servqual=None):
        insert_observations(
            db_session, region, service, kind, values, day=MONDAY, source_ids=ids, dimension=dimension,
            item=dimension or ("q1" if servqual else None), scale=scale,
        )  # fmt: skip
        if servqual:
            from sqlalchemy import update

            from perception.core.models.facts import ExperienceObservation as Obs

            db_session.execute(update(Obs).where(Obs.kind == kind).values(servqual_dimension=servqual))

    return write


def test_the_kept_view_is_the_computed_one(db_session, org, catalog, period_args):
    _write(_observe(db_session), org["R1"]["region"], catalog["DESK"])
    f = parse_filters(db_session, period_args, None, today=MONDAY)
    view = experience(db_session, f)
    assert view.drivers is not None and view.ipa is not None and view.servqual and view.reliability
    assert view.computed_at is not None
    now = computed_experience(db_session, f)
    assert repr(now) == repr(ExperienceView(**{**view.__dict__, "computed_at": None}))
    # As another process reads it back from the stored row.
    back = decode(ExperienceView, json.loads(json.dumps(encode(ExperienceView, view))))
    assert repr(back) == repr(view)
    assert experience(db_session, f) is view  # a second load computes nothing


def test_an_answer_of_the_transaction_shows_at_once_and_is_never_stored(
    db_session, org, catalog, period_args
):
    _write(_observe(db_session), org["R1"]["region"], catalog["DESK"])
    f = parse_filters(db_session, period_args, None, today=MONDAY)
    before = experience(db_session, f)
    _observe(db_session)(org["R2"]["region"], catalog["DESK"], "rating", [1, 2], dimension="staff_attitude",
                         ids=[9001, 9002])  # fmt: skip
    after = experience(db_session, f)
    staff = DIMENSION_CODES.index("staff_attitude")
    assert dict(after.dimensions)["staff_attitude"].n == dict(before.dimensions)["staff_attitude"].n + 2
    assert [r[1] for r in after.heat_regions] == ["R1", "R2"] and after.heat_n[1][staff] == 2
    stored = db_session.scalar(
        select(func.count()).select_from(KeptResult).where(KeptResult.page == "analysis_experience")
    )
    assert stored == 0  # over uncommitted answers: kept for this transaction alone


def test_another_process_reads_the_kept_view_only(own_app, reads):  # noqa: F811
    from perception.core.extensions import db
    from perception.core.models.org import Region
    from perception.setup.models.catalog import Service

    with own_app.app_context():
        region = Region(code="R1", name_zh="北京", name_en="Beijing")
        service = Service(code="DESK", name_zh="服务台", name_en="Service desk")
        db.session.add_all([region, service])
        db.session.flush()
        _write(_observe(db.session), region, service)
        db.session.commit()
    client = own_app.test_client()
    assert client.post("/login", data={"username": "m", "password": "pw-0123456789abc"}).status_code == 302
    last = MONDAY + timedelta(days=6)
    path = f"/analysis/experience?from={(MONDAY - timedelta(weeks=4)).isoformat()}&to={last.isoformat()}"
    first = client.get(path)
    assert first.status_code == 200 and "Computed at" in first.get_data(as_text=True)
    with own_app.app_context():
        assert db.session.scalar(select(func.count()).where(KeptResult.page == "analysis_experience")) == 1

    experience_module.forget_kept()  # another process: only the stored row
    with own_app.app_context():
        engine = db.engine
    with reads.watching(engine):
        second = client.get(path)
    assert second.status_code == 200
    assert _page(second) == _page(first)
    assert [s for s in reads.statements if READS_DATA.search(s)] == []
    assert reads.codecs == [kept.codec(ExperienceView)]
