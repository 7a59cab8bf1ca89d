"""The category predictions of a run (text_run._category_predictions) as one array operation give
exactly what the per-text loop gave: each text's most probable category of its own family (a
requirement a kind of need or an organisation's own category, a comment a feedback dimension or
its own), None when the model knows none of its family."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest


@dataclass
class _Entry:
    kind: str


class _Model:
    def __init__(self, labels, proba):
        self.labels = tuple(labels)
        self._proba = proba

    def predict_proba(self, texts, cache=None):
        assert len(texts) == self._proba.shape[0]
        return self._proba


def _reference(model, entries, texts):
    """The loop before (kept as the reference)."""
    from scoring.text.categories import NEED, VOICE, default_categories

    proba = model.predict_proba(texts)
    family = {c.code: c.family for c in default_categories()}
    labels = list(model.labels)
    need = np.array([family.get(label) != VOICE for label in labels])
    voice = np.array([family.get(label) != NEED for label in labels])
    out = []
    for e, row in zip(entries, proba, strict=True):
        allowed = need if e.kind == "requirement" else voice
        if not allowed.any():
            out.append((None, 1.0))
            continue
        masked = np.where(allowed, row, -1.0)
        best = int(masked.argmax())
        out.append((labels[best], float(row[best])))
    return out


@pytest.mark.parametrize(
    "labels",
    [
        ("need_backup", "need_training", "response_speed", "staff_attitude", "own_category"),
        ("response_speed", "staff_attitude"),  # no kind of need: requirements get None
        ("need_backup", "need_security"),  # no dimension: comments get None
        ("own_category", "another_own"),
    ],
)
def test_the_array_operation_gives_what_the_loop_gave(labels):
    from perception.analysis.services.text_run import _category_predictions

    rng = np.random.default_rng(7)
    kinds = ["requirement", "feedback", "comment"]
    entries = [_Entry(kinds[i % 3]) for i in range(200)]
    texts = [f"text {i}" for i in range(200)]
    proba = rng.dirichlet(np.ones(len(labels)), size=200)
    proba[5] = 1.0 / len(labels)  # ties: the first allowed label, as argmax gives
    model = _Model(labels, proba)
    got = _category_predictions(model, entries, texts, cache=None)
    assert got == _reference(model, entries, texts)
