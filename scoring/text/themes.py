"""Unsupervised themes in personalised requirements and feedback comments.

Owns `discover_themes` and its results (`Theme`, `ThemeAssignment`, `ThemeModel`). The pipeline:
tokenise for themes (jieba + domain dictionary + synonyms that map wordings and English onto one
concept, theme stopwords), fold near-duplicates into units and cluster the units within their
strata, joining the clusters of one need phrased many ways, in English too (`clustering`,
`theme_joins`), describe each cluster
by the words that set it apart (class-based TF-IDF), map each cluster onto a remembered theme key
(`theme_matching`), apply the user's merges and splits in order (`theme_operations`), then give
every entry its unit's theme with its cosine similarity to the theme's centroid as weight.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scoring.text.clustering import Progress, cluster_texts
from scoring.text.decisions import ThemeDecisions
from scoring.text.features import tfidf_matrix
from scoring.text.theme_matching import match_profiles, top_profile, with_pins
from scoring.text.theme_operations import apply_to_units
from scoring.text.tokenizer import Tokenizer

if TYPE_CHECKING:
    import scipy.sparse as sp

    from scoring.text.clustering import Clustering

__all__ = ["EntryId", "Theme", "ThemeAssignment", "ThemeModel", "discover_themes", "label_terms"]

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
    top_terms_en: tuple[str, ...] = ()
    entry_ids: tuple[EntryId, ...] = ()

    @property
    def label(self) -> str:
        """The user's name, or the three top terms when the theme has none yet."""
        return self.name or " / ".join(self.top_terms[:3])

    def label_in(self, language: str) -> str:
        """The user's name, or the top terms in `language` ("zh" or "en")."""
        return name_in(self.name, language) or label_terms(self.top_terms, self.top_terms_en, language)


_HAN = re.compile(r"[\u3400-\u9fff]")


_BILINGUAL = re.compile(r"^\s*([^A-Za-z]*[\u3400-\u9fff][^A-Za-z]*?)\s*[/|·]?\s*([A-Za-z][^\u3400-\u9fff]*)$")


def name_in(name: str | None, language: str) -> str | None:
    """A name a person gave in both languages ("移动端报修 Mobile repair", "培训 / Training") read
    in `language`: the Chinese part for zh, the English part for en; any other name as given."""
    if not name:
        return name
    both = _BILINGUAL.match(name)
    if both is None:
        return name
    return (both.group(2) if language.startswith("en") else both.group(1)).strip()


def label_terms(terms: Sequence[str], terms_en: Sequence[str], language: str, n: int = 3) -> str:
    """The `n` top terms that read as `language`, joined by " / ".

    Chinese: terms with Chinese characters, and short codes that Chinese texts use as they are
    (ipv6, oa, erp, vpn, 7x24); an English word such as "quarter" only when too few are left.
    English: the English form of each term where the concept dictionary (data/synonyms.txt)
    knows one, those first; a Chinese term with no English form fills the label only when fewer
    than `n` English words are left (the fallback: the term as written).
    """
    english = language.startswith("en")
    pool = list(dict.fromkeys(terms_en if english and terms_en else terms))
    if english:
        fits = [t for t in pool if not _HAN.search(t)]
    else:
        fits = [t for t in pool if _HAN.search(t) or len(t) <= 4 or any(c.isdigit() for c in t)]
    chosen = fits[:n] + [t for t in pool if t not in fits][: max(0, n - len(fits))]
    order = {t: i for i, t in enumerate(pool)}
    return " / ".join(sorted(chosen, key=order.__getitem__))


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


