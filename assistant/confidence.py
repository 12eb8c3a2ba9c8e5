"""How sure the assistant is that the retrieved passages answer the question: one number from 0 to 1.

Each refusal signal on its own (the best passage's similarity, the share of the question's words the
passages hold, words no document mentions, whether a sentence states the asked fact) was a threshold
set by a sweep; together they are weighed by a logistic model fitted on labelled questions (the demo
golden and near-miss sets, half of rgb-zh-dev) by `python -m benchmarks --only confidence`, which
also chooses the threshold below which the assistant refuses. The fitted weights ship in
`assistant/data/confidence.json`, one model per embedder (similarities are on each embedder's own
scale) and one without the similarity for embedders nobody fitted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from importlib import resources

import numpy as np

ANY_EMBEDDER = "*"
"""The entry for embedders nobody fitted a model for (it does without the similarity)."""


@dataclass(frozen=True)
class Signals:
    """What the passages say about a question, each on a 0-1 scale."""

    dense: float
    """The best passage's cosine similarity to the question."""
    covered: float
    """Share of the question's topic words that some passage holds."""
    unknown: float
    """Share of the question's topic words that no document of the knowledge base holds."""
    stated_first: float
    """1 when the best passage has a sentence stating what the question asks for, under its constraints."""
    stating: float
    """Share of the passages with such a sentence."""

    def values(self, with_dense: bool = True) -> list[float]:
        return [getattr(self, f.name) for f in fields(self) if with_dense or f.name != "dense"]

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ConfidenceModel:
    weights: tuple[float, ...]
    bias: float
    threshold: float
    """Below this confidence the assistant refuses (chosen on the fitting data)."""
    uses_dense: bool = True

    def confidence(self, signals: Signals) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals.values(self.uses_dense), strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, object]:
        return {
            "weights": [round(w, 5) for w in self.weights],
            "bias": round(self.bias, 5),
            "threshold": round(self.threshold, 4),
            "uses_dense": self.uses_dense,
        }


def fit(
    rows: Sequence[Signals],
    answerable: Sequence[bool],
    groups: Sequence[str],
    right: Sequence[bool] | None = None,
    uses_dense: bool = True,
    l2: float = 0.01,
) -> ConfidenceModel:
    """Logistic regression (answerable = 1) by gradient descent, then the threshold that best trades
    refusal F1 against the share of answerable questions answered (`right`: answered correctly, when
    known; refusing a wrong answer costs nothing). Every group (a question set) weighs
    the same, so a set of 50 must-refuse news questions does not outvote a set of villagers' questions."""
    x = np.array([r.values(uses_dense) for r in rows], dtype=float)
    y = np.array(answerable, dtype=float)
    sizes = {g: groups.count(g) for g in set(groups)}
    weight = np.array([len(groups) / (len(sizes) * sizes[g]) for g in groups])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    w = np.zeros(z.shape[1])
    b = 0.0
    for _ in range(5000):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        w -= 0.1 * (z.T @ (weight * (p - y)) / len(y) + l2 * w)
        b -= 0.1 * float(np.mean(weight * (p - y)))
    # Back to the signals' own scale, so the shipped model needs no normalisation step.
    weights = w / scale
    bias = b - float(np.sum(w * mean / scale))
    model = ConfidenceModel(tuple(float(v) for v in weights), float(bias), 0.5, uses_dense)
    scores = [model.confidence(r) for r in rows]

    rewarded = list(right) if right is not None else list(answerable)

    def objective(threshold: float) -> float:
        return sum(
            _objective(
                [s for s, g in zip(scores, groups, strict=True) if g == group],
                [a for a, g in zip(answerable, groups, strict=True) if g == group],
                [r for r, g in zip(rewarded, groups, strict=True) if g == group],
                threshold,
            )
            for group in sizes
        )

    threshold = max([0.0, *sorted(set(scores))], key=objective)
    return ConfidenceModel(model.weights, model.bias, threshold, uses_dense)


def _objective(
    scores: Sequence[float], answerable: Sequence[bool], right: Sequence[bool], threshold: float
) -> float:
    """Refusal F1 plus the share of answerable questions answered right; a set with nothing to refuse
    counts by what it answers."""
    refused = [s < threshold for s in scores]
    refused_rightly = sum(f and not a for f, a in zip(refused, answerable, strict=True))
    precision = refused_rightly / max(sum(refused), 1)
    recall = refused_rightly / max(sum(not a for a in answerable), 1)
    answered = sum(not f and a and r for f, a, r in zip(refused, answerable, right, strict=True)) / max(
        sum(answerable), 1
    )
    if not any(not a for a in answerable):
        return 2 * answered
    if not any(answerable):
        return 2 * recall
    return 2 * precision * recall / max(precision + recall, 1e-9) + answered


def models_to_json(models: dict[str, ConfidenceModel]) -> str:
    return json.dumps({name: m.to_json() for name, m in models.items()}, indent=2) + "\n"


@lru_cache(maxsize=8)
def model_for(embedder: str) -> ConfidenceModel:
    """The fitted model for `embedder`, else the one that does without the similarity."""
    text = resources.files("assistant").joinpath("data/confidence.json").read_text(encoding="utf-8")
    data = json.loads(text)
    entry = data.get(embedder) or data[ANY_EMBEDDER]
    return ConfidenceModel(
        tuple(entry["weights"]), entry["bias"], entry["threshold"], bool(entry.get("uses_dense", True))
    )
