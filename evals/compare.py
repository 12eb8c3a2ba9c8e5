"""Two runs side by side: which measures and which cases got better or worse, and the regression gate CI
uses (a chosen measure may not drop by more than a threshold)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from evals.results import LOWER_IS_BETTER, METRICS, RunResult, RunSummary, Summary

DEFAULT_GATE = (
    "keyword_accuracy",
    "hit_at_5",
    "citation_correctness",
    "refusal_precision",
    "refusal_recall",
)


@dataclass(frozen=True)
class MetricChange:
    name: str
    label: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def worsening(self) -> float:
        """How much worse the second run is (positive = worse); for latency, as a fraction of before."""
        if self.delta is None:
            return 0.0
        if self.name.startswith("latency"):
            return self.delta / self.before if self.before else 0.0
        return self.delta if self.name in LOWER_IS_BETTER else -self.delta


@dataclass(frozen=True)
class CaseChange:
    key: str
    question: str
    problem: str | None
    """Why the case fails in the second run, if it does."""


@dataclass
class Comparison:
    metrics: list[MetricChange]
    spoken: list[MetricChange]
    improved: list[CaseChange] = field(default_factory=list)
    """Failed in the first run, passes in the second."""
    regressed: list[CaseChange] = field(default_factory=list)
    """Passed in the first run, fails in the second."""
    only_before: list[str] = field(default_factory=list)
    only_after: list[str] = field(default_factory=list)


def _changes(before: Summary | None, after: Summary | None) -> list[MetricChange]:
    if before is None and after is None:
        return []
    return [
        MetricChange(
            name,
            label,
            getattr(before, name) if before else None,
            getattr(after, name) if after else None,
        )
        for name, label in METRICS.items()
    ]


def compare(before: RunResult | RunSummary, after: RunResult | RunSummary) -> Comparison:
    a = before.summary_only() if isinstance(before, RunResult) else before
    b = after.summary_only() if isinstance(after, RunResult) else after
    result = Comparison(_changes(a.summary, b.summary), _changes(a.spoken, b.spoken))
    for key, outcome in b.outcomes.items():
        earlier = a.outcomes.get(key)
        if earlier is None:
            result.only_after.append(key)
        elif earlier.passed and not outcome.passed:
            result.regressed.append(CaseChange(key, outcome.question, outcome.problem))
        elif not earlier.passed and outcome.passed:
            result.improved.append(CaseChange(key, outcome.question, None))
    result.only_before = [k for k in a.outcomes if k not in b.outcomes]
    return result


def gate(comparison: Comparison, metrics: Sequence[str] = DEFAULT_GATE, max_drop: float = 0.03) -> list[str]:
    """The measures that dropped by more than `max_drop` (absolute; latency: a fraction), as messages."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {list(METRICS)}")
    failures = []
    for scope, changes in (("", comparison.metrics), ("spoken ", comparison.spoken)):
        for change in changes:
            if change.name in metrics and change.worsening > max_drop + 1e-9:
                failures.append(
                    f"{scope}{change.name} ({change.label}) {change.before:.3f} -> {change.after:.3f}, "
                    f"worse by more than {max_drop:g}"
                )
    return failures
