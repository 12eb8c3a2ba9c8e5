"""Extractive vs local-LLM answers on the same cases: `python -m benchmarks --only llm --limit N`.

The local model runs ~12 tokens/s on two cores, so each set is measured on an evenly spread subset of
its cases (every k-th case, so refusals and follow-ups are in it), the same subset for both composers.

- keyword accuracy, refusal precision / recall: the evaluation harness's measures (evals.metrics);
- keyword numbers: the answer states every number of the expected keywords (over answerable cases
  whose keywords hold a number); stricter than the harness's number accuracy, which gives a share of
  the reference answer's numbers;
- faithfulness: share of answer sentences whose character pairs are at least 60% found in the
  passages the sentence (or else the answer) cites (over answered cases; a lexical proxy);
- LLM answers kept: answered with the model's own words (not replaced by the extractive answer);
  regenerated: needed the second try;
- latency p50 / p95 of the whole answer; the model's time to read a prompt (until its first token) and
  its generation speed in tokens/s.
"""

from __future__ import annotations

import itertools
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult

from assistant.answer import Answer
from assistant.checking import CITATION, numbers_in
from assistant.composers import FallbackComposer, local_composer
from assistant.composing import Composer
from assistant.extractive import ExtractiveComposer
from assistant.local_model import packaged_qwen
from assistant.pipeline import Assistant
from benchmarks.report import table
from evals.cases import Case, load_cases
from evals.metrics import percentile
from evals.results import CaseResult, result_of, summarize
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from xiangyin.settings import Settings

_SENTENCE_END = re.compile(r"(?<=[。！？!?；])")
_SUPPORTED = 0.6


class GenerationMeter(BaseCallbackHandler):
    """Counts the model's calls and generated tokens, and times reading the prompt (until the first
    token) apart from generating."""

    def __init__(self) -> None:
        self.calls = 0
        self.tokens = 0
        self.prompt_seconds = 0.0
        self.generation_seconds = 0.0
        self._started: dict[UUID, float] = {}
        self._first: dict[UUID, float] = {}

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[Any]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        self._started[run_id] = time.perf_counter()

    def on_llm_new_token(
        self, token: str | list[str | dict[str, Any]], *, run_id: UUID, **kwargs: Any
    ) -> None:
        self._first.setdefault(run_id, time.perf_counter())

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        now = time.perf_counter()
        started = self._started.pop(run_id, now)
        first = self._first.pop(run_id, now)
        self.calls += 1
        self.prompt_seconds += first - started
        self.generation_seconds += now - first
        for generations in response.generations:
            for generation in generations:
                usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
                self.tokens += usage["output_tokens"] if usage else 0


def _bigrams(text: str) -> set[str]:
    chars = [c for c in CITATION.sub("", text) if c.isalnum()]
    return {a + b for a, b in itertools.pairwise(chars)}


def faithfulness(answer: Answer) -> float:
    """Share of the answer's sentences mostly made of the character pairs of the passages they cite."""
    quotes = {c.number: c.quote for c in answer.citations}
    sentences = [s for s in _SENTENCE_END.split(answer.answer) if _bigrams(s)]
    if not sentences:
        return 0.0
    supported = 0
    for sentence in sentences:
        marks = [int(n) for n in CITATION.findall(sentence)] or list(quotes)
        source = _bigrams("".join(quotes.get(n, "") for n in marks))
        pairs = _bigrams(sentence)
        supported += len(pairs & source) / len(pairs) >= _SUPPORTED
    return supported / len(sentences)


@dataclass
class _Row:
    results: list[CaseResult] = field(default_factory=list)
    """Every answer, scored by the harness's measures."""
    number: list[bool] = field(default_factory=list)
    faithful: list[float] = field(default_factory=list)
    kept: list[bool] = field(default_factory=list)
    composed: int = 0
    latency: list[float] = field(default_factory=list)


def _numbers(keywords: Sequence[str]) -> set[str]:
    return set().union(*(numbers_in(k) for k in keywords)) if keywords else set()


