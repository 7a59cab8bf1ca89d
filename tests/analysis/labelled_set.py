"""The labelled set of an IT service provider's requirement and feedback texts (written for the
text-analysis tests and `bench/bench_text_quality.py`), and the measures of how well the text
analysis recovers it.

`data/labelled_texts.tsv`: one text per row with its gold need or topic (`gold`), the week
(0 = the week analysed, -1 = the week before), region, customer, kind (requirement, feedback,
dynamic), the rating a feedback comment came with (1..5), its gold sentiment and the text. Needs
are phrased five to ten ways by different customers in different regions, in Chinese and English,
with near-duplicates and noise (praise, complaints about response, upgrades, staff changes).

The gold common needs follow the product's rule on the gold grouping: a need raised in week 0 by
at least 3 customers in at least 3 regions.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).with_name("data") / "labelled_texts.tsv"
MIN_CUSTOMERS = 3
MIN_REGIONS = 3


@dataclass(frozen=True)
class LabelledText:
    id: int
    gold: str
    week: int
    region: str
    customer: str
    kind: str
    rating: int | None
    sentiment: str
    text: str


def load(path: Path = DATA) -> list[LabelledText]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        LabelledText(
            id=i + 1,
            gold=row["gold"],
            week=int(row["week"]),
            region=row["region"],
            customer=row["customer"],
            kind=row["kind"],
            rating=int(row["rating"]) if row["rating"] else None,
            sentiment=row["sentiment"],
            text=row["text"],
        )
        for i, row in enumerate(rows)
    ]


def gold_common_needs(texts: Iterable[LabelledText], week: int = 0) -> set[str]:
    """Gold needs raised in `week` by >= MIN_CUSTOMERS customers in >= MIN_REGIONS regions."""
    customers: dict[str, set[str]] = defaultdict(set)
    regions: dict[str, set[str]] = defaultdict(set)
    for t in texts:
        if t.kind == "requirement" and t.week == week:
            customers[t.gold].add(t.customer)
            regions[t.gold].add(t.region)
    return {g for g in customers if len(customers[g]) >= MIN_CUSTOMERS and len(regions[g]) >= MIN_REGIONS}


def adjusted_rand(gold: Sequence[str], found: Sequence[str | None]) -> float:
    """ARI of the found themes against the gold grouping; an unthemed text is its own group."""
    from sklearn.metrics import adjusted_rand_score

    labels = [key if key is not None else f"none-{i}" for i, key in enumerate(found)]
    return float(adjusted_rand_score(list(gold), labels))


@dataclass(frozen=True)
class NeedScore:
    precision: float
    recall: float
    found: tuple[tuple[str, str | None], ...]  # (theme key, the gold need it was matched to)
    missed: tuple[str, ...]


def common_need_score(
    need_entries: Mapping[str, Sequence[int]], texts: Sequence[LabelledText], gold_needs: set[str]
) -> NeedScore:
    """Precision and recall of the found common needs (theme key -> its entry ids).

    A found need is right when most of its texts belong to one gold common need that no other
    found need matched first (largest first); recall is the share of gold common needs matched.
    """
    by_id = {t.id: t for t in texts}
    matched: set[str] = set()
    found: list[tuple[str, str | None]] = []
    for key, ids in sorted(need_entries.items(), key=lambda kv: -len(kv[1])):
        votes = Counter(by_id[i].gold for i in ids)
        gold, n = votes.most_common(1)[0] if votes else (None, 0)
        ok = gold in gold_needs and gold not in matched and 2 * n > len(ids)
        if ok and gold is not None:
            matched.add(gold)
        found.append((key, gold if ok else None))
    right = sum(1 for _, gold in found if gold is not None)
    precision = right / len(found) if found else (1.0 if not gold_needs else 0.0)
    recall = len(matched) / len(gold_needs) if gold_needs else 1.0
    return NeedScore(precision, recall, tuple(found), tuple(sorted(gold_needs - matched)))
