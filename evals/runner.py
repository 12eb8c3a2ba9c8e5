"""Ask every golden case, typed and spoken, of the in-process assistant or of a running server.

A run is resumable: each finished case is appended to a partial file, and a run started again with the
same partial file asks only what is missing. Server runs ask several cases at once; in-process runs ask
one at a time, because the embedder already uses every core of the machine.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from assistant.answer import Answer
from assistant.config import AssistantSettings
from assistant.normalize import normalize_question
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from evals.cases import Case, HistoryTurn, load_cases, load_rewordings, session_turns
from evals.judge import Judge
from evals.metrics import RANKING_DEPTH, cer, source_matches
from evals.results import CaseResult, Mode, RetrievedPassage, RunInfo, RunResult, finish, result_of
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeSettings
from knowledge.hybrid import SearchHit
from knowledge.ingest import IngestReport, ingest
from voice.audio import AudioError
from voice.recognition import SpeechRecognizer

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (cases done, cases in the run)."""


class TargetError(RuntimeError):
    """The assistant could not answer (a server error, a timeout)."""


@dataclass
class Reply:
    answer: Answer
    ranking: list[RetrievedPassage]
    """The retrieval ranking the retrieval measures use (up to 10)."""
    latency_ms: float | None = None
    """How long answering took, when the target measured it itself."""


class Target(Protocol):
    """Something that answers questions: the assistant in this process, or a server."""

    description: str
    parallel: bool

    def ask(self, question: str, history: Sequence[HistoryTurn], spoken: bool) -> Reply: ...

    def sources_loaded(self, sources: Sequence[str]) -> bool | None:
        """Whether the knowledge base holds any of these documents; None when that cannot be known."""
        ...


def _hit(hit: SearchHit) -> RetrievedPassage:
    c = hit.chunk
    return RetrievedPassage(source=c.source, title=c.title, section=c.section, text=hit.text, score=hit.score)


class InProcessTarget:
    description = "in-process"
    parallel = False

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._sources: list[str] | None = None

    def ask(self, question: str, history: Sequence[HistoryTurn], spoken: bool) -> Reply:
        turns = session_turns(history)
        started = time.perf_counter()
        answer = self.assistant.ask(question, history=turns, spoken=spoken)
        latency = (time.perf_counter() - started) * 1000
        # The assistant keeps only the passages it offers the composer; rank 10 for MRR@10, with the
        # same query, fusion and passages (read big or not) the assistant used.
        query = normalize_question(answer.standalone_question)
        hits = self.assistant.kb.search(query, k=RANKING_DEPTH, spoken=spoken) if query.strip() else []
        return Reply(answer, [_hit(h) for h in hits], latency)

    def sources_loaded(self, sources: Sequence[str]) -> bool | None:
        if not sources:
            return None
        if self._sources is None:
            self._sources = [d.source for d in self.assistant.kb.documents()]
        return any(source_matches(s, loaded) for s in sources for loaded in self._sources)


