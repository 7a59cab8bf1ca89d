"""The KPI-versus-experience page's figures the way before issue 19's columns, one cell at a time:
the references the page's column reads are tested against (no production code reads them), and
the fetch of the page, its chart, CSVs and API that those tests compare.

- ``cumulative_cell_sums``: a KpiCellSums per cell from an object per running-sums series (what
  kpi_experience.cumulative_kpi_cells gives as columns, and kpi_cell_sums from the weekly values);
- ``cell_parts``: one cell's sums per (kind, dimension) over the period, each pair looked up (what
  facts.CellIndex.totals gives for every cell at once);
- ``shown``: each path's text as a manager reads it (the page's figures, not its header).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from perception.analysis.services import kpi_experience as ke
from perception.analysis.services.facts import Acc, CellIndex
from perception.analysis.services.filters import AnalysisFilters
from perception.kpi.services.kpi_cumulative import ALL_TIERS, period_columns


def cumulative_cell_sums(
    session: Session, filters: AnalysisFilters, definition_ids: Collection[int]
) -> dict[tuple[int, int, int], ke.KpiCellSums] | None:
    """What kpi_cell_sums gives, from the running sums of the weekly values (two weeks' rows per
    series) with a TierSums per series; None when those are not current. The cell's weeks come
    from its ALL_TIERS series (or its one tier's rows under a tier filter); ``TierSums.first`` is
    not read (None)."""
    f = filters
    scope: dict[str, Any] = {"region_ids": f.region_ids, "service_id": f.service_id, "tier_id": f.tier_id}
    found = period_columns(session, f.start, f.end, definition_ids, **scope)
    if found is None:
        return None
    tiers: dict[tuple[int, int, int], list[ke.TierSums]] = defaultdict(list)
    weeks: dict[tuple[int, int, int], int] = {}
    for d, s, r, key, tier, wv, w, tickets, known, rows, last, target, comparator in zip(
        found.definition_id.tolist(), found.service_id.tolist(), found.region_id.tolist(),
        found.tier_key.tolist(), found.tier_id, found.weighted_sum.tolist(), found.weights.tolist(),
        found.tickets.tolist(), found.tickets_known.tolist(), found.rows.tolist(), found.last,
        found.target.tolist(), found.comparator, strict=True,
    ):  # fmt: skip
        if key == ALL_TIERS:
            weeks[(d, s, r)] = rows
            continue
        tiers[(d, s, r)].append(
            ke.TierSums(
                tier,
                wv,
                w,
                tickets if known else None,
                rows,
                None,
                last,
                None if target != target else float(target),
                comparator,
            )  # fmt: skip
        )
    out: dict[tuple[int, int, int], ke.KpiCellSums] = {}
    for cell, parts in tiers.items():
        parts.sort(key=lambda t: (0, 0) if t.tier_id is None else (1, t.tier_id))
        out[cell] = ke.KpiCellSums(
            tuple(parts), parts[0].rows if filters.tier_id is not None else weeks[cell]
        )
    return out


def cell_parts(index: CellIndex, service: int | None, region: int) -> dict[tuple[str, str | None], Acc]:
    """One cell's sums per (kind, dimension) over the period, pairs ascending, each looked up."""
    si, ri = index._s.get(-1 if service is None else service), index._r.get(region)
    if si is None or ri is None:
        return {}
    codes, sums = index._cell_codes, index._cell_sums
    out: dict[tuple[str, str | None], Acc] = {}
    for p, pair in enumerate(index.pairs):
        code = (p * len(index.services) + si) * len(index.regions) + ri
        row = int(np.searchsorted(codes, code))
        if row < len(codes) and codes[row] == code:
            n, s_, ss, y, yy, top2, prom, detr = sums[row].tolist()
            # Counts are sums of whole numbers in float64: exact, int() is enough.
            out[pair] = Acc(int(n), s_, ss, y, yy, int(top2), int(prom), int(detr))
    return out


def content(html: str) -> str:
    """The KPI-versus-experience page's figures (what follows its header and filters)."""
    return html.split('<div class="stats">', 1)[1]


def shown(client: Any, paths: Sequence[str], headers: Mapping[str, str]) -> list[str]:
    """Each path's text, computed afresh (no kept view): the page's figures, or the whole chart,
    CSV or API answer."""
    ke.forget_kept()
    out = []
    for path in paths:
        r = client.get(path, headers=headers)
        assert r.status_code == 200, path
        text = r.get_data(as_text=True)
        out.append(content(text) if "kpi-vs-experience?" in path and "/api/" not in path else text)
    return out
