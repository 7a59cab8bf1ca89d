"""Joining the clusters of one need that share its naming words but little else.

Owns the two joins `clustering.cluster_texts` runs on a stratum's clusters after the coverage
profiles have joined the phrasings that share most of their words (`clustering._merge_clusters`).
At a provider's scale each phrasing of a need is repeated hundreds of times and forms a cluster of
its own; two phrasings of one need often share only the thing the need is about (工单 in "工单能显示
处理人" and "工单关闭前确认"), and a need raised in English shares with its Chinese phrasings only
the concepts the dictionary maps across (ticket -> 工单, UPS). A profile cosine cannot see such a
pair: each phrasing's own words, which no other cluster holds, outweigh the one shared word.

Both joins look at a word's coverage of a cluster (the share of its texts holding the word), so the
words that vary from text to text (a department, a ticket number) never count, only words that run
through a cluster:

- `join_languages`: a cluster written in English (at least 80% of its texts without Chinese
  characters) joins the Chinese cluster with which it shares a word running through both (coverage
  >= `LANGUAGE_COVERAGE` in each). Words that occur in texts of both languages are, by
  construction, the concepts the tokenizer maps across languages, so one such word is evidence of
  one need; with several candidates the one sharing the most (coverage times inverse cluster
  frequency) wins. An English cluster never joins another English cluster here.
- `join_by_anchors`: clusters whose anchor words agree join, an anchor being a naming word (a noun
  or a concept of the dictionary, as the caller decides) that runs through nearly all of a cluster
  (coverage >= `ANCHOR_COVERAGE`). Each cluster's anchors are weighted by inverse cluster frequency
  ln(1 + K / n_t) (n_t: the clusters the word anchors) and the clusters grouped by average linkage
  on the cosine of these profiles, cut at `ANCHOR_SIMILARITY`. A cluster that names another thing
  besides the shared one (机房 UPS 电池 against 机房 空调) keeps its distance: its own anchor weighs
  as much as the shared one, rarer words more.

Measured on bench/bench_analysis.py --text-run 100000 (the newest 100,000 of 120,000 generated
texts, PostgreSQL): themes 135 -> 125, the newest week's common needs 73 -> 66 for 38 gold
(precision 0.521 -> 0.576, recall 1.0), ARI 0.813 -> 0.839; the forced full re-run 19.8 -> 20.1 s
wall (16.8 -> 17.1 s CPU). The cost: a join is all or nothing for a phrasing's cluster, so when
1% new texts tip one, its texts change theme; the share of texts whose theme a full recompute
keeps went from 92.0% to 87.8%. The labelled set (bench/bench_text_quality.py) is unchanged.
What still splits shares no word at all (大模型 / 机器人 / AI 助手; 备用电源 / UPS 电池; 合同 /
协议) or an English phrasing with no concept the dictionary maps (warranty, dashboard).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["ANCHOR_COVERAGE", "ANCHOR_SIMILARITY", "LANGUAGE_COVERAGE", "join_by_anchors", "join_languages"]

#: A word joins an English cluster to a Chinese one when it covers at least this share of both.
LANGUAGE_COVERAGE = 0.5
#: A naming word anchors a cluster when it covers at least this share of its texts.
ANCHOR_COVERAGE = 0.8
#: Cosine of the anchor profiles from which clusters join (average linkage).
ANCHOR_SIMILARITY = 0.5
_ENGLISH_SHARE = 0.8


def coverage(
    presence: sp.csr_matrix, sizes: npt.NDArray[np.intp], clusters: list[npt.NDArray[np.intp]]
) -> sp.csr_matrix:
    """Clusters x words: the share of a cluster's texts (units weighted by their texts) holding each word."""
    import scipy.sparse as sp

    k = len(clusters)
    rows = np.concatenate(clusters)
    cols = np.concatenate([np.full(m.size, c) for c, m in enumerate(clusters)])
    totals = np.array([sizes[m].sum() for m in clusters], dtype=np.float64)
    indicator = sp.csr_matrix((sizes[rows] / totals[cols], (cols, rows)), shape=(k, presence.shape[0]))
    return sp.csr_matrix(indicator @ presence)


