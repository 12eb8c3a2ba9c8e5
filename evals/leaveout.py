"""Leave-one-out negatives: every answerable case asked again with the documents holding its answer
removed, where the assistant must now refuse (same topic, the asked fact gone).

Nothing is embedded again: the evaluation home the runner keeps for the folder (`knowledge_home`) is
copied, which takes a fraction of a second where embedding takes minutes, and the case's documents are
removed from the copy with `KnowledgeBase.remove`, so the catalog, BM25 and the vectors no longer hold
them (the assistant's vocabulary checks see the smaller knowledge base too). Cases naming the same
documents share one copy. The output is an ordinary run (`RunResult`) of should-refuse cases, so the
report, compare and baseline commands work on it.

The named documents are not always the only ones holding the fact (a question-and-answer sheet restates
a policy, a web corpus keeps several copies of a page): every document whose text holds the case's
evidence verbatim is removed with them. A case whose answer still cites passages with most of its
original keywords (the fact restated in other words, or the greater part of a list another page
repeats) is asked again with those documents removed as well, up to `ROUNDS` times; one still answered
so after that is left out of the run and listed as skipped, with the documents that still hold it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from chromadb.api.client import Client

from assistant.composers import make_composer
from assistant.composing import Composer
from assistant.config import AssistantSettings
from assistant.pipeline import Assistant
from evals.cases import Case, load_cases
from evals.metrics import source_matches
from evals.results import CaseResult, RunInfo, RunResult
from evals.runner import (
    InProcessTarget,
    Progress,
    Runner,
    Trial,
    load_partial,
    memory_sessions,
    over,
    prepare_knowledge,
    settings_info,
)
from knowledge.base import KnowledgeBase
from knowledge.chunking import Chunk
from knowledge.vectors import VectorStore, make_client

TAG = "leave-one-out"
TITLE = "乡音问答评测报告：删去出处文件后应当拒答"
ROUNDS = 3
"""How many times a case answered from other documents restating its fact is asked again with those
removed too: a web corpus keeps a page in several copies and years."""


@dataclass(frozen=True)
class Skipped:
    """An answerable case that cannot become a negative, and why (in Chinese, for the printout)."""

    case: Case
    reason: str


@dataclass
class LeaveOneOutRun:
    run: RunResult
    skipped: list[Skipped]
    copies: int
    """Knowledge-base copies made (one per distinct set of removed documents not already done)."""
    asked: int
    """Cases asked by this run (not kept from an interrupted one)."""


def negative(case: Case, removed: Sequence[str]) -> Case:
    """The case as a leave-one-out negative. Its sources become the documents removed and its evidence
    stays, so the report shows what went; the expected answer goes, it must not be given."""
    return case.model_copy(
        update={
            "id": f"{case.id}-loo",
            "sources": list(removed),
            "answer": None,
            "answer_keywords": [],
            "should_refuse": True,
            "tags": [TAG, *(t for t in case.tags if t != TAG)],
        }
    )


def plan(
    kb: KnowledgeBase, cases: Sequence[Case], limit: int | None = None
) -> tuple[dict[tuple[str, ...], list[Case]], list[Skipped]]:
    """The cases to ask again, grouped by the documents to remove (as the knowledge base names them:
    the case's sources and every other document holding its evidence verbatim), and the answerable
    cases that cannot be made negatives."""
    loaded = [d.source for d in kb.documents()]
    chunks: list[Chunk] = list(kb.catalog.chunks(sorted(kb.catalog.chunk_ids())).values())
    groups: dict[tuple[str, ...], list[Case]] = {}
    skipped: list[Skipped] = []
    taken = 0
    for case in cases:
        if case.should_refuse or not case.question.strip():
            continue
        if limit is not None and taken >= limit:
            break
        if not case.sources:
            skipped.append(Skipped(case, "用例没有写出处文件（sources）"))
            continue
        named = {s for s in loaded if any(source_matches(e, s) for e in case.sources)}
        if not named:
            skipped.append(Skipped(case, "出处文件不在知识库里：" + "，".join(case.sources)))
            continue
        holding = {c.source for c in chunks if any(e in c.text for e in case.evidence)}
        groups.setdefault(tuple(sorted(named | holding)), []).append(case)
        taken += 1
    return groups, skipped


@contextmanager
def without(kb: KnowledgeBase, sources: Sequence[str]) -> Iterator[KnowledgeBase]:
    """A copy of `kb` with `sources` removed, in a temporary data home deleted afterwards; `kb` itself
    is only read."""
    with tempfile.TemporaryDirectory(prefix="xiangyin-loo-") as scratch:
        home = Path(scratch)
        # The index folder is the whole knowledge base (catalog and embedded Chroma); holding its writer
        # lock keeps an ingest from another process out while it is copied, so the copy is consistent.
        with kb.writer():
            shutil.copytree(kb.settings.index_dir, home / "index")
        copy = KnowledgeBase(kb.settings.model_copy(update={"home": home}), kb.embeddings)
        # KnowledgeBase.close leaves its Chroma client open, and a run makes a copy per group: the
        # client is made here, pre-filling the cached property, so it can be closed and its memory and
        # open files released before the next copy.
        client = make_client(None, copy.settings.index_dir / "chroma")
        copy.__dict__["vectors"] = VectorStore(client, kb.vectors.name, kb.embeddings)
        try:
            copy.remove(sources)
            yield copy
        finally:
            copy.close()
            if isinstance(client, Client):
                client.close()


# A figure with its unit (9个, 2项, 1名), as a reference answer gives it.
_COUNTED = re.compile(r"\d+(?:\.\d+)?\s*[\u4e00-\u9fff]{1,2}")
# A verdict (是, 可以) or a single character (三, 七) is in any passage: it tells nothing of where a fact is.
_VERDICTS = frozenset({"可以", "不可以", "不能", "不会", "没有", "需要", "不需要", "不用"})


def still_answered(result: CaseResult, original: Case) -> list[str]:
    """The documents an answer given without the case's own documents still drew the original answer
    from: the passages it cites hold most of the original case's keywords (more than half: all of one
    or two, two of three, five of eight list items), so another document holds the fact, in other words
    or in part (a verbatim copy of the evidence is found before asking), or they quote the case's
    evidence in other punctuation or with a word changed (`_copies`: the only sign for a yes/no case,
    whose 是 or 可以 tells nothing); the cited documents holding any of them are named. Empty when the
    case is a true negative, or when the answer shares no more than half of the keywords (法语 and 英语
    of six languages: another year's rule) and no copy of the evidence."""
    if result.refused or result.error:
        return []
    copies = {c.source for c in result.citations if any(_copies(e, c.quote) for e in original.evidence)}
    keywords = [k for k in original.answer_keywords if len(k) >= 2 and k not in _VERDICTS]
    if not keywords and original.answer:
        # A lone digit (9) is in any passage; the reference answer says it with its unit (9个 / 9), which
        # is as telling as a two-character keyword.
        keywords = [a for a in (a.strip() for a in original.answer.split("/")) if _COUNTED.fullmatch(a)][:1]
    quotes = [c.quote for c in result.citations]
    held = [k for k in keywords if any(k in q for q in quotes)]
    if keywords and 2 * len(held) > len(keywords):
        copies |= {c.source for c in result.citations if any(k in c.quote for k in keywords)}
    return sorted(copies)


# Punctuation, spaces and quotation marks, which copies of a page set differently.
_NOT_WORDS = re.compile(r"[\W_]+")
_FIGURES = re.compile(r"\d+")
# An FAQ's or a list's item number (9、国家专项计划…), which is no figure the evidence states.
_ITEM_NUMBER = re.compile(r"^\s*[（(]?\d{1,2}\s*[、.．)）]")


def _pieces(text: str) -> set[str]:
    return {text[i : i + 4] for i in range(len(text) - 3)}


def _copies(evidence: str, quote: str) -> bool:
    """`quote` holds the evidence sentence in other punctuation or a word changed (“圆梦计划”和国家专项生计划
    录取的新生可自行决定… for 按国家专项生计划和"圆梦计划"录取的新生可自行决定…): three quarters of its
    four-character pieces and every figure it states, or a line cut by a chunk's edge that is its end or
    its beginning. Another year's notice differs in its figures (至2020年1月2日 is no copy of 至2020年12月
    21日); a short evidence (是, 8小时) tells nothing this way."""
    wanted = _NOT_WORDS.sub("", _ITEM_NUMBER.sub("", evidence))
    if len(wanted) < _COPY_MIN_CHARS:
        return False
    said = _NOT_WORDS.sub("", quote)
    figures = _FIGURES.findall(wanted)
    if not all(figure in said for figure in figures):
        return False
    pieces = _pieces(wanted)
    if len(pieces & _pieces(said)) >= _COPY_SHARE * len(pieces):
        return True
    # A chunk cut inside the evidence sentence (新生可自行决定入学时是否迁转户口。 opening a chunk, for
    # 按国家专项生计划和"圆梦计划"录取的新生可自行决定…): a whole line of the quote is the evidence's end or
    # its beginning, with every figure the evidence states.
    lines = (_NOT_WORDS.sub("", line) for line in quote.splitlines())
    return any(
        len(line) >= _COPY_MIN_CHARS
        and (wanted.endswith(line) or wanted.startswith(line))
        and all(figure in line for figure in figures)
        for line in lines
    )


_COPY_MIN_CHARS = 12
_COPY_SHARE = 0.75


def _composer(settings: AssistantSettings) -> Composer | None:
    """None for the extractive composer, which each assistant builds itself as the runner's does (the
    assistant falls back to its own one when a generated answer fails the check); a generative one is
    built once for the whole run, since it loads a model, from the evaluation home like the runner's."""
    return None if settings.composer == "extractive" else make_composer(settings)


def leave_one_out(
    cases_file: Path,
    settings: AssistantSettings,
    knowledge: Path | None = None,
    *,
    knowledge_base: KnowledgeBase | None = None,
    limit: int | None = None,
    partial: Path | None = None,
    progress: Progress | None = None,
    ingest_progress: Callable[[str, int, int], None] | None = None,
    rounds: int = ROUNDS,
) -> LeaveOneOutRun:
    """Ask each answerable case of `cases_file` (the first `limit`) in-process with its documents (its
    `sources` and those holding its evidence) removed from a copy of the knowledge folder's evaluation
    home, or of an open `knowledge_base` (only read); a case passes when it is refused. One answered
    from other documents restating its fact is asked again without them too, up to `rounds` times, then
    skipped. Results kept in `partial` by an interrupted run are not asked again. Raises CaseFileError
    for a bad case file."""
    cases = load_cases(cases_file)
    info = RunInfo(
        cases_file=str(cases_file),
        target="in-process",
        knowledge=str(knowledge) if knowledge else None,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        settings=settings_info(settings),
    )
    if knowledge_base is not None:
        base = knowledge_base
    elif knowledge is not None:
        base, _ = prepare_knowledge(settings, knowledge, progress=ingest_progress)
    else:
        raise ValueError("give a knowledge folder or an open knowledge base")
    try:
        groups, skipped = plan(base, cases, limit)
        originals = {negative(case, ()).id: case for group in groups.values() for case in group}
        composer = _composer(over(settings, base))
        notify: Progress = progress or (lambda done, total: None)
        if partial is not None:
            partial.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        copies = asked = 0
        final: dict[str, CaseResult] = {}
        pending = groups
        for round_ in range(rounds + 1):
            negatives = {removed: [negative(c, removed) for c in group] for removed, group in pending.items()}
            todo = [Trial(case, "typed") for group in negatives.values() for case in group]
            # A case asked again keeps its key, and its removed documents (its sources) tell the rounds'
            # results in the partial file apart.
            done = load_partial(partial, {t.key: t.case for t in todo})
            notify(len(final) + len(done), len(final) + len(todo))
            for removed, group in negatives.items():
                missing = [t for t in (Trial(case, "typed") for case in group) if t.key not in done]
                if not missing:
                    continue
                copies += 1
                asked += len(missing)
                for result in _ask(settings, composer, base, removed, missing, cases_file.parent):
                    done[result.key] = result
                    if partial is not None:
                        with partial.open("a", encoding="utf-8") as out:
                            out.write(result.model_dump_json() + "\n")
                    notify(len(final) + len(done), len(final) + len(todo))
            pending = {}
            for trial in todo:
                result, original = done[trial.key], originals[trial.case.id]
                held = still_answered(result, original)
                if not held:
                    final[trial.key] = result
                elif round_ < rounds:
                    pending.setdefault(tuple(sorted({*trial.case.sources, *held})), []).append(original)
                else:
                    skipped.append(
                        Skipped(
                            original,
                            "删去出处和复述它的文件后，助手仍从别的文件答出了原答案：" + "，".join(held),
                        )
                    )
            if not pending:
                break
        info = info.model_copy(update={"duration_s": round(time.perf_counter() - started, 2)})
        # In the cases' own order, whichever round each was settled in.
        order = {negative(case, ()).id: n for n, case in enumerate(cases)}
        kept = sorted(final.values(), key=lambda r: order[r.case.id])
        return LeaveOneOutRun(RunResult.build(info, kept), skipped, copies, asked)
    finally:
        if knowledge_base is None:
            base.close()


def _ask(
    settings: AssistantSettings,
    composer: Composer | None,
    base: KnowledgeBase,
    removed: tuple[str, ...],
    trials: Sequence[Trial],
    root: Path,
) -> Iterator[CaseResult]:
    """The trials' results from a fresh assistant over a copy of `base` without `removed`."""
    with without(base, removed) as kb:
        assistant = Assistant(
            over(settings, kb), knowledge_base=kb, composer=composer, sessions=memory_sessions()
        )
        runner = Runner(InProcessTarget(assistant), root)
        try:
            for trial in trials:
                yield runner.run_one(trial)
        finally:
            assistant.sessions.close()
