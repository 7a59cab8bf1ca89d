"""Change detection over many cells at once: did a measure fall in the recent complete periods
against the baseline periods before them, for every region, service and region x service cell?

One look tests every (unit, measure) whose samples reach the minimum n on both sides with the
exact permutation test of :mod:`scoring.exact_tests` (one-sided: H1 "lower than the baseline"),
then controls the false discovery rate across everything tested in that look with
Benjamini-Hochberg. A measure flags only when its BH-adjusted p-value (q) is at most ``alpha``.
Under "nothing changed anywhere" a rejection is a false discovery, so FDR control at 5% keeps the
share of looks that flag anything at or below 5% (the rate ``bench/bench_drift.py`` measures).

Measures and their scores: ``csat`` top-2 box 1/0 (Fisher's exact test), ``nps`` promoter +1,
passive 0, detractor -1 (shown x 100), ``ces`` and each dimension the rating itself. The
perception index mixes dimensions answered by overlapping respondents, which per-category counts
do not identify; its drop is tested with a one-sided z on the index difference with the
conservative standard error sum_d w_d s_d / sqrt(n_d) per period (exact for perfectly correlated
dimensions, larger otherwise) and needs every dimension at the minimum n on both sides.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from scoring.exact_tests import benjamini_hochberg, permutation_p_values
from scoring.results import JsonResult

__all__ = [
    "MIN_N_BASELINE",
    "MIN_N_RECENT",
    "ChangeLook",
    "ChangeTest",
    "DimensionSample",
    "IndexInput",
    "IndexInputs",
    "ScoredInput",
    "ScoredInputs",
    "DropTests",
    "detect_drops",
    "drop_tests",
]

#: Fewest answers in the recent periods for a measure to be tested (stated on every page).
MIN_N_RECENT = 20
#: Fewest answers in the baseline periods.
MIN_N_BASELINE = 30


@dataclass(frozen=True)
class ScoredInput:
    """One unit's answers to one measure: counts per category in the baseline and recent periods."""

    unit: Hashable  # e.g. ("region", 3), ("service", 2), ("cell", 2, 3), ("all",)
    measure: str  # csat | nps | ces | dimension code
    scores: tuple[float, ...]
    baseline: tuple[int, ...]
    recent: tuple[int, ...]
    display_factor: float = 1.0  # 100 for NPS (shown on -100..100)


@dataclass(frozen=True, eq=False)
class ScoredInputs:
    """Many :class:`ScoredInput` at once, as columns: input i is ``units[i]``'s answers to
    ``measures[i]``, its categories in the first ``sizes[i]`` columns of ``scores``, ``baseline``
    and ``recent`` (zeros after them). The change look builds its 40,000 inputs this way
    (services.changes.build_inputs) and detect_drops reads them without an object per input."""

    units: tuple[Hashable, ...]
    measures: tuple[str, ...]
    sizes: np.ndarray  # (inputs,) int
    scores: np.ndarray  # (inputs, largest size) float
    baseline: np.ndarray  # (inputs, largest size) int
    recent: np.ndarray  # (inputs, largest size) int
    display_factor: np.ndarray  # (inputs,) float

    def __len__(self) -> int:
        return len(self.units)

    def inputs(self) -> list[ScoredInput]:
        """Each input as a ScoredInput."""
        sizes = self.sizes.tolist()
        scores, baseline, recent = (a.tolist() for a in (self.scores, self.baseline, self.recent))
        return [
            ScoredInput(u, m, tuple(scores[i][:k]), tuple(baseline[i][:k]), tuple(recent[i][:k]), f)
            for i, (u, m, k, f) in enumerate(
                zip(self.units, self.measures, sizes, self.display_factor.tolist(), strict=True)
            )
        ]

    @classmethod
    def of(cls, scored: Sequence[ScoredInput]) -> ScoredInputs:
        sizes = np.array([len(item.scores) for item in scored], dtype=np.int64)
        width = int(sizes.max(initial=0))

        def padded(rows: list[tuple[float, ...]] | list[tuple[int, ...]], dtype: type) -> np.ndarray:
            out: np.ndarray = np.zeros((len(rows), width), dtype=dtype)
            for i, row in enumerate(rows):
                out[i, : len(row)] = row
            return out

        return cls(
            tuple(item.unit for item in scored), tuple(item.measure for item in scored), sizes,
            padded([item.scores for item in scored], float),
            padded([item.baseline for item in scored], np.int64),
            padded([item.recent for item in scored], np.int64),
            np.array([item.display_factor for item in scored], dtype=float),
        )  # fmt: skip


