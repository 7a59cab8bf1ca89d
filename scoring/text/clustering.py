"""Grouping tokenised texts into themes: near-duplicates first, then clusters within strata.

Owns `cluster_texts`. Texts whose token sequences are equal after normalisation, synonym
mapping and stopword removal are near-duplicates ("希望能支持微信报修！" and
"希望能支持微信报修") and form one unit, so a sentence repeated forty times neither
outweighs the rest nor fills a theme's quotes. Units are compared by cosine similarity of
word TF-IDF (IDF within the unit's stratum) joined with a half-weighted block of character
bigrams of the words (robust to segmentation differences such as 升级改造 / 改造), and
grouped by average-linkage agglomerative clustering cut at a cosine distance (Sokal &
Michener's UPGMA; scikit-learn `AgglomerativeClustering`). Texts are only grouped within
their stratum (the caller passes e.g. requirement vs comment, and the band of the rating a
comment came with), so praise never absorbs a requirement.

Large corpora: a stratum with more units than `sample_size` is clustered on a sample (the
units with the lowest keyed hashes of their words, so the sample moves with the pool no more
than the pool itself moved);
the other units join the nearest cluster centroid when their cosine similarity reaches
`join_similarity`; the rest are clustered again in the next round (at most `max_rounds`).
Then the clusters of a stratum whose coverage profiles agree are joined (`_merge_clusters`):
at a provider's scale one need phrased many ways first comes out as one cluster per phrasing.
Given each text's script (`latin`) and which words name a thing (`anchor`), clusters that share
only the need's name or an English concept then join too (`theme_joins`).
Clusters with fewer than `min_size` texts are left unthemed (label -1).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from scoring.text.theme_joins import join_by_anchors, join_languages

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["Clustering", "cluster_texts", "coverage_profiles"]

Progress = Callable[[float, str], None]
#: Cosine similarity of coverage profiles at which clusters of one stratum join (`_merge_clusters`):
#: chosen on the labelled set (tests/analysis/data), where 0.25 to 0.4 leave its grouping as it
#: was and 0.2 already joins praise of training with praise of documents; checked on the
#: generated corpus (bench/bench_text_quality.py --generated N), where it halves the themes.
MERGE_SIMILARITY = 0.3


@dataclass(frozen=True)
class Clustering:
    """Per text: its cluster (-1 unthemed) and its unit of near-duplicates; per unit its features."""

    labels: npt.NDArray[np.intp]
    unit_of: npt.NDArray[np.intp]
    unit_features: sp.csr_matrix
    unit_sizes: npt.NDArray[np.intp]
    n_clusters: int


def _bigrams(tokens: Sequence[str]) -> list[str]:
    grams = []
    for word in tokens:
        if len(word) <= 2:
            grams.append(word)
        else:
            grams.extend(word[i : i + 2] for i in range(len(word) - 1))
    return grams


def _features(units: Sequence[tuple[str, ...]], char_weight: float) -> sp.csr_matrix:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    words = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, dtype=np.float64).fit_transform(units)
    chars = TfidfVectorizer(analyzer=_bigrams, sublinear_tf=True, dtype=np.float64).fit_transform(units)
    return sp.csr_matrix(normalize(sp.hstack([words, chars * char_weight]).tocsr()))


def _stratified_features(
    units: Sequence[tuple[str, ...]], groups: dict[Hashable, list[int]], char_weight: float
) -> sp.csr_matrix:
    """Each stratum's units weighted by that stratum's own IDF, in one block-diagonal matrix.

    How rare a word is depends on what it is compared with: 报告 (report) is rare among all texts
    but common among requirements, where it alone must not join a report need to a backup-drill
    need. Rows stay in unit order; units of different strata share no column.
    """
    import scipy.sparse as sp

    order = [u for members in groups.values() for u in members]
    blocks = [_features([units[u] for u in members], char_weight) for members in groups.values()]
    stacked = sp.csr_matrix(sp.block_diag(blocks, format="csr"))
    position = np.empty(len(units), dtype=np.intp)
    position[np.array(order, dtype=np.intp)] = np.arange(len(order))
    return sp.csr_matrix(stacked[position])


def _identity(tokens: Sequence[str]) -> Sequence[str]:
    return tokens


def _agglomerate(features: sp.csr_matrix, threshold: float, k: int | None) -> npt.NDArray[np.intp]:
    from sklearn.cluster import AgglomerativeClustering

    n = features.shape[0]
    if n == 1:
        return np.zeros(1, dtype=np.intp)
    distance = 1.0 - np.asarray((features @ features.T).todense())
    np.clip(distance, 0.0, 2.0, out=distance)
    np.fill_diagonal(distance, 0.0)
    model = AgglomerativeClustering(
        n_clusters=min(k, n) if k else None,
        metric="precomputed",
        linkage="average",
        distance_threshold=None if k else threshold,
    )
    return np.asarray(model.fit_predict(distance), dtype=np.intp)


def _cluster_stratum(
    features: sp.csr_matrix,
    sizes: npt.NDArray[np.intp],
    rows: npt.NDArray[np.intp],
    *,
    threshold: float,
    k: int | None,
    sample_size: int,
    join_similarity: float,
    max_rounds: int,
    ranks: npt.NDArray[np.uint64],
) -> list[npt.NDArray[np.intp]]:
    """Clusters (arrays of unit rows) of one stratum, sampled in rounds when it is large."""
    clusters: list[npt.NDArray[np.intp]] = []
    pool = rows
    for round_ in range(max_rounds):
        if pool.size == 0:
            break
        last = pool.size <= sample_size or round_ == max_rounds - 1
        # The units of the pool with the lowest hashes: a unit is sampled or not whatever else
        # the pool holds, so 1% new texts change 1% of the sample, not all of it.
        sample = pool
        if pool.size > sample_size:
            sample = np.sort(pool[np.argsort(ranks[pool], kind="stable")[:sample_size]])
        labels = _agglomerate(features[sample], threshold, k)
        found = [sample[labels == c] for c in np.unique(labels)]
        if last:
            clusters.extend(found)
            break
        rest = np.setdiff1d(pool, sample, assume_unique=True)
        centroids = np.vstack([np.asarray(features[m].multiply(sizes[m, None]).sum(axis=0)) for m in found])
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        similarity = np.asarray(features[rest] @ centroids.T)
        best = similarity.argmax(axis=1)
        joined = similarity[np.arange(rest.size), best] >= join_similarity
        for c, members in enumerate(found):
            clusters.append(np.concatenate([members, rest[joined & (best == c)]]))
        pool = rest[~joined]
    return clusters


def _sample_ranks(units: Sequence[tuple[str, ...]], random_state: int) -> npt.NDArray[np.uint64]:
    """Each unit's place in the sampling order: a keyed hash of its words (bottom-k sampling,
    Cohen & Kaplan, "Summarizing data using bottom-k sketches", PODC 2007). A random draw from the
    pool changes entirely when one unit enters it; the lowest hashes of the pool keep all but the
    units that entered or left. On bench/bench_analysis.py --text-run 100000 the weekly full
    recompute over 1% new texts kept the theme of 87.8% of the texts with a random draw and 98.3%
    with this sample (new texts: 84.1% -> 93.2% as placed incrementally). Over sample keys 0-5
    (pure path, medians) a first run's themes are as good (newest week's common-need precision
    0.546 -> 0.540, recall 0.947 -> 0.974); after the recompute precision is 0.543 -> 0.521 at
    recall 0.974 -> 0.987, ARI 0.836 both: a redrawn sample's clusters had partly been absorbed
    into the remembered themes (122 themes, now 128), joining what one sample split, at the price
    of moving a tenth of the texts."""
    import hashlib

    key = random_state.to_bytes(8, "little", signed=True)
    digests = (hashlib.blake2b("\x1f".join(u).encode(), digest_size=8, key=key).digest() for u in units)
    return np.fromiter((int.from_bytes(d, "little") for d in digests), dtype=np.uint64, count=len(units))


def _presence(units: Sequence[tuple[str, ...]]) -> tuple[sp.csr_matrix, list[str]]:
    """Units x words, 1 where the unit holds the word; and the words, in column order."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(analyzer=_identity, binary=True, dtype=np.float64)
    presence = sp.csr_matrix(vectorizer.fit_transform(units))
    return presence, [str(word) for word in vectorizer.get_feature_names_out()]