def _grouped(
    clusters: list[npt.NDArray[np.intp]], target: npt.NDArray[np.intp]
) -> list[npt.NDArray[np.intp]]:
    return [np.concatenate([clusters[c] for c in np.flatnonzero(target == g)]) for g in np.unique(target)]


def join_languages(
    presence: sp.csr_matrix,
    sizes: npt.NDArray[np.intp],
    clusters: list[npt.NDArray[np.intp]],
    latin: npt.NDArray[np.bool_],
    at_least: float = LANGUAGE_COVERAGE,
) -> list[npt.NDArray[np.intp]]:
    """English clusters joined to the Chinese cluster they share a running word with (module
    docstring). `latin`: per unit, whether its text has no Chinese character."""
    if len(clusters) < 2:
        return clusters
    share = np.array([sizes[m][latin[m]].sum() / max(int(sizes[m].sum()), 1) for m in clusters])
    english = np.flatnonzero(share >= _ENGLISH_SHARE)
    chinese = np.flatnonzero(share <= 1.0 - _ENGLISH_SHARE)
    if english.size == 0 or chinese.size == 0:
        return clusters
    members = np.concatenate(clusters)
    in_latin = np.asarray(presence[members[latin[members]]].sum(axis=0)).ravel() > 0
    in_han = np.asarray(presence[members[~latin[members]]].sum(axis=0)).ravel() > 0
    both = np.flatnonzero(in_latin & in_han)
    if both.size == 0:
        return clusters
    cover = np.asarray(coverage(presence[:, both], sizes, clusters).todense())
    runs = cover >= at_least
    weight = np.log1p(len(clusters) / np.maximum(runs.sum(axis=0), 1))
    target = np.arange(len(clusters))
    for e in english:
        shared = runs[e][None, :] & runs[chinese]
        score = (np.minimum(cover[e][None, :], cover[chinese]) * weight * shared).sum(axis=1)
        best = int(score.argmax())
        if score[best] > 0:
            target[e] = chinese[best]
    return _grouped(clusters, target)


def join_by_anchors(
    presence: sp.csr_matrix,
    sizes: npt.NDArray[np.intp],
    clusters: list[npt.NDArray[np.intp]],
    words: Sequence[str],
    anchor: Callable[[str], bool],
    at_least: float = ANCHOR_COVERAGE,
    similarity: float = ANCHOR_SIMILARITY,
) -> list[npt.NDArray[np.intp]]:
    """Clusters whose anchor words agree joined (module docstring). `words`: the words of the
    columns of `presence`; `anchor(word)`: whether the word may anchor a cluster (asked only of
    words that run through two clusters or more)."""
    if len(clusters) < 2:
        return clusters
    from sklearn.cluster import AgglomerativeClustering

    cover = coverage(presence, sizes, clusters)
    running = np.asarray((cover >= at_least).sum(axis=0)).ravel()
    chosen = np.array([c for c in np.flatnonzero(running >= 2).tolist() if anchor(words[c])], dtype=np.intp)
    if chosen.size == 0:
        return clusters
    # The weights count every word that runs through a cluster, shared or not (the module docstring).
    alone = np.array([c for c in np.flatnonzero(running == 1).tolist() if anchor(words[c])], dtype=np.intp)
    columns = np.concatenate([chosen, alone])
    runs = np.asarray(cover[:, columns].todense()) >= at_least
    n_clusters = runs.sum(axis=0)
    if not (n_clusters >= 2).any():
        return clusters
    profiles = runs * np.log1p(len(clusters) / np.maximum(n_clusters, 1))
    norms = np.linalg.norm(profiles, axis=1, keepdims=True)
    profiles = np.divide(profiles, norms, out=np.zeros_like(profiles), where=norms > 0)
    distance = 1.0 - profiles @ profiles.T
    np.clip(distance, 0.0, 2.0, out=distance)
    np.fill_diagonal(distance, 0.0)
    labels = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=1.0 - similarity
    ).fit_predict(distance)
    return _grouped(clusters, np.asarray(labels, dtype=np.intp))
