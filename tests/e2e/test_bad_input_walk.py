"""No 500 for an integer no column can hold, anywhere (issue 18, "Uploads and bad input").

Today ``?region=99999999999999999999999`` and its like answered 500 on 41 parameter/URL pairs on
PostgreSQL. The walk takes every GET route of the URL map on the demo organisation, signed in as a
role that may open it, finds the query parameters the view reads (by watching it read them) and
adds the common and the documented ones, then sends each with over-long integers; each integer
in the path is replaced by one too (404, like an id that does not exist). Runs on SQLite and, with
PERCEPTION_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from tests.probes import overlong_cases, run_overlong


def test_overlong_integers_never_answer_500(walk_world):
    tried, failed = 0, []
    for case in overlong_cases(walk_world):
        tried += 1
        outcome = run_overlong(walk_world, case)
        if not outcome.held:
            failed.append(f"{case.name} -> {outcome.status}: {outcome.detail[:160]}")
    assert tried > 500, tried
    assert not failed, f"{len(failed)} of {tried} cases failed:\n" + "\n".join(failed)