def coverage_profiles(
    presence: sp.csr_matrix, sizes: npt.NDArray[np.intp], clusters: Sequence[npt.NDArray[np.intp]]
) -> sp.csr_matrix:
    """Clusters x words: each word's coverage of a cluster times its inverse cluster frequency,
    rows scaled to unit length (see `_merge_clusters`)."""
    import scipy.sparse as sp

    k = len(clusters)
    rows = np.concatenate(clusters)
    cols = np.concatenate([np.full(m.size, c) for c, m in enumerate(clusters)])
    totals = np.array([sizes[m].sum() for m in clusters], dtype=np.float64)
    indicator = sp.csr_matrix((sizes[rows] / totals[cols], (cols, rows)), shape=(k, presence.shape[0]))
    coverage = sp.csr_matrix(indicator @ presence)
    spread = np.asarray(coverage.sum(axis=0)).ravel()
    weight = np.log1p(np.divide(k, spread, out=np.zeros_like(spread), where=spread > 0))
    profiles = sp.csr_matrix(coverage @ sp.diags(weight))
    norms = np.sqrt(np.asarray(profiles.multiply(profiles).sum(axis=1)).ravel())
    return sp.csr_matrix(sp.diags(1.0 / np.maximum(norms, 1e-12)) @ profiles)


