"""On the demo data (issue 15): the common need sent to the market department is one real need,
raised in its several wordings by customers of several regions, with a label a market user reads
as that need; praise of a training is never a common need. On the whole demo (the shared build)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, tuple_

pytestmark = pytest.mark.slow


def test_the_demo_sends_a_real_common_need_to_market(demo_session):
    from perception.analysis.models import Opportunity
    from perception.collection.demo import NEEDS, PRAISE
    from perception.core.models.facts import TextEntry

    db_session = demo_session(8, date.today())
    opp = db_session.scalar(select(Opportunity))
    assert opp is not None and opp.entry_refs and opp.n_customers >= 3 and len(opp.regions) >= 3
    texts = set(
        db_session.scalars(
            select(TextEntry.text).where(
                tuple_(TextEntry.source, TextEntry.source_id).in_([tuple(r) for r in opp.entry_refs])
            )
        )
    )
    need_of = {wording: i for i, need in enumerate(NEEDS) for wording in need[0]}
    assert len({need_of.get(t) for t in texts}) == 1 and None not in {need_of.get(t) for t in texts}
    assert not {"内容", "反馈", "同事"} & set(opp.title.split(" / "))
    assert not set(PRAISE) & texts