@dataclass(frozen=True)
class DimensionSample:
    """Sums of one dimension's ratings rescaled to 0..100 in one period."""

    n: int
    total: float
    total_sq: float

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else math.nan

    @property
    def sd(self) -> float:
        if self.n < 2:
            return math.nan
        return math.sqrt(max(0.0, (self.total_sq - self.total**2 / self.n) / (self.n - 1)))


@dataclass(frozen=True)
class IndexInput:
    unit: Hashable
    baseline: dict[str, DimensionSample] = field(default_factory=dict)
    recent: dict[str, DimensionSample] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class IndexInputs:
    """Many :class:`IndexInput` at once, as columns: unit i's sums of ``dimensions[d]`` (sorted)
    on side s (0 baseline, 1 recent) are ``n[i, s, d]``, ``total[i, s, d]`` and
    ``total_sq[i, s, d]``; ``answered[i, s, d]`` says whether that side holds the dimension at
    all (the IndexInput's dictionary has it, n may still be 0)."""

    units: tuple[Hashable, ...]
    dimensions: tuple[str, ...]
    answered: np.ndarray  # (units, 2, dimensions) bool
    n: np.ndarray  # (units, 2, dimensions) int
    total: np.ndarray  # (units, 2, dimensions) float
    total_sq: np.ndarray  # (units, 2, dimensions) float

    def __len__(self) -> int:
        return len(self.units)

    def inputs(self) -> list[IndexInput]:
        """Each unit as an IndexInput."""
        answered, n = self.answered.tolist(), self.n.tolist()
        total, total_sq = self.total.tolist(), self.total_sq.tolist()
        return [
            IndexInput(
                unit,
                *(
                    {
                        d: DimensionSample(n[i][s][k], total[i][s][k], total_sq[i][s][k])
                        for k, d in enumerate(self.dimensions)
                        if answered[i][s][k]
                    }
                    for s in (0, 1)
                ),
            )
            for i, unit in enumerate(self.units)
        ]

    @classmethod
    def of(cls, indices: Sequence[IndexInput]) -> IndexInputs:
        dimensions = tuple(sorted({d for item in indices for d in (*item.baseline, *item.recent)}))
        shape = (len(indices), 2, len(dimensions))
        answered, n = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=np.int64)
        total, total_sq = np.zeros(shape), np.zeros(shape)
        for i, item in enumerate(indices):
            for s, side in enumerate((item.baseline, item.recent)):
                for k, d in enumerate(dimensions):
                    if d in side:
                        x = side[d]
                        answered[i, s, k], n[i, s, k], total[i, s, k], total_sq[i, s, k] = (
                            True, x.n, x.total, x.total_sq
                        )  # fmt: skip
        return cls(tuple(item.unit for item in indices), dimensions, answered, n, total, total_sq)


@dataclass(frozen=True)
class ChangeTest(JsonResult):
    unit: Hashable
    measure: str
    baseline_estimate: float
    recent_estimate: float
    n_baseline: int
    n_recent: int
    difference: float  # recent - baseline, on the display scale
    tested: bool
    reason: str  # "" when tested; "low_n" / "no_variation" otherwise
    method: str
    p_value: float  # one-sided, unadjusted (NaN when not tested)
    q_value: float  # Benjamini-Hochberg across the look (NaN when not tested)
    flagged: bool


@dataclass(frozen=True)
class ChangeLook(JsonResult):
    tests: tuple[ChangeTest, ...]
    alpha: float
    min_n_recent: int
    min_n_baseline: int
    correction: str
    n_tested: int

    @property
    def flags(self) -> tuple[ChangeTest, ...]:
        return tuple(t for t in self.tests if t.flagged)

    @property
    def any_flag(self) -> bool:
        return any(t.flagged for t in self.tests)


