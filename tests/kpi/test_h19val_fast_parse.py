"""The column-wise fast paths of the ticket import accept and refuse exactly what the value-by-value
parser does, with the same messages (issue 19: a faster validate step must not change a verdict).

- Date-time columns: ``parse_datetimes`` (NumPy's ISO reader for a clean column, else the values
  grouped by shape and read as digit arrays) against ``_slow_one``, the one-value parser, over
  values shaped as service desks export them (ISO, Chinese Excel's "2026/3/2 9:15", dots, offsets,
  "Z", seconds with fractions) and as they go wrong (impossible days and hours, 2-digit years,
  full-width digits, Chinese text, stray spaces, empty cells).
- Whole tickets: ``parse_tickets`` over a table of mixed good and bad rows against the same rows
  parsed one at a time (one-row tables): the same problems (row, column, value, reason, in the
  same order) and the same parsed values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perception.kpi.services.codebook import Codebook
from perception.kpi.services.files import Table
from perception.kpi.services.messages import ProblemList
from perception.kpi.services.ticket_parse import parse_tickets
from perception.kpi.services.ticket_time import _slow_one, parse_datetimes

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@st.composite
def exported_datetime(draw: st.DrawFn) -> str:
    """A date-time cell as an export writes it, or nearly (a field out of range, a stray mark)."""
    year = draw(st.sampled_from([2026, 2025, 2024, 1999, 9999, 1, 0, 26]))
    month, day = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    hour, minute, second = draw(st.integers(0, 25)), draw(st.integers(0, 61)), draw(st.integers(0, 61))
    padded = draw(st.booleans())
    two = "{:02d}" if padded else "{:d}"
    date_sep = draw(st.sampled_from(["-", "/", ".", "-", "/", "年", ""]))
    text = ("{:04d}" if year >= 1000 or padded else "{:d}").format(year)
    text += date_sep + two.format(month) + date_sep + two.format(day)
    text += draw(st.sampled_from([" ", " ", "T", "t", "  ", "_", ""]))
    text += two.format(hour) + ":" + f"{minute:02d}"
    if draw(st.booleans()):
        text += ":" + f"{second:02d}" + draw(st.sampled_from(["", "", ".123", ",5", ".123456", "."]))
    text += draw(
        st.sampled_from(["", "", "", "Z", "z", "+08:00", "-0530", "+0800", " +08:00", "+8:00", "GMT"])
    )
    text = draw(st.sampled_from(["", "", "", " ", "\u3000"])) + text + draw(st.sampled_from(["", "", " "]))
    if draw(st.integers(0, 19)) == 0:
        text = text.translate(FULL_WIDTH)
    return text


cells = st.one_of(
    exported_datetime(),
    exported_datetime(),
    st.sampled_from(["", "", " ", "未知", "2026年3月2日 9:15", "N/A", "2026-03-02", "09:15"]),
    st.text(alphabet="0123456789-/: T张三+", max_size=20),
    st.builds(lambda pad: "2026-03-02 09:15" + " " * pad, st.integers(20, 40)),  # long: one by one
)


def _overflows(text: str) -> bool:
    """A value the one-value parser cannot take to UTC (an offset past year 1 or 9999): it raises,
    as it did before the fast path, so the comparison leaves it out."""
    try:
        _slow_one(text)
    except OverflowError:
        return True
    return False


def _reference(values: list[str]) -> tuple[list[Any], list[bool], list[int]]:
    moments: list[Any] = []
    utc: list[bool] = []
    bad: list[int] = []
    for i, text in enumerate(values):
        parsed = _slow_one(text) if text else None
        if text and parsed is None:
            bad.append(i)
        moments.append(None if parsed is None else parsed[0])
        utc.append(bool(parsed and parsed[1]))
    return moments, utc, bad


def _check_column(values: list[str]) -> None:
    values = [v for v in values if not _overflows(v)]
    moments, utc, bad = parse_datetimes(values)
    want_moments, want_utc, want_bad = _reference(values)
    assert bad == want_bad
    assert [None if np.isnat(m) else m for m in moments] == want_moments
    assert utc.tolist() == want_utc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cells, max_size=60))
def test_a_date_time_column_reads_as_each_value_alone(values):
    _check_column(values)


iso_like = st.builds(
    lambda day, rest, tail: day + rest + tail,
    st.sampled_from(
        [
            "2026-03-02",
            "0000-01-01",
            "2026-02-30",
            "2026-13-01",
            "10000-01-01",
            "2024-02-29",
            "1-10-10",
            "26-03-02",
            "202-03-02",
        ]
    ),  # fmt: skip
    st.sampled_from(
        [" 09:15", "T09:15", " 09:15:00", " 09:15:00.123456", " 23:59:59.5", " 24:00", " 09", ""]
    ),
    st.sampled_from(["", "", "", ".", " ", "   ", "\t", "Z", "+08:00", "0"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(iso_like, st.just("")), min_size=1, max_size=30))
def test_an_iso_column_reads_as_each_value_alone(values):
    """NumPy's ISO reader serves a column only when it reads every value as ``_slow_one`` does."""
    _check_column(values)


