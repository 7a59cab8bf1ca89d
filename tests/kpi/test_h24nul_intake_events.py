"""A NUL character in a signed service-desk event (session 18), written "\\u0000" in its JSON (a raw
NUL byte is no JSON). On PostgreSQL an event whose ticket id or event name held one answered 500
(`psycopg.DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes`, on the lookup of
the ticket's newest event or on the event row), where SQLite applied it and kept the NUL in the
event's name. An event refused for a NUL elsewhere (engineer, an unknown key, a customer code)
answered 422, but its dead letter, whose error text quoted the value, was lost on PostgreSQL:
the write after the request failed and was only logged; so was the dead letter of a body holding
a raw NUL byte (400, not JSON). Now an event holding one is refused before it is read, naming
each place (`nul_character`, English and Chinese), its dead letter is kept on both databases and
holds no NUL (one in the body is written \\0), and replaying it refuses it again."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from perception.core.models.base import utcnow
from perception.kpi.intake_models import IntakeEvent
from perception.kpi.models import Ticket
from perception.kpi.services.intake import replay
from tests.kpi.test_intake import connect, payload, post

CHANGES = {  # where the NUL is -> the event with it
    "ticket_id": lambda p: {**p, "ticket_id": "G\x00-1"},
    "event": lambda p: {**p, "event": "up\x00date"},
    "engineer": lambda p: {**p, "engineer": "李\x00工"},
    "customer": lambda p: {**p, "customer": "R1\x00-C"},
    "col\\0our": lambda p: {**p, "col\x00our": "red"},
}


def _event(change: Any = None) -> dict[str, Any]:
    now = utcnow()
    body = payload("generic", "G-1", now - timedelta(hours=1), now - timedelta(minutes=1))
    return change(body) if change else body


def _dead_letters(session: Any) -> list[IntakeEvent]:
    return list(session.scalars(select(IntakeEvent).where(IntakeEvent.status == "dead")))


@pytest.mark.parametrize("where", list(CHANGES))
def test_an_event_holding_a_nul_is_a_kept_dead_letter_naming_the_place(
    client: Any, db_session: Any, catalog: Any, where: str
) -> None:
    connect(db_session, "generic")
    answer = post(client, "GENERIC", _event(CHANGES[where]))
    assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
    (error,) = answer.get_json()["errors"]
    assert (error["field"], error["code"]) == (where, "nul_character")
    assert "NUL character (0x00)" in error["detail_en"] and "空字符（0x00）" in error["detail_zh"]
    (dead,) = _dead_letters(db_session)
    assert dead.error_code == "nul_character" and "\x00" not in (dead.error or "") + dead.body
    assert "\\u0000" in dead.body  # the event as it was sent
    assert db_session.scalar(select(func.count()).select_from(Ticket)) == 0
    again = replay(db_session, dead, utcnow())
    assert again.status == "dead" and again.problems[0].code == "nul_character"


def test_a_raw_nul_byte_is_no_json_and_its_dead_letter_is_kept(
    client: Any, db_session: Any, catalog: Any
) -> None:
    connect(db_session, "generic")
    body = json.dumps(_event()).encode().replace(b"P3", b"P\x003")
    answer = post(client, "GENERIC", body)
    assert answer.status_code == 400 and answer.get_json()["errors"][0]["code"] == "invalid_json"
    (dead,) = _dead_letters(db_session)
    assert '"P\\03"' in dead.body  # the byte written \0, so the letter shows where it was
    assert replay(db_session, dead, utcnow()).problems[0].code == "invalid_json"
