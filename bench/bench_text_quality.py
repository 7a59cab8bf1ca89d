"""Benchmark: how well the text analysis recovers the labelled set (tests/analysis/data).

Run: python bench/bench_text_quality.py. Prints
- the adjusted Rand index of the themes against the gold grouping (all 304 texts, the
  requirements alone and the rest), with texts stratified and cut as the application does;
- common-need precision and recall for week 0 (>= 3 customers in >= 3 regions, the product's
  default rule) against the gold common needs;
- sentiment balanced accuracy of the classifier trained on rating-derived labels only (1-2
  negative, 3 neutral, 4-5 positive; no person's label): cross-validated on the distinct rated
  comments and on a held-back 20% never trained on, scored against the gold sentiment.
Targets (issue 15): ARI >= 0.7, precision and recall >= 0.9, balanced accuracy >= 0.85.

With ``--generated N`` it scores the themes the same way on N texts of the generated set
(bench/text_corpus.py: the labelled set's needs and more, varied as real reports vary), newest
week as week 0, and prints the seconds and CPU seconds of the theme discovery; add
``--labelled-needs-only`` to generate from the labelled set's needs and topics alone (the same
scale and noise, needs drawn as finely as the labelled set draws them).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from perception.analysis.services.text_ratings import stratum, thresholds  # noqa: E402
from scoring.text import Tokenizer, common_needs, discover_themes  # noqa: E402
from scoring.text.classify import evaluate_classifier, rating_sentiment  # noqa: E402
from tests.analysis.labelled_set import (  # noqa: E402
    adjusted_rand,
    common_need_score,
    gold_common_needs,
    load,
)


def generated(n: int, extra: bool = True) -> None:
    from text_corpus import generate

    from scoring.text import discover_themes as discover

    texts = generate(n, extra=extra)
    rated = {t.id: rating_sentiment(t.rating, 1, 5) if t.rating else None for t in texts}
    strata = [stratum(t.kind, rated[t.id]) for t in texts]
    started, cpu = time.perf_counter(), time.process_time()
    model = discover([t.text for t in texts], [t.id for t in texts], Tokenizer(), strata=strata,
                     thresholds=thresholds(strata))  # fmt: skip
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    theme_of = model.theme_of()
    found = common_needs(
        model.assignments,
        {t.id: str(t.customer) for t in texts},
        {t.id: t.region for t in texts},
        {t.id: t.week if t.kind == "requirement" else None for t in texts},
        0,
    )
    gold = gold_common_needs(texts)  # type: ignore[arg-type]
    score = common_need_score({n.theme_key: n.entry_ids for n in found}, texts, gold)  # type: ignore[arg-type]
    print(
        f"generated texts: {len(texts):,}, themes: {len(model.themes)} in {seconds:.1f} s ({cpu:.1f} s CPU)"
    )
    ari = adjusted_rand([t.gold for t in texts], [theme_of[t.id] for t in texts])
    print(f"adjusted Rand index, all texts: {ari:.3f}")
    for kind in ("requirement", "feedback"):
        pick = [t for t in texts if t.kind == kind]
        ari = adjusted_rand([t.gold for t in pick], [theme_of[t.id] for t in pick])
        print(f"adjusted Rand index, {kind} ({len(pick):,}): {ari:.3f}")
    print(
        f"common needs week 0: found {len(found)}, gold {len(gold)}, precision {score.precision:.3f}, "
        f"recall {score.recall:.3f}, missed {list(score.missed)}"
    )
    with open("/proc/loadavg") as handle:
        print(f"load average: {' '.join(handle.read().split()[:3])}")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--generated":
        generated(int(sys.argv[2]), extra="--labelled-needs-only" not in sys.argv)
        return
    texts = load()
    tokenizer = Tokenizer()
    started = time.perf_counter()
    # As the application runs it: requirements apart from comments, comments by their rating's
    # band, each family with its own clustering cut (perception.analysis.services.text_ratings).
    strata = [stratum(t.kind, rating_sentiment(t.rating, 1, 5) if t.rating else None) for t in texts]
    model = discover_themes(
        [t.text for t in texts],
        [t.id for t in texts],
        tokenizer,
        strata=strata,
        thresholds=thresholds(strata),
    )
    seconds = time.perf_counter() - started
    theme_of = model.theme_of()
    ari = adjusted_rand([t.gold for t in texts], [theme_of[t.id] for t in texts])
    needs = [t for t in texts if t.kind == "requirement"]
    ari_needs = adjusted_rand([t.gold for t in needs], [theme_of[t.id] for t in needs])
    voices = [t for t in texts if t.kind != "requirement"]
    ari_voices = adjusted_rand([t.gold for t in voices], [theme_of[t.id] for t in voices])
    found = common_needs(
        model.assignments,
        {t.id: t.customer for t in texts},
        {t.id: t.region for t in texts},
        {t.id: t.week if t.kind == "requirement" else None for t in texts},
        0,
    )
    score = common_need_score({n.theme_key: n.entry_ids for n in found}, texts, gold_common_needs(texts))
    rated = [t for t in texts if t.rating is not None]
    derived = [rating_sentiment(t.rating, 1, 5) or "" for t in rated]  # type: ignore[arg-type]
    evaluation = evaluate_classifier(
        [t.text for t in rated], derived, tokenizer, sentiment_cues=True, random_state=0
    )
    agree = sum(d == t.sentiment for d, t in zip(derived, rated, strict=True)) / len(rated)
    with open("/proc/loadavg") as handle:
        load_average = handle.read().split()[:3]
    print(f"texts: {len(texts)} ({len(needs)} requirements), themes: {len(model.themes)} in {seconds:.1f} s")
    print(f"adjusted Rand index, all texts:     {ari:.3f}")
    print(f"adjusted Rand index, requirements:  {ari_needs:.3f}")
    print(f"adjusted Rand index, comments and events: {ari_voices:.3f}")
    print(
        f"common needs week 0: found {len(found)}, gold {len(gold_common_needs(texts))}, "
        f"precision {score.precision:.3f}, recall {score.recall:.3f}, missed {list(score.missed)}"
    )
    print(
        f"sentiment from ratings only: {evaluation.n_distinct} distinct rated comments, "
        f"rating label = gold for {agree:.1%}; balanced accuracy CV {evaluation.cv_balanced_accuracy:.3f} "
        f"+- {evaluation.cv_balanced_accuracy_std:.3f} ({evaluation.folds} folds), "
        f"held back ({evaluation.n_held_back}) {evaluation.held_back_balanced_accuracy:.3f}"
    )
    print(f"load average: {' '.join(load_average)}")


if __name__ == "__main__":
    main()
