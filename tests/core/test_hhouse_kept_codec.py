"""The stored form of a kept result (perception.core.kept.Codec, pydantic): every kind of value the
pages' result dataclasses hold comes back exactly (floats to the bit, NaN and infinities, dates,
enums, Decimal, fixed and variadic tuples, units that must stay hashable), written again to the
same bytes; a row that does not fit the type is UnreadableRow, whatever it names; a result type
whose shape changes gets another format, so its older rows are never read."""

from __future__ import annotations

import enum
import json
import struct
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from perception.core.kept import Kept, UnreadableRow, codec, decode, encode, structure


class Side(enum.Enum):
    BASELINE = "baseline"
    RECENT = 2


@dataclass(frozen=True)
class Cell:
    unit: Hashable
    key: tuple[Any, ...]
    period: Any
    estimate: float
    share: float | None


@dataclass(frozen=True)
class Look:
    start: date
    computed_at: datetime | None
    side: Side
    amount: Decimal
    counts: tuple[int, int, int]
    regions: frozenset[int] | None
    values: tuple[float, ...]
    cells: tuple[Cell, ...]
    names: tuple[str, ...]
    parent: Look | None = None


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


FLOATS = (0.1 + 0.2, -0.0, 5e-324, 1.7976931348623157e308, float("inf"), float("-inf"), float("nan"), 1 / 3)


def _look() -> Look:
    cells = (
        Cell(("cell", 3, 7), ("cell", 3, 7), "2026-W05", 0.1 + 0.2, None),
        Cell("all", ("all",), "2026-03", float("nan"), 1.0),
        Cell(("region", 4), ("region", 4), None, -0.0, float("inf")),
    )
    inner = Look(
        date(2026, 1, 1), None, Side.BASELINE, Decimal("0.10"), (0, 0, 0), None, (), (), ("总体", "all")
    )
    return Look(
        date(2026, 3, 1),
        datetime(2026, 5, 1, 8, 0, 0, 123456),
        Side.RECENT,
        Decimal("12345678901234567890.000000001"),
        (1, -2, 2**62),
        frozenset({3, 1, 2}),
        FLOATS,
        cells,
        ("华北区", 'North "quoted" \\ region\n'),
        inner,
    )


def test_a_result_comes_back_exactly_and_writes_the_same_bytes():
    look = _look()
    stored = codec(Look).dumps(look)
    back = codec(Look).loads(stored)
    assert repr(back) == repr(look)  # every field, 3 apart from 3.0, NaN as NaN
    assert [_bits(x) for x in back.values] == [_bits(x) for x in FLOATS]  # -0.0, subnormals, NaN
    assert type(back.cells) is tuple and type(back.cells[0].unit) is tuple
    assert {c.unit for c in back.cells} == {("cell", 3, 7), "all", ("region", 4)}  # hashable again
    assert back.side is Side.RECENT and back.parent is not None and back.parent.side is Side.BASELINE
    assert codec(Look).dumps(back) == stored
    # encode / decode are the same form as JSON data.
    assert repr(decode(Look, json.loads(json.dumps(encode(Look, look))))) == repr(look)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: {**d, "counts": [1, 2]},  # a fixed tuple of another length
        lambda d: {**d, "counts": [1, 2, "3"]},  # text where a number is
        lambda d: {**d, "counts": [1, 2, 3.5]},
        lambda d: {**d, "counts": [1, 2, True]},
        lambda d: {**d, "side": "sideways"},  # no such member
        lambda d: {**d, "start": "yesterday"},
        lambda d: {**d, "amount": "a lot"},
        lambda d: {**d, "values": "x"},
        lambda d: {k: v for k, v in d.items() if k != "cells"},  # a field missing
        lambda d: {**d, "cells": [{"__class__": "os.system", "args": ["true"]}]},
        lambda d: {"__class__": "os.system", "args": ["true"]},
        lambda d: [d],
    ],
)
def test_a_row_that_does_not_fit_is_unreadable(spoil):
    data = encode(Look, _look())
    with pytest.raises(UnreadableRow):
        decode(Look, spoil(data))
    with pytest.raises(UnreadableRow):
        codec(Look).loads(b"[{not json")


def test_another_shape_is_another_format():
    @dataclass(frozen=True)
    class Figures:
        values: tuple[float, ...]

    first = structure(Figures)

    @dataclass(frozen=True)  # type: ignore[no-redef]
    class Figures:
        values: tuple[float | None, ...]

    assert structure(Figures) != first
    assert Kept("hhouse_test", Figures).format != Kept("hhouse_test", Figures, format=2).format
    assert decode(Figures, {"values": [1.5, None]}).values == (1.5, None)
