"""Unsupervised themes in personalised requirements and feedback comments.

Owns `discover_themes` and its results (`Theme`, `ThemeAssignment`, `ThemeModel`). The pipeline:
tokenise (jieba + domain dictionary), TF-IDF, NMF with k themes (given, or chosen by the
silhouette rule in `theme_count`), map each component onto a remembered theme key
(`theme_matching`), apply the user's merges and splits (`theme_operations`), then give every
entry its heaviest theme with that theme's share of the entry's loadings as weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from scoring.text.decisions import ThemeDecisions
from scoring.text.features import tfidf_matrix
from scoring.text.theme_count import choose_theme_count, factorise
from scoring.text.theme_matching import match_profiles, top_profile, with_pins
from scoring.text.theme_operations import apply_operations
from scoring.text.tokenizer import Tokenizer

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["EntryId", "Theme", "ThemeAssignment", "ThemeModel", "discover_themes"]

EntryId = str | int


@dataclass(frozen=True)
class Theme:
    """One theme: its key, the user's name for it, its top terms and its most typical entries."""

    key: str
    name: str | None
    top_terms: tuple[str, ...]
    term_weights: tuple[float, ...]
    size: int
    example_ids: tuple[EntryId, ...]
    example_texts: tuple[str, ...]

    @property
    def label(self) -> str:
        """The user's name, or the three top terms when the theme has none yet."""
        return self.name or " / ".join(self.top_terms[:3])


@dataclass(frozen=True)
class ThemeAssignment:
    """An entry's theme (None when it holds no term the model knows) and the theme's weight in it."""

    entry_id: EntryId
    theme_key: str | None
    weight: float


@dataclass(frozen=True)
class ThemeModel:
    """The themes of one run, each entry's assignment, and the decisions to keep for the next run."""

    themes: tuple[Theme, ...]
    assignments: tuple[ThemeAssignment, ...]
    decisions: ThemeDecisions
    n_components: int
    k_rule: str
    silhouette: tuple[tuple[int, float], ...]

    def theme(self, key: str) -> Theme:
        for theme in self.themes:
            if theme.key == key:
                return theme
        raise KeyError(key)

    def theme_keys(self) -> tuple[str, ...]:
        return tuple(theme.key for theme in self.themes)

    def theme_of(self) -> dict[EntryId, str | None]:
        """Entry id -> theme key."""
        return {a.entry_id: a.theme_key for a in self.assignments}