def evaluate(assistant: Assistant, cases: Sequence[Case], generative: bool) -> _Row:
    row = _Row()
    for case in cases:
        started = time.perf_counter()
        answer = assistant.ask(case.question, history=case.turns())
        row.latency.append((time.perf_counter() - started) * 1000)
        row.results.append(result_of(case, answer))
        row.composed += "compose" in answer.timings_ms
        if not answer.refused:
            row.faithful.append(faithfulness(answer))
            if generative:
                row.kept.append(not answer.composer.startswith("extractive"))
        if case.should_refuse:
            continue
        wanted = _numbers(case.answer_keywords)
        if wanted:
            row.number.append(not answer.refused and wanted <= numbers_in(answer.answer))
    return row


def subset(cases: Sequence[Case], limit: int) -> list[Case]:
    """`limit` cases spread evenly over the file (every k-th)."""
    if limit <= 0 or limit >= len(cases):
        return list(cases)
    step = len(cases) / limit
    return [cases[int(i * step)] for i in range(limit)]


def _mean(values: Sequence[float | bool]) -> float:
    return statistics.fmean(values) if values else 0.0


def _shown(value: float | None) -> float | str:
    """A measure with no case to apply to (refusal recall of a subset with nothing to refuse) is "-"."""
    return "-" if value is None else value


def main(
    demo: Path,
    demo_cases: Path,
    domainrag: Path,
    results: Path,
    limit: int,
    say: Callable[[str], None],
) -> None:
    sets = [("demo golden set", demo, demo_cases, results / "demo-e5")]
    if (domainrag / "cases.jsonl").exists():
        sets.append(("domainrag", domainrag / "corpus", domainrag / "cases.jsonl", results / "domainrag-e5"))
    model_path = packaged_qwen(results / "models")
    rows = []
    for name, folder, path, home in sets:
        settings = Settings(home=home, llm_model_path=model_path)
        kb = KnowledgeBase(settings)
        ingest(kb, [folder])
        cases = subset(load_cases(path), limit)
        meter = GenerationMeter()
        local = local_composer(settings)
        local.model.callbacks = [meter]
        composers: list[tuple[str, Composer]] = [
            ("extractive", ExtractiveComposer()),
            ("local LLM (Qwen2.5 1.5B)", FallbackComposer(local, ExtractiveComposer())),
        ]
        try:
            for label, composer in composers:
                say(f"{name}: {len(cases)} cases with the {label} composer...")
                assistant = Assistant(settings, knowledge_base=kb, composer=composer)
                started = time.perf_counter()
                row = evaluate(assistant, cases, generative=composer.name != "extractive")
                assistant.sessions.close()
                say(f"  {time.perf_counter() - started:.0f} s")
                generative = composer.name != "extractive"
                summary = summarize(row.results)
                rows.append(
                    (
                        name,
                        label,
                        len(cases),
                        _shown(summary.keyword_accuracy),
                        _mean(row.number),
                        _shown(summary.refusal_precision),
                        _shown(summary.refusal_recall),
                        _mean(row.faithful),
                        f"{_mean(row.kept):.2f}" if generative else "-",
                        f"{(meter.calls - row.composed) / max(row.composed, 1):.2f}" if generative else "-",
                        percentile(row.latency, 50),
                        percentile(row.latency, 95),
                        f"{meter.prompt_seconds / max(meter.calls, 1):.1f}" if generative else "-",
                        f"{meter.tokens / meter.generation_seconds:.1f}"
                        if generative and meter.generation_seconds
                        else "-",
                    )
                )
        finally:
            kb.close()
    say("\nExtractive vs local LLM answers (same cases; see benchmarks/llm.py for the measures):")
    say(
        table(
            [
                "set",
                "composer",
                "cases",
                "keyword acc",
                "keyword numbers",
                "refusal P",
                "refusal R",
                "faithfulness",
                "LLM answers kept",
                "regenerated",
                "p50 ms",
                "p95 ms",
                "prompt s / call",
                "tokens/s",
            ],
            rows,
        )
    )