def _merge_clusters(
    presence: sp.csr_matrix,
    sizes: npt.NDArray[np.intp],
    clusters: list[npt.NDArray[np.intp]],
    similarity: float,
) -> list[npt.NDArray[np.intp]]:
    """Clusters of one stratum joined when the words that run through them agree.

    A cluster's coverage of a word is the share of its texts that hold it: the need's own words
    (巡检 in every inspection text) cover most of it, while the words that vary from text to
    text (who wrote it, a department, a ticket number) cover a sliver each. Coverage is weighted
    by a word's inverse cluster frequency, ln(1 + K / sum_c coverage_c), so a word that runs
    through every cluster (系统, 服务) counts for little. Clusters are then grouped by average
    linkage on the cosine distance of these profiles, cut at 1 - `similarity`.

    At a provider's scale one need phrased many ways first comes out as one tight cluster per
    phrasing (each phrasing repeated with small variations, the need's common word too frequent
    to outweigh a phrasing's own words); the phrasings share the need's words and join here.
    """
    if len(clusters) < 2:
        return clusters
    profiles = coverage_profiles(presence, sizes, clusters)
    from sklearn.cluster import AgglomerativeClustering

    distance = 1.0 - np.asarray((profiles @ profiles.T).todense())
    np.clip(distance, 0.0, 2.0, out=distance)
    np.fill_diagonal(distance, 0.0)
    labels = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=1.0 - similarity
    ).fit_predict(distance)
    return [np.concatenate([clusters[c] for c in np.flatnonzero(labels == g)]) for g in np.unique(labels)]


def cluster_texts(
    tokens: Sequence[Sequence[str]],
    strata: Sequence[Hashable] | None = None,
    *,
    threshold: float = 0.92,
    thresholds: Mapping[Any, float] | None = None,
    k: int | None = None,
    char_weight: float = 0.5,
    min_size: int = 2,
    sample_size: int = 2500,
    join_similarity: float = 0.35,
    max_rounds: int = 6,
    merge_similarity: float | None = MERGE_SIMILARITY,
    latin: Sequence[bool] | None = None,
    anchor: Callable[[str], bool] | None = None,
    random_state: int = 0,
    progress: Progress | None = None,
) -> Clustering:
    """Cluster texts given as token lists (see the module docstring).

    `threshold` is the average-linkage cosine distance at which clustering stops (0.92: texts
    that share a distinctive word or concept join, texts sharing nothing stay apart), `thresholds`
    the cut of particular strata; `k`, when given, asks for that many clusters per stratum
    instead (and no clusters are joined afterwards). `merge_similarity` is the profile cosine at
    which clusters join (`_merge_clusters`; None: never). Texts without tokens are unthemed.
    """
    n = len(tokens)
    strata = list(strata) if strata is not None else [0] * n
    if len(strata) != n:
        raise ValueError("tokens and strata must have the same length")
    unit_index: dict[tuple[Hashable, tuple[str, ...]], int] = {}
    unit_of = np.full(n, -1, dtype=np.intp)
    units: list[tuple[str, ...]] = []
    unit_stratum: list[Hashable] = []
    for i, (stratum, words) in enumerate(zip(strata, tokens, strict=True)):
        if not words:
            continue
        key = (stratum, tuple(words))
        index = unit_index.get(key)
        if index is None:
            index = unit_index[key] = len(units)
            units.append(key[1])
            unit_stratum.append(stratum)
        unit_of[i] = index
    sizes = np.bincount(unit_of[unit_of >= 0], minlength=len(units)).astype(np.intp)
    latin_units = None
    if latin is not None:
        latin_units = np.zeros(len(units), dtype=bool)
        has = unit_of >= 0
        latin_units[unit_of[has]] = np.asarray(latin, dtype=bool)[has]
    labels = np.full(n, -1, dtype=np.intp)
    if not units:
        import scipy.sparse as sp

        return Clustering(labels, unit_of, sp.csr_matrix((0, 0)), sizes, 0)
    ranks = _sample_ranks(units, random_state)
    unit_label = np.full(len(units), -1, dtype=np.intp)
    next_label = 0
    groups: dict[Hashable, list[int]] = {}
    for u, stratum in enumerate(unit_stratum):
        groups.setdefault(stratum, []).append(u)
    features = _stratified_features(units, groups, char_weight)
    presence, words = _presence(units) if merge_similarity is not None and k is None else (None, [])
    for done, stratum in enumerate(sorted(groups, key=repr)):
        rows = np.array(groups[stratum], dtype=np.intp)
        clusters = _cluster_stratum(
            features,
            sizes,
            rows,
            threshold=(thresholds or {}).get(stratum, threshold),
            k=k,
            sample_size=sample_size,
            join_similarity=join_similarity,
            max_rounds=max_rounds,
            ranks=ranks,
        )
        if presence is not None and merge_similarity is not None:
            clusters = _merge_clusters(presence, sizes, clusters, merge_similarity)
            if latin_units is not None:
                clusters = join_languages(presence, sizes, clusters, latin_units)
            if anchor is not None:
                clusters = join_by_anchors(presence, sizes, clusters, words, anchor)
        for members in clusters:
            if int(sizes[members].sum()) >= min_size:
                unit_label[members] = next_label
                next_label += 1
        if progress is not None:
            progress((done + 1) / len(groups), "clustering")
    has_unit = unit_of >= 0
    labels[has_unit] = unit_label[unit_of[has_unit]]
    return Clustering(labels, unit_of, features, sizes, next_label)