def _profiles(matrix: sp.csr_matrix, loadings: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # Term weights of each theme: sum_i loading_ij * x_i, i.e. X^T W (terms x themes).
    return np.asarray(matrix.T @ loadings)


def _keys_for_components(
    profiles: list[dict[str, float]],
    sizes: npt.NDArray[np.float64],
    decisions: ThemeDecisions,
    threshold: float,
) -> list[str]:
    remembered = {
        key: with_pins(terms, decisions.pinned_terms(key)) for key, terms in decisions.signature_map().items()
    }
    for key, terms in decisions.pins:
        remembered.setdefault(key, with_pins({}, terms))
    matched = match_profiles(profiles, remembered, threshold, absorb=True)
    unmatched = sorted((j for j in range(len(profiles)) if j not in matched), key=lambda j: (-sizes[j], j))
    fresh = dict(zip(unmatched, decisions.new_keys(len(unmatched)), strict=True))
    return [matched.get(j) or fresh[j] for j in range(len(profiles))]


def discover_themes(
    texts: Sequence[str],
    ids: Sequence[EntryId],
    tokenizer: Tokenizer,
    k: int | None = None,
    decisions: ThemeDecisions | None = None,
    random_state: int = 0,
    *,
    match_threshold: float = 0.3,
    k_max: int = 12,
    n_terms: int = 10,
    n_examples: int = 3,
) -> ThemeModel:
    """Group texts into themes, keeping the user's earlier decisions.

    TF-IDF (`features.tfidf_matrix`; terms in at least 2 entries once there are 200 or more)
    is factorised by NMF into k components (`theme_count`). Each component's term profile
    X^T w_j is matched to the remembered signatures of `decisions` (cosine >= `match_threshold`,
    one-to-one by the Hungarian method; a component left over that still reaches the threshold
    against some key joins that key, so a theme found as two halves keeps its key and name);
    the remaining components get fresh keys. Merges and splits
    are then applied in order. Entry i gets theme argmax_j W'_ij with weight
    W'_ij / sum_j W'_ij. The returned `decisions` carry every theme's new signature.
    """
    if len(texts) != len(ids):
        raise ValueError("texts and ids must have the same length")
    if len(set(ids)) != len(ids):
        raise ValueError("entry ids must be unique")
    decisions = decisions or ThemeDecisions()
    n = len(texts)
    tokens = tokenizer.tokenize_many(texts)
    if not any(tokens):
        empty = tuple(ThemeAssignment(entry_id, None, 0.0) for entry_id in ids)
        return ThemeModel((), empty, decisions, 0, "empty", ())
    matrix, vocabulary, _ = tfidf_matrix(
        tokens, min_df=2 if n >= 200 else 1, max_df=0.95 if n >= 20 else 1.0, max_features=50_000
    )
    silhouette: tuple[tuple[int, float], ...] = ()
    if k is None:
        k, silhouette = choose_theme_count(matrix, random_state, k_max)
        k_rule = "silhouette"
    else:
        k_rule = "given"
    k = max(1, min(k, int((matrix.getnnz(axis=1) > 0).sum()), len(vocabulary)))
    loadings, _ = factorise(matrix, k, random_state)
    raw_profiles = _profiles(matrix, loadings)
    component_profiles = [top_profile(raw_profiles[:, j], vocabulary) for j in range(k)]
    raw_keys = _keys_for_components(component_profiles, loadings.sum(axis=0), decisions, match_threshold)
    index = {term: i for i, term in enumerate(vocabulary)}
    unique_keys = list(dict.fromkeys(raw_keys))
    keyed = np.column_stack(
        [loadings[:, [j for j, k in enumerate(raw_keys) if k == key]].sum(axis=1) for key in unique_keys]
    )
    keys, final = apply_operations(unique_keys, keyed, decisions.operations, matrix, index, tokenizer)

    totals = final.sum(axis=1)
    best = final.argmax(axis=1)
    has_theme = totals > 0
    share = np.divide(final[np.arange(n), best], totals, out=np.zeros(n), where=has_theme)
    assignments = tuple(
        ThemeAssignment(ids[i], keys[best[i]] if has_theme[i] else None, float(share[i])) for i in range(n)
    )

    profiles = _profiles(matrix, final)
    themes: list[Theme] = []
    signatures: dict[str, dict[str, float]] = {}
    for j, key in enumerate(keys):
        profile = top_profile(profiles[:, j], vocabulary)
        if profile:
            signatures[key] = profile
        members = np.flatnonzero(has_theme & (best == j))
        if members.size == 0:
            continue
        order = np.argsort(-profiles[:, j], kind="stable")[:n_terms]
        top = [(vocabulary[t], float(profiles[t, j])) for t in order if profiles[t, j] > 0]
        examples = members[np.argsort(-final[members, j], kind="stable")[:n_examples]]
        themes.append(
            Theme(
                key=key,
                name=decisions.name_of(key),
                top_terms=tuple(term for term, _ in top),
                term_weights=tuple(w for _, w in top),
                size=int(members.size),
                example_ids=tuple(ids[i] for i in examples),
                example_texts=tuple(texts[i] for i in examples),
            )
        )
    # Keys merged away keep their own component profile, so their theme is still recognised.
    for j, key in enumerate(raw_keys):
        if key not in signatures:
            signatures[key] = component_profiles[j]
    themes.sort(key=lambda theme: (-theme.size, theme.key))
    return ThemeModel(
        themes=tuple(themes),
        assignments=assignments,
        decisions=decisions.with_signatures(signatures),
        n_components=k,
        k_rule=k_rule,
        silhouette=silhouette,
    )
