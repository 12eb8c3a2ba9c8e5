"""Fit the answer confidence (assistant/confidence.py) and choose its refusal threshold on data.

Every case of the fitting sets is asked with no confidence threshold; the cases the other rules
already refuse (answerability, a year no passage holds) are left out; a logistic model learns from the
rest which are answerable. Fitting sets: the demo golden set, the demo near-miss set and the even-id
half of shared/data/rgb-zh-dev; the odd-id half of rgb is held back and reported beside them.
`--write` stores the fitted models in assistant/data/confidence.json.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.confidence import ANY_EMBEDDER, ConfidenceModel, Signals, fit, models_to_json
from assistant.pipeline import Assistant
from benchmarks.report import table
from evals.cases import Case, load_cases
from evals.results import result_of
from knowledge.base import KnowledgeBase
from knowledge.embeddings import embedder_id
from knowledge.ingest import ingest
from xiangyin.settings import Settings

MODELS = Path(__file__).resolve().parent.parent / "assistant" / "data" / "confidence.json"


@dataclass(frozen=True)
class _Row:
    set: str
    fitting: bool
    should_refuse: bool
    keywords_ok: bool
    signals: Signals


def _held(case: Case) -> bool:
    number = case.id.rsplit("-", 1)[-1]
    return number.isdigit() and int(number) % 2 == 1


def _ask(home: Path, folder: Path, sets: Sequence[tuple[str, Path, bool]]) -> tuple[str, list[_Row]]:
    settings = Settings(home=home, confidence_refusal=False)
    kb = KnowledgeBase(settings)
    ingest(kb, [folder])
    assistant = Assistant(settings, knowledge_base=kb)
    rows = []
    try:
        for name, cases_file, split in sets:
            for case in load_cases(cases_file):
                answer = assistant.ask(case.question, history=case.turns())
                if answer.refused or not answer.signals:
                    continue  # refused whatever the confidence: no say in the threshold
                fitting = not (split and _held(case))
                label = f"{name} ({'held' if split and not fitting else 'fit'})" if split else name
                rows.append(
                    _Row(
                        label,
                        fitting,
                        case.should_refuse,
                        # The harness's keyword measure; None (no keywords to check) is not right.
                        bool(result_of(case, answer).scores.keywords_ok),
                        Signals(**answer.signals),
                    )
                )
        return embedder_id(kb.embeddings), rows
    finally:
        assistant.close()


def _report(model: ConfidenceModel, rows: Sequence[_Row]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for name in dict.fromkeys(r.set for r in rows):
        mine = [r for r in rows if r.set == name]
        refused = [model.confidence(r.signals) < model.threshold for r in mine]
        right = sum(f and r.should_refuse for f, r in zip(refused, mine, strict=True))
        negatives = sum(r.should_refuse for r in mine)
        answerable = [(f, r) for f, r in zip(refused, mine, strict=True) if not r.should_refuse]
        out.append(
            (
                name,
                len(mine),
                negatives,
                right / max(sum(refused), 1),
                right / max(negatives, 1),
                sum(not f for f, _ in answerable) / max(len(answerable), 1),
                sum(not f and r.keywords_ok for f, r in answerable) / max(len(answerable), 1),
            )
        )
    return out


def main(
    root: Path, rgb: Path, results: Path, say: Callable[[str], None], write: bool = False
) -> dict[str, ConfidenceModel]:
    demo = [
        ("demo golden set", root / "evals" / "demo_cases.jsonl", False),
        ("demo near-miss", root / "evals" / "demo_nearmiss.jsonl", False),
    ]
    say("asking the demo sets with no confidence threshold...")
    embedder, rows = _ask(results / "demo-e5", root / "knowledge" / "demo", demo)
    if (rgb / "cases.jsonl").exists():
        say("asking shared/data/rgb-zh-dev (ingest into its own home first)...")
        rows += _ask(results / "rgb-e5", rgb, [("rgb-zh-dev", rgb / "cases.jsonl", True)])[1]
    else:
        say(f"skipping rgb-zh-dev: {rgb} not found")
    fitting = [r for r in rows if r.fitting]
    signals = [r.signals for r in fitting]
    answerable = [not r.should_refuse for r in fitting]
    # A group per knowledge base: the near-miss set has nothing to answer, and alone it would pull
    # the threshold up without regard to the villagers' answerable questions on the same documents.
    groups = [r.set.split(" ")[0] for r in fitting]
    right = [not r.should_refuse and r.keywords_ok for r in fitting]
    models = {
        embedder: fit(signals, answerable, groups, right),
        ANY_EMBEDDER: fit(signals, answerable, groups, right, uses_dense=False),
    }
    # The rule it replaces: the best passage's similarity at least 0.86.
    models_shown = {
        "the old rule (similarity >= 0.86)": ConfidenceModel((100.0, 0, 0, 0, 0), -86.0, 0.5),
        **models,
    }
    headers = [
        "set (cases the rules let through)",
        "cases",
        "must refuse",
        "refusal P",
        "refusal R",
        "answered",
        "keyword acc",
    ]
    for name, model in models_shown.items():
        weights = model.to_json()["weights"]
        say(f"\nConfidence model for {name}: weights {weights}, threshold {model.threshold:.3f}")
        say(table(headers, _report(model, rows)))
    if write:
        MODELS.write_text(models_to_json(models), encoding="utf-8")
        say(f"written: {MODELS}")
    return models
