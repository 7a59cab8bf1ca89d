"""The end-to-end tier: demo loads, real browsers and servers, packaging, and the paths that only
exist on PostgreSQL or Redis. Every test collected here is marked ``slow`` (``-m "not slow"``
leaves the tier out; a plain ``pytest`` runs it).

Fixtures of a phase that these tests need are taken from that phase's conftest, not copied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.demo_live import DemoSessions
from tests.review.conftest import observe  # noqa: F401 - fixture for test_demo_review.py

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Called with every item of the session, not only this folder's: select ours by path.
    for item in items:
        if HERE in item.path.parents and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def demo_session(demo_databases: DemoSessions) -> Iterator[Callable[..., Any]]:
    """``demo_session(weeks, today)``: a session on the demo, built once per process on the test
    database's kind and rolled back after the test (tests/e2e/demo_live.py ``DemoSessions``)."""
    with ExitStack() as stack:

        def open_session(weeks: int, today: date | None = None) -> Any:
            return stack.enter_context(demo_databases.open(weeks, today or date.today()))

        yield open_session
