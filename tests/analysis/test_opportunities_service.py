"""Opportunities from common needs: created inside the user's scope, owned by market users, queue."""

from __future__ import annotations

import pytest

from tests.analysis.test_text_analysis import MOBILE, ONSITE, REPORTS, SPARES, _run, _theme_of


@pytest.fixture
def themed(db_session, write_texts):
    mobile = write_texts(MOBILE)
    write_texts(ONSITE + SPARES + REPORTS)
    _run(db_session)
    (key,) = _theme_of(db_session, mobile)
    return key


def test_send_common_need_to_market_and_follow_up(db_session, themed, make_user, three_regions):
    from datetime import timedelta

    from perception.analysis.services.opportunities import (
        OpportunityUpdate,
        create_from_need,
        opportunities,
        update_opportunity,
    )
    from perception.analysis.services.text_settings import TextAnalysisError
    from tests.analysis.conftest import MONDAY

    market = make_user("marketeer", "market")
    analyst = make_user("ana", "analyst")
    end = MONDAY + timedelta(weeks=4)
    opp = create_from_need(
        db_session,
        kind="common",
        theme_key=themed,
        period_start=MONDAY,
        period_end=end,
        region_ids=None,
        created_by_id=analyst.id,
    )
    assert opp.status == "new" and opp.n_customers == 6 and len(opp.regions) == 3
    assert "3 个地区" in opp.summary_zh and "3 regions" in opp.summary_en
    assert [o.id for o in opportunities(db_session, queue_for=market.id)] == [opp.id]
    with pytest.raises(TextAnalysisError):
        update_opportunity(db_session, opp, OpportunityUpdate(owner_id=analyst.id))  # not a market user
    update_opportunity(db_session, opp, OpportunityUpdate(status="contacted", owner_id=market.id))
    assert opp.status == "contacted" and opp.owner_id == market.id
    with pytest.raises(TextAnalysisError):
        update_opportunity(db_session, opp, OpportunityUpdate(status="won"))
    # A region-bound user cannot send a need that is common only across regions they cannot see.
    regions, _ = three_regions
    with pytest.raises(TextAnalysisError):
        create_from_need(
            db_session,
            kind="common",
            theme_key=themed,
            period_start=MONDAY,
            period_end=end,
            region_ids=frozenset({regions["R1"].id}),
            created_by_id=analyst.id,
        )
    assert opportunities(db_session, region_ids=frozenset({regions["R3"].id}))[0].id == opp.id
