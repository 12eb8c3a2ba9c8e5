"""The long-lived parts one server process holds: the assistant, speech in and out, clips and jobs.

Models are loaded in a background thread at start-up, so `/healthz` answers at once and `/readyz` says
when the process can answer. Each model is used by one request at a time (they are not all thread-safe,
and on a small server parallel inference only slows every request down); parallelism comes from workers.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Literal

from api.clips import open_clip_store
from api.config import ApiSettings
from api.jobs import IngestJobs, open_job_store
from api.ratelimit import open_rate_limiter
from api.uploads import open_upload_store
from assistant.answer import Answer
from assistant.confirm import Confirmer
from assistant.events import AnswerEvent, Finished, Rewritten, TextDelta
from assistant.pipeline import Assistant
from ground.postgres import DatabaseUnavailable
from knowledge.base import KnowledgeBase
from knowledge.ingest import pending_embeddings
from voice.asr import Transcript
from voice.recognition import SpeechRecognizer
from voice.synthesis import make_synthesizer
from voice.tts import Speech, SynthesisFailed, Synthesizer, spoken_sentences

log = logging.getLogger(__name__)

LoadState = Literal["loaded", "loading", "failed"]
_WEB_SESSIONS = "web:"


def _web_key(session_id: str | None) -> str:
    return _WEB_SESSIONS + (session_id or uuid.uuid4().hex)


def _web_id(key: str) -> str:
    return key.removeprefix(_WEB_SESSIONS)


WARM_UP_TEXT = "您好。"


@dataclass(frozen=True)
class SpokenClip:
    text: str
    clip_id: str
    engine: str


class Services:
    def __init__(self, settings: ApiSettings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self._owns_assistant = assistant is None
        self.assistant = assistant or Assistant(settings)
        self.recognizer = SpeechRecognizer(settings, prefer=self.assistant.understanding.known_share)
        # Each kind of state in the data home, or in PostgreSQL shared by several hosts (database_url).
        self.clips = open_clip_store(settings)
        self.jobs = IngestJobs(open_job_store(settings), lambda: self.writer_kb)
        self.limiter = open_rate_limiter(settings)
        self.uploads = open_upload_store(settings)
        self.index_state: LoadState = "loading"
        self.asr_state: LoadState = "loading"
        self.tts_engine: str | None = None
        self.answering_lock = threading.Lock()
        self._asr_lock = threading.Lock()
        self._tts_lock = threading.Lock()
        self._loaded = threading.Event()

    @cached_property
    def confirmer(self) -> Confirmer:
        """Issue 16: spoken questions asked back when unsure, and the villager's choice answered."""
        return Confirmer(self.assistant)

    @cached_property
    def synthesizer(self) -> Synthesizer:
        return make_synthesizer(self.settings)

    @cached_property
    def writer_kb(self) -> KnowledgeBase:
        """Ingest jobs write through their own connection and embedder, never the one answering."""
        return KnowledgeBase(self.settings)

    # Start-up

    def load_in_background(self) -> None:
        try:
            self.jobs.store.fail_orphans()
            self.clips.sweep()
        except DatabaseUnavailable as exc:
            # A host starts during an outage and answers 503 until the database returns; another host's
            # start, or this one's next, marks the jobs a stopped server left running.
            log.warning("the shared database cannot be reached at start: %s", exc)
        threading.Thread(target=self._load, name="load-models", daemon=True).start()

    def wait_loaded(self, timeout: float | None = None) -> bool:
        return self._loaded.wait(timeout)

    def _load(self) -> None:
        try:
            with self.answering_lock:
                self.assistant.kb.embeddings.embed_query("你好")
                self.assistant.kb.vectors.count()
            self.index_state = "loaded"
            self._resume_embedding()
        except DatabaseUnavailable as exc:
            log.warning("missing vectors not looked for: the shared database cannot be reached: %s", exc)
        except Exception:
            log.exception("the knowledge base could not be loaded")
            self.index_state = "failed"
        try:
            with self._asr_lock:
                _ = self.recognizer.transcriber
            self.asr_state = "loaded"
        except Exception:
            log.exception("the speech recogniser could not be loaded")
            self.asr_state = "failed"
        try:
            self.speak(WARM_UP_TEXT)
        except SynthesisFailed as exc:
            log.warning("no speech engine works; answers will be text only: %s", exc)
        self._loaded.set()

    def _resume_embedding(self) -> None:
        """Chunks left without a vector by a server stopped mid-ingest (searchable first: they answer by
        their words meanwhile) are completed by a re-index job, unless a job is under way already (another
        worker's or host's, which will complete them)."""
        kb = self.assistant.kb
        if not self.settings.resume_embedding:
            return
        pending = pending_embeddings(kb)
        if not pending or any(job.state in ("queued", "running") for job in self.jobs.store.recent()):
            return
        log.info("%d chunks wait for a vector since the last stop; a re-index completes them", pending)
        self.reindex()

    def reindex(self) -> str:
        """A job reading every document folder again (uploads other hosts received copied in first):
        changed files are re-indexed, deleted ones removed, missing vectors added. Returns its id."""
        self.uploads.sync()
        roots = {Path(d.root) for d in self.assistant.kb.documents()} | {self.uploads.folder}
        return self.jobs.submit("reindex", sorted(root for root in roots if root.is_dir()))

    @property
    def ready(self) -> bool:
        return self.index_state == "loaded"

    # Work

    def ask(
        self,
        question: str,
        session_id: str | None = None,
        *,
        spoken: bool = False,
        alternatives: list[tuple[str, float]] | None = None,
    ) -> Answer:
        """Typed questions as before; a spoken one may be asked back (`assistant.confirm`), and a reply
        to that (1 / 第一个 / 不是) answers the chosen reading."""
        with self.answering_lock:
            return self.confirmer.ask(question, session_id, spoken=spoken, alternatives=alternatives)

    def stream(self, question: str, session_id: str | None) -> Iterator[AnswerEvent]:
        """Run to the end by the caller's thread; holds the assistant while it does. A tap on a reading
        the page was offered (1, 2, 不是) arrives here as a typed message."""
        with self.answering_lock:
            resolved = self.confirmer.resolve(question, session_id)
            if isinstance(resolved, Answer):
                yield Rewritten(resolved.standalone_question, resolved.session_id)
                yield TextDelta(resolved.answer)
                yield Finished(resolved, replaced=False)
            elif resolved is not None:
                yield from self.assistant.stream(resolved, session_id=session_id, spoken=True)
            else:
                yield from self.assistant.stream(question, session_id=session_id)

    # The web API's conversations. A web client names its session freely, so what it sends is never the
    # session store's key itself: channels key theirs by the user's identity (wechat:official:<openid>),
    # and a web client must not read or steer a WeChat villager's conversation by sending that id.

    def ask_web(
        self,
        question: str,
        session_id: str | None,
        *,
        spoken: bool = False,
        alternatives: list[tuple[str, float]] | None = None,
    ) -> Answer:
        answer = self.ask(question, _web_key(session_id), spoken=spoken, alternatives=alternatives)
        return answer.model_copy(update={"session_id": _web_id(answer.session_id)})

    def stream_web(self, question: str, session_id: str | None) -> Iterator[AnswerEvent]:
        for event in self.stream(question, _web_key(session_id)):
            if isinstance(event, Rewritten):
                yield replace(event, session_id=_web_id(event.session_id))
            elif isinstance(event, Finished):
                answer = event.answer.model_copy(update={"session_id": _web_id(event.answer.session_id)})
                yield replace(event, answer=answer)
            else:
                yield event

    def recognize(self, audio: bytes) -> Transcript:
        """Raises `voice.audio.AudioError` for audio that cannot be used."""
        with self._asr_lock:
            return self.recognizer.recognize(audio)

    def speak(self, text: str, rate: float | None = None) -> Speech:
        """Raises `SynthesisFailed` when no engine works."""
        with self._tts_lock:
            try:
                speech = self.synthesizer.synthesize(text, rate)
            except SynthesisFailed:
                self.tts_engine = None
                raise
        self.tts_engine = speech.engine
        return speech

    def speak_sentences(self, text: str) -> Iterator[SpokenClip]:
        """Sentence by sentence as MP3 clips; stops quietly at the first sentence no engine can speak."""
        for sentence in spoken_sentences(text):
            try:
                speech = self.speak(sentence)
            except SynthesisFailed:
                return
            yield SpokenClip(sentence, self.clips.put(speech.encode("mp3")), speech.engine)

    def close(self) -> None:
        self.jobs.shutdown()
        self.jobs.store.close()
        if "writer_kb" in self.__dict__:
            self.writer_kb.close()
        if "confirmer" in self.__dict__:
            self.confirmer.close()
        if self._owns_assistant:
            self.assistant.close()
