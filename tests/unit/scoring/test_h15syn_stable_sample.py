"""A large stratum's sample moves with its pool: texts that enter displace at most as many sampled
units as they are, so a weekly full recompute over 1% new texts clusters nearly the same sample
(a random draw changed all of it, and with it whole phrasings' themes)."""

from __future__ import annotations

import random

import numpy as np

from scoring.text.clustering import cluster_texts


def _units(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    words = [f"词{i}" for i in range(30)]
    return [rng.sample(words, 4) + [f"号{seed}-{i}"] for i in range(n)]


def _sampled(tokens: list[list[str]]) -> set[tuple[str, ...]]:
    # One round: only the sample is clustered and the units left out stay unthemed.
    result = cluster_texts(tokens, sample_size=20, max_rounds=1, min_size=1, merge_similarity=None)
    return {tuple(words) for words, label in zip(tokens, result.labels, strict=True) if label >= 0}


def test_new_units_displace_at_most_their_number_from_the_sample() -> None:
    tokens = _units(60, 1)
    before = _sampled(tokens)
    after = _sampled(tokens + _units(3, 2))
    assert len(before) == 20
    assert len(before - after) <= 3


def test_the_sample_does_not_depend_on_the_order_of_the_texts() -> None:
    tokens = _units(60, 1)
    shuffled = [tokens[i] for i in np.random.default_rng(0).permutation(len(tokens))]
    assert _sampled(tokens) == _sampled(shuffled)


def test_the_random_state_draws_another_sample() -> None:
    tokens = _units(60, 1)
    first = cluster_texts(tokens, sample_size=20, max_rounds=1, min_size=1, merge_similarity=None)
    other = cluster_texts(
        tokens, sample_size=20, max_rounds=1, min_size=1, merge_similarity=None, random_state=1
    )
    assert not np.array_equal(first.labels >= 0, other.labels >= 0)