def class_tfidf(
    counts: sp.csr_matrix, members: Sequence[npt.NDArray[np.intp]], sizes: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    """Class-based TF-IDF (themes x terms): the words that set each theme apart from the others.

    tf_{t,c} = occurrences of term t in the texts of theme c over all term occurrences of c;
    weight = tf_{t,c} * ln(1 + A / f_t), A the mean number of term occurrences per theme and f_t
    the occurrences of t in all themes. Reference: Grootendorst, "BERTopic: Neural topic modeling
    with a class-based TF-IDF procedure", arXiv:2203.05794 (2022), section 3.3.
    """
    import scipy.sparse as sp

    if not members:
        return np.zeros((0, counts.shape[1]))
    rows = np.concatenate(members)
    cols = np.concatenate([np.full(m.size, c) for c, m in enumerate(members)])
    indicator = sp.csr_matrix(
        (sizes[rows].astype(np.float64), (cols, rows)), shape=(len(members), counts.shape[0])
    )
    per_class = np.asarray((indicator @ counts).todense())
    totals = per_class.sum(axis=1, keepdims=True)
    tf = np.divide(per_class, totals, out=np.zeros_like(per_class), where=totals > 0)
    frequency = per_class.sum(axis=0)
    average = totals.mean()
    idf = np.log1p(np.divide(average, frequency, out=np.zeros_like(frequency), where=frequency > 0))
    return np.asarray(tf * idf)


def _cluster_keys(
    profiles: list[dict[str, float]], sizes: list[int], decisions: ThemeDecisions, threshold: float
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


def _unit_members(unit_keys: Sequence[str | None]) -> dict[str, npt.NDArray[np.intp]]:
    members: dict[str, list[int]] = {}
    for unit, key in enumerate(unit_keys):
        if key is not None:
            members.setdefault(key, []).append(unit)
    return {key: np.array(units, dtype=np.intp) for key, units in members.items()}


def _weights(
    clustering: Clustering, unit_keys: Sequence[str | None], members: dict[str, npt.NDArray[np.intp]]
) -> npt.NDArray[np.float64]:
    """Each unit's cosine similarity to the centroid of its theme (0 when unthemed)."""
    features, sizes = clustering.unit_features, clustering.unit_sizes
    weight = np.zeros(len(unit_keys))
    for units in members.values():
        centroid = np.asarray(features[units].multiply(sizes[units, None]).sum(axis=0)).ravel()
        norm = np.linalg.norm(centroid)
        if norm > 0:
            weight[units] = np.asarray(features[units] @ (centroid / norm)).ravel()
    return np.clip(weight, 0.0, 1.0)


def discover_themes(
    texts: Sequence[str],
    ids: Sequence[EntryId],
    tokenizer: Tokenizer,
    k: int | None = None,
    decisions: ThemeDecisions | None = None,
    random_state: int = 0,
    *,
    strata: Sequence[Hashable] | None = None,
    threshold: float = 0.92,
    thresholds: Mapping[Any, float] | None = None,
    min_size: int = 2,
    match_threshold: float = 0.3,
    n_terms: int = 10,
    n_examples: int = 3,
    progress: Progress | None = None,
) -> ThemeModel:
    """Group texts into themes, keeping the user's earlier decisions (see the module docstring).

    `strata` (one value per text, e.g. the kind of text and the band of its rating) keeps texts of
    different strata apart; `threshold` is the clustering's cosine-distance cut (`thresholds`:
    the cut of particular strata), `k` a fixed number of clusters per stratum instead. Each
    cluster's class-based TF-IDF profile is matched to the remembered signatures of `decisions`
    (cosine >= `match_threshold`, one-to-one by the Hungarian method; a cluster left over that
    still reaches the threshold against some key joins that key); the remaining clusters get fresh
    keys, larger first. Merges and splits are then
    applied in order. The returned `decisions` carry every theme's new signature. `progress`,
    when given, is called with the share done (0..1) and the step's name.
    """
    if len(texts) != len(ids):
        raise ValueError("texts and ids must have the same length")
    if len(set(ids)) != len(ids):
        raise ValueError("entry ids must be unique")
    decisions = decisions or ThemeDecisions()
    n = len(texts)
    theme_tokenizer = tokenizer.for_themes()
    tokens = theme_tokenizer.tokenize_many(texts)
    if progress is not None:
        progress(0.3, "tokenised")
    if not any(tokens):
        empty = tuple(ThemeAssignment(entry_id, None, 0.0) for entry_id in ids)
        return ThemeModel((), empty, decisions, 0, "empty", ())
    clustering = cluster_texts(
        tokens,
        strata,
        threshold=threshold,
        thresholds=thresholds,
        k=k,
        min_size=min_size,
        random_state=random_state,
        # A need phrased in English or in words it shares only its name with joins its Chinese
        # phrasings (scoring.text.theme_joins).
        latin=[not _HAN.search(text) for text in texts],
        anchor=theme_tokenizer.names_a_thing,
    )
    if progress is not None:
        progress(0.8, "clustered")
    units: list[tuple[str, ...]] = [()] * clustering.unit_sizes.size
    first_entry = np.full(clustering.unit_sizes.size, -1, dtype=np.intp)
    for i in range(n):
        u = clustering.unit_of[i]
        if u >= 0 and first_entry[u] < 0:
            first_entry[u] = i
            units[u] = tuple(tokens[i])
    matrix, vocabulary, vectorizer = tfidf_matrix(units)
    counts = _counts(units, vectorizer.vocabulary_)
    unit_cluster = np.full(len(units), -1, dtype=np.intp)
    unit_cluster[clustering.unit_of[first_entry]] = clustering.labels[first_entry]
    clusters = [np.flatnonzero(unit_cluster == c) for c in range(clustering.n_clusters)]
    sizes = clustering.unit_sizes
    cluster_profiles = class_tfidf(counts, clusters, sizes)
    profiles = [top_profile(cluster_profiles[c], vocabulary) for c in range(len(clusters))]
    cluster_keys = _cluster_keys(
        profiles, [int(sizes[m].sum()) for m in clusters], decisions, match_threshold
    )
    unit_keys: list[str | None] = [None] * len(units)
    for c, cluster_units in enumerate(clusters):
        for u in cluster_units:
            unit_keys[u] = cluster_keys[c]
    if decisions.splits:
        unit_texts = [texts[int(i)] for i in first_entry]
        unit_keys = _apply_with_seeds(unit_keys, decisions, unit_texts, theme_tokenizer)
    else:
        index = {term: i for i, term in enumerate(vocabulary)}
        unit_keys = apply_to_units(unit_keys, decisions.operations, matrix, index, theme_tokenizer)
    members = _unit_members(unit_keys)
    weight = _weights(clustering, unit_keys, members)
    assignments = tuple(
        ThemeAssignment(
            ids[i],
            unit_keys[u] if u >= 0 else None,
            float(weight[u]) if u >= 0 and unit_keys[u] is not None else 0.0,
        )
        for i, u in enumerate(clustering.unit_of)
    )
    keys = sorted(members)
    final_profiles = class_tfidf(counts, [members[key] for key in keys], sizes)
    entries_of: dict[str, list[EntryId]] = {}
    for a in assignments:
        if a.theme_key is not None:
            entries_of.setdefault(a.theme_key, []).append(a.entry_id)
    themes: list[Theme] = []
    signatures: dict[str, dict[str, float]] = {}
    for j, key in enumerate(keys):
        row = final_profiles[j]
        profile = top_profile(row, vocabulary)
        if profile:
            signatures[key] = profile
        order = np.argsort(-row, kind="stable")[:n_terms]
        top = [(vocabulary[t], float(row[t])) for t in order if row[t] > 0]
        typical = members[key][np.argsort(-weight[members[key]], kind="stable")[:n_examples]]
        example_rows = [int(first_entry[u]) for u in typical]
        themes.append(
            Theme(
                key=key,
                name=decisions.name_of(key),
                top_terms=tuple(term for term, _ in top),
                term_weights=tuple(w for _, w in top),
                size=int(sizes[members[key]].sum()),
                example_ids=tuple(ids[i] for i in example_rows),
                example_texts=tuple(texts[i] for i in example_rows),
                top_terms_en=tuple(dict.fromkeys(theme_tokenizer.english_of(t) for t, _ in top)),
                entry_ids=tuple(entries_of.get(key, ())),
            )
        )
    # Keys merged away keep their own cluster profile, so their theme is still recognised.
    for c, merged_key in enumerate(cluster_keys):
        if merged_key not in signatures and profiles[c]:
            signatures[merged_key] = profiles[c]
    themes.sort(key=lambda theme: (-theme.size, theme.key))
    if progress is not None:
        progress(1.0, "themes")
    return ThemeModel(
        themes=tuple(themes),
        assignments=assignments,
        decisions=decisions.with_signatures(signatures),
        n_components=clustering.n_clusters,
        k_rule="given" if k else "threshold",
        silhouette=(),
    )


def _apply_with_seeds(
    unit_keys: list[str | None], decisions: ThemeDecisions, texts: Sequence[str], tokenizer: Tokenizer
) -> list[str | None]:
    """Merges and splits, with seed terms matched against the words as written.

    The synonyms fold 微信, 小程序 and 手机 into one concept, which is what groups their texts; a
    user who splits by "微信" against "小程序" means the words themselves, so seeds are looked up
    in the texts tokenised without synonyms (and seeds are tokenised the same way).
    """
    literal = tokenizer.without_synonyms()
    matrix, vocabulary, _ = tfidf_matrix(literal.tokenize_many(texts))
    index = {term: i for i, term in enumerate(vocabulary)}
    return apply_to_units(unit_keys, decisions.operations, matrix, index, literal)


def _counts(units: Sequence[Sequence[str]], vocabulary: dict[str, int]) -> sp.csr_matrix:
    """Term occurrences per unit over the TF-IDF vocabulary."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(analyzer=_identity, vocabulary=vocabulary, dtype=np.float64)
    return vectorizer.transform(units).tocsr()


def _identity(tokens: Sequence[str]) -> Sequence[str]:
    return tokens