def _scored_estimates(scored: ScoredInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n and the mean score (times the display factor) of every input's baseline and recent
    sides, NaN for an empty side. A column at a time: each mean adds its categories' count x
    score in their order (the padding adds 0.0), the very numbers of a sum over the categories
    in Python, for a look's 40,000 inputs without a loop over them (issue 19)."""
    out: list[np.ndarray] = []
    for counts in (scored.baseline, scored.recent):
        total = np.zeros(len(scored))
        for c in range(counts.shape[1]):
            total = total + counts[:, c] * scored.scores[:, c]
        n = counts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out += [n, np.where(n > 0, total / n, math.nan) * scored.display_factor]
    return out[0], out[2], out[1], out[3]


@dataclass(frozen=True, eq=False)
class _IndexColumns:
    """The index test of every unit before its p-value (``_index_tests``), as columns."""

    units: tuple[Hashable, ...]
    baseline_estimate: list[float]
    recent_estimate: list[float]
    n_baseline: list[int]
    n_recent: list[int]
    reason: list[str]  # "" when tested
    z: list[float | None]  # None when not tested


def _index_tests(indices: IndexInputs, min_recent: int, min_base: int) -> _IndexColumns:
    """The index test of every unit before its p-value, and its z (None when not tested).

    A unit's index is the mean of the dimensions either side answered (weight 1 / their number);
    a side missing one of them, or answering it with n = 0, has no estimate. The sums run over
    the dimensions in their sorted order, a column at a time (a unit's other dimensions add
    0.0), the very numbers of a sum over the unit's dimensions in Python (issue 19)."""
    m, d_count = len(indices), len(indices.dimensions)
    used: np.ndarray = np.any(indices.answered, axis=1)  # (units, dimensions): on either side
    k = used.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(k > 0, 1.0 / k, math.nan)
    sides = []
    for s in (0, 1):
        n = indices.n[:, s]
        total = indices.total[:, s]
        answered = indices.answered[:, s] & (n > 0)
        whole = ~(used & ~answered).any(axis=1)  # every dimension of the unit answered
        # DimensionSample.sd term by term; Python's ** as DimensionSample computes it.
        square = np.array([t**2 for t in total.reshape(-1).tolist()]).reshape(m, d_count)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n
            sd = np.sqrt(np.maximum(0.0, (indices.total_sq[:, s] - square / n) / (n - 1)))
            spread = weight[:, None] * sd / np.sqrt(n)
        estimate, se = np.zeros(m), np.zeros(m)
        for c in range(d_count):
            estimate = np.where(used[:, c], estimate + weight * mean[:, c], estimate)
            se = np.where(used[:, c], se + spread[:, c], se)
        se = np.where((~used | (n >= 2)).all(axis=1), se, math.nan)
        smallest = np.where(used, n, np.iinfo(np.int64).max).min(axis=1, initial=np.iinfo(np.int64).max)
        sides.append(
            (
                np.where(whole, estimate, math.nan).tolist(),
                np.where(whole, se, math.nan).tolist(),
                np.where(whole & (k > 0), smallest, 0).tolist(),
            )
        )
    reasons: list[str] = []
    zs: list[float | None] = []
    (ea_l, sa_l, na_l), (eb_l, sb_l, nb_l) = sides
    for k_j, ea, sa, na, eb, sb, nb in zip(k.tolist(), ea_l, sa_l, na_l, eb_l, sb_l, nb_l, strict=True):
        reason, z = "", None
        if not k_j or na < min_base or nb < min_recent:
            reason = "low_n"
        elif not sa + sb > 0:
            reason = "no_variation"
        else:
            z = (eb - ea) / math.hypot(sa, sb)
        reasons.append(reason)
        zs.append(z)
    return _IndexColumns(tuple(indices.units), ea_l, eb_l, na_l, nb_l, reasons, zs)


@dataclass(frozen=True, eq=False)
class DropTests:
    """Every test of a look as columns (``drop_tests``): the p-values of every input and their
    Benjamini-Hochberg q-values computed, the ChangeTest objects built only for the tests asked
    for. The whole look (``look()``) is what detect_drops returns; a page that lists the flagged
    tests builds those alone (``flags()``): a national provider's look holds some 40,000 tests,
    a few of them flagged (issue 19). Test j < len(scored) is scored input j, the others the
    index tests of the units in order."""

    scored: ScoredInputs
    index: _IndexColumns
    n_baseline: list[int]
    n_recent: list[int]
    baseline_estimate: list[float]
    recent_estimate: list[float]
    enough: list[bool]
    p: list[float]
    q: list[float]
    tested: np.ndarray  # (tests,) bool, as ChangeTest.tested
    flagged: np.ndarray  # (tests,) bool, as ChangeTest.flagged
    alpha: float
    min_n_recent: int
    min_n_baseline: int

    def __len__(self) -> int:
        return len(self.tested)

    @property
    def n_tested(self) -> int:
        return int(self.tested.sum())

    def test(self, j: int) -> ChangeTest:
        """Test j as the whole look holds it."""
        p_j, q_j = self.p[j], self.q[j]
        m = len(self.scored)
        if j < m:
            ok = bool(self.tested[j])
            ea, eb = self.baseline_estimate[j], self.recent_estimate[j]
            return ChangeTest(
                self.scored.units[j], self.scored.measures[j], ea, eb, self.n_baseline[j], self.n_recent[j],
                eb - ea, ok, "" if ok else ("no_variation" if self.enough[j] else "low_n"),
                "fisher_exact" if int(self.scored.sizes[j]) == 2 else "exact_permutation",
                p_j if ok else math.nan, q_j if ok else math.nan, ok and q_j <= self.alpha,
            )  # fmt: skip
        i = j - m
        x = self.index
        ea, eb, reason = x.baseline_estimate[i], x.recent_estimate[i], x.reason[i]
        tested = not reason
        if tested and math.isnan(p_j):  # every answer has the same score
            tested, reason = False, "no_variation"
        if tested or not math.isnan(p_j):
            p_out, q_out, flag = p_j, q_j, bool(tested and q_j <= self.alpha)
        else:
            p_out, q_out, flag = math.nan, math.nan, False
        return ChangeTest(
            x.units[i], "index", ea, eb, x.n_baseline[i], x.n_recent[i], eb - ea, tested, reason,
            "conservative_z", p_out, q_out, flag,
        )  # fmt: skip

    def tests(self, positions: Sequence[int] | None = None) -> tuple[ChangeTest, ...]:
        """The tests at ``positions`` (every test when None), in their order."""
        at = range(len(self)) if positions is None else positions
        return tuple(self.test(j) for j in at)

    def flags(self) -> tuple[ChangeTest, ...]:
        """The flagged tests, as ``look().flags``."""
        return self.tests(np.flatnonzero(self.flagged).tolist())

    def look(self) -> ChangeLook:
        tests = self.tests()
        return ChangeLook(
            tests, self.alpha, self.min_n_recent, self.min_n_baseline, "benjamini_hochberg",
            sum(t.tested for t in tests),
        )  # fmt: skip


def detect_drops(
    scored: Sequence[ScoredInput] | ScoredInputs,
    indices: Sequence[IndexInput] | IndexInputs = (),
    *,
    alpha: float = 0.05,
    min_n_recent: int = MIN_N_RECENT,
    min_n_baseline: int = MIN_N_BASELINE,
) -> ChangeLook:
    """Test every input for a drop and flag those with BH q <= alpha (see the module docstring).
    ``n`` of the index is its smallest dimension's n."""
    return drop_tests(
        scored, indices, alpha=alpha, min_n_recent=min_n_recent, min_n_baseline=min_n_baseline
    ).look()


def drop_tests(
    scored: Sequence[ScoredInput] | ScoredInputs,
    indices: Sequence[IndexInput] | IndexInputs = (),
    *,
    alpha: float = 0.05,
    min_n_recent: int = MIN_N_RECENT,
    min_n_baseline: int = MIN_N_BASELINE,
) -> DropTests:
    """detect_drops' tests as columns (DropTests): every p-value and q-value, no test object yet."""
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must lie in (0, 1)")
    if not isinstance(scored, ScoredInputs):
        scored = ScoredInputs.of(scored)
    # Every test's p-value first, each form of test computed for all inputs at once: a national
    # provider's look holds 40,000 inputs, thousands of them with the minimum n.
    n_a, n_b, e_a, e_b = _scored_estimates(scored)
    enough = (n_a >= min_n_baseline) & (n_b >= min_n_recent)
    at = np.flatnonzero(enough).tolist()
    p = np.full(len(scored) + len(indices), math.nan)
    if at:
        sizes = scored.sizes[at].tolist()
        base, recent, scores = (x[at].tolist() for x in (scored.baseline, scored.recent, scored.scores))
        p[at] = permutation_p_values(
            [row[:k] for row, k in zip(base, sizes, strict=True)],
            [row[:k] for row, k in zip(recent, sizes, strict=True)],
            [row[:k] for row, k in zip(scores, sizes, strict=True)],
            alternative="less",
        )
    if not isinstance(indices, IndexInputs):
        indices = IndexInputs.of(indices)
    index = _index_tests(indices, min_n_recent, min_n_baseline)
    z_at = [len(scored) + j for j, z_j in enumerate(index.z) if z_j is not None]
    z = [z_j for z_j in index.z if z_j is not None]
    if z_at:
        from scipy import stats

        p[z_at] = stats.norm.cdf(np.array(z))
    q = benjamini_hochberg(p) if len(p) else np.zeros(0)
    # A test whose inputs reach the minimum n but give no p-value has every answer at one score;
    # an index test likewise (DropTests.test).
    has_p = ~np.isnan(p)
    m = len(scored)
    tested = has_p.copy()
    tested[:m] &= enough
    tested[m:] &= np.array([not r for r in index.reason], dtype=bool)
    with np.errstate(invalid="ignore"):
        flagged = tested & (q <= alpha)
    return DropTests(
        scored, index, n_a.tolist(), n_b.tolist(), e_a.tolist(), e_b.tolist(), enough.tolist(), p.tolist(),
        q.tolist(), tested, flagged, alpha, min_n_recent, min_n_baseline,
    )  # fmt: skip