class HttpTarget:
    """A running Xiangyin server: `POST {url}/api/v1/chat` with `{"message", "session_id"}` returns the
    Answer as JSON. A follow-up case replays its earlier user turns into a fresh session first. The chat
    route takes text only, so spoken cases are transcribed here and sent as text."""

    parallel = True

    def __init__(self, url: str, timeout_s: float = 60.0, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.description = self.url
        self.client = client or httpx.Client(timeout=timeout_s)

    def _chat(self, message: str, session_id: str) -> Answer:
        try:
            response = self.client.post(
                f"{self.url}/api/v1/chat", json={"message": message, "session_id": session_id}
            )
        except httpx.HTTPError as exc:
            raise TargetError(f"request failed: {exc!r}") from exc
        if response.status_code != 200:
            try:
                error = response.json()["error"]
                detail = f"{error['code']}: {error['message']}"
            except (ValueError, KeyError, TypeError):
                detail = response.text[:200]
            raise TargetError(f"HTTP {response.status_code} {detail}")
        try:
            return Answer.model_validate(response.json())
        except ValueError as exc:
            raise TargetError(f"the reply is not an Answer: {exc}") from exc

    def ask(self, question: str, history: Sequence[HistoryTurn], spoken: bool) -> Reply:
        session = f"eval-{uuid.uuid4().hex[:16]}"
        for turn in history:
            if turn.role == "user":
                self._chat(turn.content, session)
        answer = self._chat(question, session)
        return Reply(answer, [RetrievedPassage.of(p) for p in answer.passages])

    def sources_loaded(self, sources: Sequence[str]) -> bool | None:
        return None

    def close(self) -> None:
        self.client.close()


@dataclass(frozen=True)
class Trial:
    case: Case
    mode: Mode

    @property
    def key(self) -> str:
        return f"{self.case.id}/{self.mode}"


def trials(cases: Sequence[Case]) -> list[Trial]:
    """A typed trial for each case with a question, a spoken one for each case with a recording."""
    out: list[Trial] = []
    for case in cases:
        if case.question.strip():
            out.append(Trial(case, "typed"))
        if case.audio:
            out.append(Trial(case, "spoken"))
    return out


@dataclass
class Runner:
    target: Target
    audio_dir: Path = field(default_factory=Path.cwd)
    """Recordings named by cases are relative to this folder (the case file's)."""
    recognizer: SpeechRecognizer | None = None
    workers: int = 4
    judge: Judge | None = None

    def _question(self, trial: Trial) -> tuple[str, float | None]:
        if trial.mode == "typed":
            return trial.case.question, None
        if self.recognizer is None:
            raise TargetError("spoken case but no speech recognizer")
        assert trial.case.audio is not None
        try:
            data = (self.audio_dir / trial.case.audio).read_bytes()
        except OSError as exc:
            raise TargetError(f"cannot read the recording {trial.case.audio}: {exc}") from exc
        try:
            heard = self.recognizer.recognize(data).text
        except AudioError as exc:
            raise TargetError(f"the recording {trial.case.audio} cannot be used: {exc.message}") from exc
        question_cer = cer([(trial.case.question, heard)]) if trial.case.question.strip() else None
        return heard, question_cer

    def run_one(self, trial: Trial) -> CaseResult:
        case = trial.case
        asked, question_cer = "", None
        started = time.perf_counter()
        try:
            asked, question_cer = self._question(trial)
            started = time.perf_counter()
            reply = self.target.ask(asked, case.history, trial.mode == "spoken")
        except Exception as exc:  # one failing case must not end a long run; it is reported as failed
            log.warning("case %s failed: %r", trial.key, exc)
            return finish(
                CaseResult(case=case, mode=trial.mode, asked=asked, question_cer=question_cer, error=str(exc))
            )
        latency = reply.latency_ms or (time.perf_counter() - started) * 1000
        result = result_of(
            case,
            reply.answer,
            mode=trial.mode,
            asked=asked,
            ranking=reply.ranking,
            latency_ms=latency,
            question_cer=question_cer,
            sources_loaded=self.target.sources_loaded(case.sources),
        )
        if self.judge is not None:
            try:
                result.judge = self.judge.judge(result)
            except Exception as exc:  # an unreachable judge model costs its measure, not the run
                log.warning("the judge failed on %s: %r", trial.key, exc)
        return result

    def run(
        self,
        cases: Sequence[Case],
        info: RunInfo,
        partial: Path | None = None,
        progress: Progress | None = None,
    ) -> RunResult:
        """Ask every trial; results already in `partial` (for the same case) are kept, not asked again."""
        todo = trials(cases)
        done: dict[str, CaseResult] = load_partial(partial, {t.key: t.case for t in todo})
        notify: Progress = progress or (lambda done, total: None)
        lock = threading.Lock()
        notify(len(done), len(todo))
        started = time.perf_counter()

        def run_and_keep(trial: Trial) -> None:
            result = self.run_one(trial)
            with lock:
                done[trial.key] = result
                if partial is not None:
                    with partial.open("a", encoding="utf-8") as out:
                        out.write(result.model_dump_json() + "\n")
                notify(len(done), len(todo))

        missing = [t for t in todo if t.key not in done]
        if partial is not None:
            partial.parent.mkdir(parents=True, exist_ok=True)
        if self.target.parallel and self.workers > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                list(pool.map(run_and_keep, missing))
        else:
            for trial in missing:
                run_and_keep(trial)
        info = info.model_copy(update={"duration_s": round(time.perf_counter() - started, 2)})
        return RunResult.build(info, [done[t.key] for t in todo])


def load_partial(partial: Path | None, wanted: dict[str, Case]) -> dict[str, CaseResult]:
    """The results an interrupted run kept in `partial` for these cases (by trial key), errors left out
    so they are asked again."""
    if partial is None or not partial.exists():
        return {}
    kept: dict[str, CaseResult] = {}
    for line in partial.read_text(encoding="utf-8").splitlines():
        try:
            result = CaseResult.model_validate_json(line)
        except ValueError:
            continue  # a line cut short when the earlier run was killed
        if wanted.get(result.key) == result.case and not result.error:
            kept[result.key] = result
    return kept


def knowledge_home(settings: AssistantSettings, folder: Path) -> Path:
    """A data home of its own for an evaluated folder (by path and embedder), under the live home's
    `evals/`; ingest keeps it in step with the folder's content, so a second run embeds nothing."""
    key = f"{folder.expanduser().resolve()}|{settings.embedder}|{settings.embedder_model_path}"
    return settings.home / "evals" / f"kb-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def prepare_knowledge(
    settings: AssistantSettings,
    folder: Path,
    home: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[KnowledgeBase, IngestReport]:
    """Ingest `folder` into its own data home, so an evaluation never touches the live index (nor a
    shared Chroma server)."""
    own = settings.model_copy(
        update={"home": (home or knowledge_home(settings, folder)).resolve(), "chroma_url": None}
    )
    kb = KnowledgeBase(own)
    try:
        report = ingest(kb, [folder], progress=progress)
    except BaseException:
        kb.close()
        raise
    return kb, report


def over(settings: AssistantSettings, kb: KnowledgeBase) -> AssistantSettings:
    """`settings` for an assistant over `kb`: the knowledge base's own home, store and embedder (an
    evaluation home of its own), the assistant's the caller's."""
    own = {name: getattr(kb.settings, name) for name in KnowledgeSettings.model_fields}
    return settings.model_copy(update=own)


def settings_info(settings: AssistantSettings) -> dict[str, object]:
    keys = (
        "embedder",
        "fusion",
        "dense_weight",
        "lexical_weight",
        "answer_passages",
        "read_big",
        "confidence_refusal",
        "min_confidence",
        "refusal_min_dense",
        "refusal_unknown_coverage",
    )
    return {k: getattr(settings, k) for k in keys}


def evaluate(
    cases_file: Path,
    settings: AssistantSettings,
    *,
    knowledge: Path | None = None,
    url: str | None = None,
    knowledge_base: KnowledgeBase | None = None,
    partial: Path | None = None,
    workers: int = 4,
    progress: Progress | None = None,
    ingest_progress: Callable[[str, int, int], None] | None = None,
    judge: Judge | None = None,
    originals: Path | None = None,
) -> RunResult:
    """Run a case file against a server (`url`), or in-process against a knowledge folder (ingested into
    its own home first) or an open knowledge base; `judge` adds an LLM judge's verdicts. With
    `originals`, `cases_file` holds rewordings of its cases (`load_rewordings`). Raises CaseFileError for
    a bad case file."""
    cases = load_rewordings(cases_file, load_cases(originals))[0] if originals else load_cases(cases_file)
    info = RunInfo(
        cases_file=str(cases_file),
        target=url.rstrip("/") if url else "in-process",
        knowledge=str(knowledge) if knowledge else None,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        settings=settings_info(settings) if url is None else {},
    )
    spoken = any(c.audio for c in cases)
    if url is not None:
        # The server's documents are not here to choose among Whisper's hypotheses: its best is sent.
        recognizer = SpeechRecognizer(settings) if spoken else None
        http = HttpTarget(url)
        try:
            runner = Runner(http, cases_file.parent, recognizer, workers, judge)
            return runner.run(cases, info, partial, progress)
        finally:
            http.close()
    kb = knowledge_base
    if kb is None:
        if knowledge is None:
            raise ValueError("give a knowledge folder, an open knowledge base or a server URL")
        kb, _ = prepare_knowledge(settings, knowledge, progress=ingest_progress)
    assistant = Assistant(over(settings, kb), knowledge_base=kb, sessions=memory_sessions())
    recognizer = SpeechRecognizer(settings, prefer=assistant.understanding.known_share) if spoken else None
    try:
        runner = Runner(InProcessTarget(assistant), cases_file.parent, recognizer, workers, judge)
        return runner.run(cases, info, partial, progress)
    finally:
        assistant.sessions.close()
        if knowledge_base is None:
            kb.close()


def memory_sessions() -> SessionStore:
    # Cases carry their own history, so the run's sessions are never read back.
    return SessionStore(Path(":memory:"))
