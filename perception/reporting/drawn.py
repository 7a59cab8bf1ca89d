"""Charts kept by what they are drawn from: the same inputs give the same bytes, so they are
drawn once.

A chart here is a pure function of its arguments (the labels come translated, the numbers from
the caller, and the rendering is deterministic: perception.reporting.figures), and a matplotlib
figure costs tens of milliseconds of CPU. The pages show the same charts again and again: a
page's view is kept until its data change (perception.core.kept), so every manager who opens the
KPI page, in every tab and every reload, asked for the same trend charts, one per KPI, and each
request drew its chart again (a third of the CPU of a browser walking the demo's pages, py-spy,
session 21). Kept per process under a key made of every argument's value (arrays by their bytes,
dataclasses field by field, floats exactly), bounded in bytes (``KEPT_BYTES``, least recently used
dropped first) and locked. SVG only, the pages' format: a PDF's PNG charts are drawn once per PDF
anyway, and are larger. A call that asks to inspect the figure (tests) or passes a value this module
cannot read as a key is drawn as before.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec

import numpy as np

P = ParamSpec("P")

#: The SVG kept per process: a trend chart is some 10-60 kB, a national provider's heat map a few
#: hundred; a KPI page of 40 KPIs in two languages and several pages besides fit.
KEPT_BYTES = 32 * 1024 * 1024

_lock = threading.Lock()
_kept: OrderedDict[Hashable, bytes] = OrderedDict()
_kept_bytes = 0


class _NotAKey(Exception):
    """An argument this module cannot turn into a key: the chart is drawn."""


def _key(value: Any) -> Hashable:
    """``value`` as a hashable key equal for equal values (NaN included: repr, not ==)."""
    if isinstance(value, bool | np.bool_):
        return ("b", bool(value))  # True == 1 as a dictionary key: told apart
    if value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float | np.floating):
        return ("f", float(value).hex())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, list | tuple):
        return ("s", *(_key(v) for v in value))
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return ("s", *(_key(v) for v in value.tolist()))
        return ("a", value.shape, value.dtype.str, value.tobytes())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__qualname__, *(_key(getattr(value, f.name)) for f in dataclasses.fields(value)))
    raise _NotAKey(type(value).__name__)


def kept_by_inputs(chart: Callable[P, bytes]) -> Callable[P, bytes]:
    """``chart``, drawing each distinct set of arguments once per process."""

    @functools.wraps(chart)
    def kept(*args: P.args, **kwargs: P.kwargs) -> bytes:
        if kwargs.get("inspect") is not None or kwargs.get("fmt", "svg") != "svg":
            return chart(*args, **kwargs)
        try:
            key = (chart.__qualname__, _key(args), _key(sorted(kwargs.items())))
        except _NotAKey:
            return chart(*args, **kwargs)
        with _lock:
            found = _kept.get(key)
            if found is not None:
                _kept.move_to_end(key)
                return found
        data = chart(*args, **kwargs)
        global _kept_bytes
        with _lock:
            if key not in _kept:
                _kept[key] = data
                _kept_bytes += len(data)
            while _kept_bytes > KEPT_BYTES:
                _kept_bytes -= len(_kept.popitem(last=False)[1])
        return data

    return kept


def forget() -> None:
    """Drop every kept chart (tests, benchmarks)."""
    global _kept_bytes
    with _lock:
        _kept.clear()
        _kept_bytes = 0
