"""Shared result plumbing for the analytics core: bilingual messages and JSON serialisation.

Every public result in :mod:`scoring` is a frozen dataclass that inherits :class:`JsonResult`, so the
web app and the API can call ``result.to_dict()`` / ``result.to_json()`` without knowing the type.
NaN and infinities become ``null`` (JSON has no NaN); NumPy scalars become Python numbers; tuples
become lists.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DEFAULT_MIN_N", "GroupMeasure", "JsonResult", "Message", "to_jsonable"]

#: Sample size below which every measure carries ``low_sample=True`` (callers must display it).
DEFAULT_MIN_N = 30


def to_jsonable(value: Any) -> Any:
    """Convert a result (dataclass, NumPy value, tuple, mapping) into plain JSON-ready Python."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


class JsonResult:
    """Mixin for frozen result dataclasses: ``to_dict()`` and ``to_json()``."""

    def to_dict(self) -> dict[str, Any]:
        out = to_jsonable(self)
        assert isinstance(out, dict)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Message(JsonResult):
    """A message meant for a person, with a stable code and both languages."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class GroupMeasure(JsonResult):
    """One measure for one group, with its interval and the low-sample flag callers must display.

    Units: shares (``csat``, ``top_box``, ``bottom_box``) on 0..1; ``nps`` on -100..100; means on
    the rating scale; ``perception_index`` on 0..100. ``successes`` is the count behind a share,
    ``promoters``/``detractors`` the counts behind an NPS, ``sd`` the sample SD behind a mean.
    """

    key: tuple[Any, ...]
    measure: str
    n: int
    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    method: str
    low_sample: bool
    successes: int | None = None
    promoters: int | None = None
    detractors: int | None = None
    sd: float | None = None