@settings(max_examples=100, deadline=None)
@given(st.lists(exported_datetime(), min_size=1, max_size=40), st.integers(1, 400))
def test_many_rows_of_few_shapes(values, repeat):
    """A long column of a few shapes (the shape of a real export): each shape read once for all."""
    _check_column((values * repeat)[:5000])


def test_chinese_excel_and_iso_columns():
    """The forms named in the module docstring, explicitly (the generator may not draw them all)."""
    values = [
        "2026/3/2 9:15", "2026/12/31 23:59", "2026-03-02 09:15:00", "2026-03-02T09:15:00.123456",
        "2026.03.02 09:15", "2026-03-02 09:15+08:00", "2026-03-02T01:15Z", "2026-03-02 09:15:00 -0530",
        "2026/2/29 9:15", "2024/2/29 9:15", "2026/4/31 9:15", "2026/3/2 24:00", "0000-01-01 00:00",
        "", " ", "未知", "２０２６-03-02 09:15", "2026/3/2", "2026-03-02 09:15:60",
    ]  # fmt: skip
    moments, utc, bad = parse_datetimes(values)
    assert bad == [8, 10, 11, 12, 14, 15, 17, 18]
    assert str(moments[0]) == "2026-03-02T09:15:00" and str(moments[1]) == "2026-12-31T23:59:00"
    assert str(moments[5]) == "2026-03-02T01:15:00" and utc[5] and not utc[0]
    assert str(moments[7]) == "2026-03-02T14:45:00" and str(moments[16]) == "2026-03-02T09:15:00"
    assert np.isnat(moments[13]) and 13 not in bad
    _check_column(values)


BOOK = Codebook(
    services={"DESK": 1, "服务台": 1, "NET": 2},
    regions={"R1": 10, "北京": 10, "R2": 20},
    region_tz={10: "Asia/Shanghai", 20: "Europe/London"},
    customers={"R1-C": 100, "R2-C": 200, "C3": 300},
    customer_region={100: 10, 200: 20},  # C3 has no region: a row must name one
    tiers={"GOLD": 1, "金牌": 1},
    subscription_tier={(100, 1): 1, (200, 2): None},
)
TICKET_HEADER = (
    "工单号", "type", "service", "region", "customer", "tier", "priority", "contact", "opened",
    "first_response", "resolved", "closed", "engineer", "status", "reopen_count", "transfers",
)  # fmt: skip
TICKET_CELLS = {
    "type": st.sampled_from(["incident", "request", "事件", "", "Request", "bogus"]),
    "service": st.sampled_from(["DESK", "desk", "服务台", "NET", "", "NOPE", " DESK "]),
    "region": st.sampled_from(["R1", "R2", "北京", "", "", "XX"]),
    "customer": st.sampled_from(["R1-C", "R2-C", "C3", "", "nobody", "r1-c"]),
    "tier": st.sampled_from(["GOLD", "gold", "金牌", "", "", "PLATINUM"]),
    "priority": st.sampled_from(["P1", "p2", "3", "", "P9", "高"]),
    "contact": st.sampled_from(["张三", "", "Ann Lee", "x" * 201]),
    "engineer": st.sampled_from(["李四", "", "y" * 121]),
    "status": st.sampled_from(["closed", "resolved", "open", "已关闭", "in progress", "", "weird"]),
    "reopen_count": st.sampled_from(["0", "1", "", "-1", "1.5", "３", "two"]),
    "transfers": st.sampled_from(["0", "2", "", "x"]),
}
TIMES = st.one_of(
    st.sampled_from(
        ["", "2026-03-02 09:15", "2026/3/2 10:15", "2026-03-02T11:15:00+08:00", "2099-01-01 00:00"]
    ),
    exported_datetime().filter(lambda text: not _overflows(text)),
)


