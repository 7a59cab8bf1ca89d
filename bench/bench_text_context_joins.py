"""Measurement: can words used in the same contexts join two phrasings of one need that share no
word (合同 / 协议, 备用电源 / UPS 电池, 大模型 / 机器人), learned from the run's own texts?

Run: python bench/bench_text_context_joins.py [--dim 100] [--texts 120000 --window 100000].
Clusters the newest `window` of `texts` generated texts (bench/text_corpus.py) as a full run does
(scoring.text.clustering.cluster_texts with the joins), then builds distributional word vectors from
the window's own segmented units: positive PMI of words co-occurring in one unit (context counts
smoothed by the power 0.75, Levy, Goldberg & Dagan, "Improving distributional similarity with
lessons learned from word embeddings", TACL 2015) reduced by TruncatedSVD (LSA) with the singular
values' square root as weight. Each requirement cluster of 20 texts or more gets the mean vector of
the words running through it (coverage >= 0.3, weighted by coverage and inverse cluster
frequency). It prints the cluster pairs that share none of their four top words, by cosine, each
marked SAME (one gold need by majority) or diff: a join rule is usable only if SAME pairs come
first. Measured 2026-12-06: they do not, not reliably. With the clusters of the hash-sampled run
(dim 100) the closest pair joins a cluster of "无意见" noise to IPv6 (0.718), then three pairs of one
need (数据防泄露 0.608, 驻场 / 现场支持 0.602, UPS 电池 / 备用电源 0.596), noise to 巡检 (0.587), then
wrong pairs (门禁 / 驻场 0.565, English cabling / English storage 0.564, 单点登录 / 工单打通 0.513); pairs of
one need rank 1, 2, 3, 10, 14 of 3,684 (39 of one need). With the clusters of the earlier random
sample a wrong pair came first (English log audit / licence audit, 0.768), at dims 50 and 200 wrong
pairs lead too (English cabling / storage 0.81 and 0.46), and 合同 / 协议 (0.17) and 大模型 /
机器人 / AI (no shared context) never come near: in these texts a need's phrasings share no
context besides the words every need uses, so no cut joins them without joining other needs.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from perception.analysis.services.text_ratings import stratum, thresholds  # noqa: E402
from scoring.text import Tokenizer  # noqa: E402
from scoring.text.classify import rating_sentiment  # noqa: E402
from scoring.text.clustering import cluster_texts  # noqa: E402

_HAN = re.compile(r"[\u3400-\u9fff]")


def word_vectors(units: list[tuple[str, ...]], dim: int) -> tuple[np.ndarray, dict[str, int]]:
    """Rows: LSA vectors (unit length) of the words of at least three units; and the word index."""
    import scipy.sparse as sp
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    vectorizer = CountVectorizer(analyzer=lambda u: u, binary=True, min_df=3, dtype=np.float64)
    presence = vectorizer.fit_transform(units)
    index = {str(w): i for i, w in enumerate(vectorizer.get_feature_names_out())}
    counts = sp.csr_matrix(presence.T @ presence)
    counts.setdiag(0)
    counts.eliminate_zeros()
    total = counts.sum()
    row = np.asarray(counts.sum(axis=1)).ravel()
    context = row**0.75 / (row**0.75).sum()
    pairs = counts.tocoo()
    pmi = np.log(pairs.data / total / (row[pairs.row] / total) / context[pairs.col])
    keep = pmi > 0
    ppmi = sp.csr_matrix((pmi[keep], (pairs.row[keep], pairs.col[keep])), shape=counts.shape)
    svd = TruncatedSVD(dim, random_state=0)
    return normalize(svd.fit_transform(ppmi) / np.sqrt(svd.singular_values_)), index


def main() -> None:
    from text_corpus import generate

    parser = argparse.ArgumentParser()
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--texts", type=int, default=120_000)
    parser.add_argument("--window", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=25)
    args = parser.parse_args()
    texts = sorted(generate(args.texts), key=lambda t: (-t.week, -t.id))[: args.window]
    tokenizer = Tokenizer().for_themes()
    tokens = tokenizer.tokenize_many([t.text for t in texts])
    strata = [stratum(t.kind, rating_sentiment(t.rating, 1, 5) if t.rating else None) for t in texts]
    clustering = cluster_texts(
        tokens,
        strata,
        thresholds=thresholds(strata),
        latin=[not _HAN.search(t.text) for t in texts],
        anchor=tokenizer.names_a_thing,
    )
    vectors, index = word_vectors(list({tuple(w) for w in tokens if w}), args.dim)
    members: dict[int, list[int]] = {}
    for i, label in enumerate(clustering.labels):
        if label >= 0 and texts[i].kind == "requirement":
            members.setdefault(int(label), []).append(i)
    keys = [c for c in members if len(members[c]) >= 20]
    gold = {c: Counter(texts[i].gold for i in members[c]).most_common(1)[0][0] for c in keys}
    cover: dict[int, dict[str, float]] = {}
    spread: Counter[str] = Counter()
    for c in keys:
        held = Counter(w for i in members[c] for w in set(tokens[i]))
        cover[c] = {
            w: n / len(members[c]) for w, n in held.items() if n >= 0.3 * len(members[c]) and w in index
        }
        spread.update(cover[c].keys())
    profile = np.array(
        [
            sum(s * np.log1p(len(keys) / spread[w]) * vectors[index[w]] for w, s in cover[c].items())
            for c in keys
        ]
    )
    profile /= np.maximum(np.linalg.norm(profile, axis=1, keepdims=True), 1e-12)
    similarity = profile @ profile.T
    top = {c: sorted(cover[c], key=lambda w: -cover[c][w])[:4] for c in keys}
    pairs = [
        (float(similarity[a, b]), gold[keys[a]] == gold[keys[b]], keys[a], keys[b])
        for a in range(len(keys))
        for b in range(a + 1, len(keys))
        if not set(top[keys[a]]) & set(top[keys[b]])
    ]
    pairs.sort(key=lambda p: -p[0])
    same = sum(p[1] for p in pairs)
    print(
        f"requirement clusters: {len(keys)}; pairs sharing no top word: {len(pairs):,}, of one need: {same}"
    )
    for value, one_need, a, b in pairs[: args.pairs]:
        print(
            f"{value:.3f} {'SAME' if one_need else 'diff'} {gold[a]} | {gold[b]}  "
            f"[{' '.join(top[a])}] [{' '.join(top[b])}]"
        )
    ranks = [r for r, p in enumerate(pairs) if p[1]]
    print(f"rank of the first pairs of one need: {ranks[:5]} (0 = the closest pair)")


if __name__ == "__main__":
    main()