@st.composite
def ticket_table(draw: st.DrawFn) -> Table:
    n = draw(st.integers(1, 25))
    rows = []
    for i in range(n):
        cells = {name: draw(strategy) for name, strategy in TICKET_CELLS.items()}
        cells.update({name: draw(TIMES) for name in ("opened", "first_response", "resolved", "closed")})
        cells["工单号"] = draw(st.sampled_from([f"INC{i:04d}", f"INC{i:04d}", "", "工单-7", "z" * 65]))
        rows.append([cells[name] for name in TICKET_HEADER])
    return Table(TICKET_HEADER, tuple(map(list, zip(*rows, strict=True))), n, "csv", "utf-8")


def _problems(problems: ProblemList) -> list[tuple[Any, ...]]:
    return [(p.row, p.field, p.value, p.code, p.text("zh"), p.text("en")) for p in problems.items]


def _values(columns: Any) -> dict[str, list[Any]]:
    out = {}
    for name, value in vars(columns).items():
        out[name] = value.astype("int64").tolist() if isinstance(value, np.ndarray) else list(value)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ticket_table())
def test_a_table_of_tickets_reads_as_each_row_alone(table):
    whole = ProblemList()
    columns = parse_tickets(table, BOOK, whole, check_repeats=False)
    assert columns is not None
    by_row: dict[int, list[tuple[Any, ...]]] = {}
    for item in _problems(whole):
        by_row.setdefault(item[0], []).append(item)
    got = _values(columns)
    for i in range(table.n_rows):
        alone = Table(table.header, tuple([c[i]] for c in table.columns), 1, "csv", "utf-8", first_row=2 + i)
        problems = ProblemList()
        row = parse_tickets(alone, BOOK, problems, check_repeats=False)
        assert row is not None
        assert by_row.get(2 + i, []) == _problems(problems)
        assert {name: values[i] for name, values in got.items()} == {k: v[0] for k, v in _values(row).items()}


def test_shapes_sharing_a_hash_are_still_told_apart():
    """Two shapes whose 64-bit hashes collide (built on purpose: the second character is 1,000,003
    higher, the first one lower) are compared whole: each value keeps its own shape."""
    from perception.kpi.services.ticket_time import _shapes

    masked = np.array([[66, 5], [65, 1_000_008], [66, 5]], dtype=np.uint32)
    first, shape_of = _shapes(masked, np.array([2, 2, 2], dtype=np.uint32))
    assert len(first) == 2 and shape_of[0] == shape_of[2] != shape_of[1]


def test_a_year_of_fewer_than_four_digits_is_refused_alone_as_beside_others():
    """NumPy reads "1-10-10 10:00:00" as year 1; the one-value parser wants four digits. Found by
    the table test: alone it was accepted, beside a Chinese Excel value refused."""
    for values in (["1-10-10 10:00:00"], ["2026/3/2 10:15", "1-10-10 10:00:00"], ["26-03-02 09:15:00"]):
        _check_column(values)
        assert parse_datetimes(values)[2] == [len(values) - 1]
