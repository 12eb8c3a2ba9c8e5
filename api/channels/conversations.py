"""Answering chat messages inside the channel's time limits, each answer delivered exactly once.

Channel-neutral: a channel (api/wechat/ for the official account and WeCom) reads and renders its
callbacks; everything below about deadlines, background answers and pushes is shared. The timings are
WeChat's, the first channels' (the `wechat_*` settings).

WeChat waits about 5 s for a passive reply and then asks again, three times in all. A message's answer
is worked out in the background from the first request on; every request for the message waits for it
until just before WeChat's deadline. A retry whose answer is ready gets it as the passive reply. If the
last request still finds nothing, the user is told the answer is coming: it is pushed as a
customer-service message when the account may push, and otherwise carried by the reply to the user's
next message (whatever it is). Earlier requests that run out of time send nothing while WeChat is still
listening, because any reply, even an empty one, would stop WeChat's retries.

All state lives in the `Ledger`, so retries landing on another worker, a restart, or two workers
answering at once change nothing about who delivers what.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

from api.channels import texts
from api.channels.base import Channel, ChannelAPIError, Inbound
from api.channels.ledger import open_ledger
from api.channels.splitting import split_message
from api.config import ApiSettings
from assistant.answer import Answer
from assistant.intents import classify
from voice.asr import Transcript
from voice.audio import SAMPLE_RATE, AudioError, Samples, encode_audio
from voice.tts import SynthesisFailed, Synthesizer

log = logging.getLogger(__name__)

_POLL_S = 0.05
_SWEEP_EVERY_S = 15.0
_KEEP_S = 7 * 24 * 3600
_VOICE_MAX_S = 58.0  # WeChat refuses voice messages longer than 60 s
_FAILED = "抱歉，查询时出了点问题，请稍后再问一次。"


def voice_clips(synthesizer: Synthesizer, text: str, max_s: float = _VOICE_MAX_S) -> list[Samples]:
    """`text` spoken in clips a channel accepts as voice messages (WeChat: at most 60 s), cut between
    sentences."""
    limit = int(max_s * SAMPLE_RATE)
    clips: list[Samples] = []
    current: list[Samples] = []
    for _, speech in synthesizer.sentences(text):
        samples = speech.samples[:limit]
        if current and sum(len(s) for s in current) + len(samples) > limit:
            clips.append(np.concatenate(current))
            current = []
        current.append(samples)
    if current:
        clips.append(np.concatenate(current))
    return clips


class Answerer(Protocol):
    """What answers questions (`assistant.pipeline.Assistant` in production)."""

    def ask(
        self,
        question: str,
        session_id: str | None = None,
        *,
        spoken: bool = False,
        alternatives: list[tuple[str, float]] | None = None,
    ) -> Answer:
        """`alternatives`: every recognition hypothesis (issue 16); a spoken question may be asked back
        (您是想问：1. … 2. …), and the villager's reply 1 / 2 / 不是 answers it."""
        ...


class Recognizer(Protocol):
    """What turns voice messages into text (`voice.recognition.SpeechRecognizer`); raises `AudioError`."""

    def recognize(self, data: bytes) -> Transcript: ...


class Conversations:
    def __init__(
        self,
        channel: Channel,
        settings: ApiSettings,
        answerer: Answerer,
        recognizer: Recognizer | None,
        synthesizer: Synthesizer | None = None,
    ) -> None:
        self.channel = channel
        self.settings = settings
        self.answerer = answerer
        self.recognizer = recognizer
        self.synthesizer = synthesizer
        self.ledger = open_ledger(settings, channel.name)
        self.owner = uuid.uuid4().hex
        self.voice_replies = settings.wechat_voice_replies and channel.may_push and synthesizer is not None
        if settings.wechat_voice_replies and not self.voice_replies:
            log.warning(
                "voice replies are on but %s cannot push messages; replying with text only", channel.name
            )
        self._answers = ThreadPoolExecutor(
            settings.wechat_workers, thread_name_prefix=f"{channel.name}-answer"
        )
        self._pushes = ThreadPoolExecutor(2, thread_name_prefix=f"{channel.name}-push")
        self._swept_at = 0.0
        self._sweep_lock = threading.Lock()
        self._reserve = 0 if channel.may_push else len(texts.MORE_FOLLOWS.encode("utf-8"))

    def close(self) -> None:
        self._answers.shutdown(wait=True, cancel_futures=True)
        self._pushes.shutdown(wait=True)
        self.ledger.release(self.owner)
        self.ledger.close()

    # The callback

    async def handle(self, inbound: Inbound, disconnected: Callable[[], Awaitable[bool]]) -> str | None:
        """The passive reply for one request (None: no reply)."""
        arrived = time.monotonic()
        self.sweep_soon()
        s = self.settings
        spoken = inbound.kind == "voice"
        question = inbound.kind in ("text", "voice")
        reg = self.ledger.register(
            inbound.key,
            inbound.user,
            inbound.text,
            inbound.media_id,
            spoken,
            self.owner if question else "",
            s.wechat_answer_timeout_s,
        )
        if reg.attempts > s.wechat_attempts:
            log.info("%s message requested %d times; no more replies", self.channel.name, reg.attempts)
            return None
        if reg.reply is not None:
            return reg.reply or None
        if reg.inserted:
            immediate = self._begin(inbound)
            if immediate is not None:
                return immediate or None
        last = reg.attempts >= s.wechat_attempts
        deadline = arrived + s.wechat_reply_timeout_s - s.wechat_reply_margin_s
        gone_after = arrived + s.wechat_reply_timeout_s + s.wechat_reply_margin_s
        while True:
            state = self.ledger.state(inbound.key)
            if state.reply is not None:
                return state.reply or None
            if state.ready:
                return self._reply_with_answer(inbound.key)
            now = time.monotonic()
            if now >= deadline:
                if not last and await disconnected():
                    return None  # the channel gave up on this request and is sending the next one
                if last or now >= gone_after:
                    if self.ledger.promise(inbound.key, texts.still_working(self.channel.may_push)):
                        log.info("%s answer not ready in time; promised for later", self.channel.name)
                    continue  # the reply is stored now: the notice, or the answer that just got ready
            await asyncio.sleep(_POLL_S)

    def _begin(self, inbound: Inbound) -> str | None:
        """What the first request for a message decides: an immediate reply (stored, '' for none), or
        None when an answer is being worked out."""
        s = self.settings
        carried: list[str] = []
        more = False
        if inbound.kind != "ignored":
            carried, more = self.ledger.carry_owed(inbound.user, inbound.key, s.wechat_max_reply_bytes, 200)
        needs_answer = inbound.kind == "text" or inbound.kind == "voice"
        if (
            inbound.kind == "voice"
            and not inbound.text
            and (self.recognizer is None or self.channel.api is None)
        ):
            needs_answer = False
            immediate = texts.NO_VOICE
        elif inbound.kind == "subscribe":
            immediate = texts.welcome(s.assistant_name)
        elif inbound.kind == "unsupported":
            immediate = texts.unsupported(s.assistant_name)
        else:
            immediate = ""
        if carried:
            # The user came back for an answer: this reply carries it. A real new question is answered
            # too, later; a bare "1" was only sent to fetch the answer.
            reply = "\n\n".join(carried) + (texts.MORE_FOLLOWS if more else "")
            later = needs_answer and (
                not inbound.text or classify(inbound.text, s.max_question_chars).intent == "question"
            )
            if later:
                reply += texts.new_question_queued(self.channel.may_push)
            self.ledger.set_reply(inbound.key, reply, answer_later=later)
            if later:
                self._answers.submit(self._run, inbound.key)
            return reply
        if needs_answer:
            self._answers.submit(self._run, inbound.key)
            return None
        self.ledger.set_reply(inbound.key, immediate)
        return immediate

    def _reply_with_answer(self, key: str) -> str | None:
        more = "" if self.channel.may_push else texts.MORE_FOLLOWS
        reply = self.ledger.reply_with_answer(key, more)
        if self.channel.may_push:
            self._pushes.submit(self._push, key)
        return reply or None

    # Background work

    def _question(self, media_id: str) -> tuple[str, str | None, list[tuple[str, float]] | None]:
        """(transcript, None, every hypothesis) for a voice message, or ("", what to tell the user
        instead, None)."""
        api = self.channel.api
        if api is None or self.recognizer is None:
            return "", texts.NO_VOICE, None
        try:
            audio = api.download_media(media_id)
        except ChannelAPIError as exc:
            log.error("voice message not downloaded: %s", exc)
            return "", texts.VOICE_NOT_RECEIVED, None
        try:
            transcript = self.recognizer.recognize(audio)
            return transcript.text, None, transcript.alternatives()
        except AudioError as exc:
            log.info("voice message not recognised: %s", exc)
            return "", exc.message, None

    def _run(self, key: str) -> None:
        """Works out one message's answer and stores it; pushes it if the user was promised it."""
        job = self.ledger.job(key)
        speech = ""
        try:
            question, problem, alternatives = (
                self._question(job.media_id)
                if job.spoken and not job.question
                else (job.question, None, None)
            )
            if problem is not None:
                body = problem
            else:
                answer = self.answerer.ask(
                    question,
                    session_id=f"{self.channel.session_prefix}:{job.user}",
                    spoken=job.spoken,
                    alternatives=alternatives,
                )
                body = (texts.heard(question) if job.spoken else "") + texts.answer_text(answer)
                speech = answer.speech
        except Exception:
            log.exception("answering a %s message failed", self.channel.name)
            body = _FAILED
        parts = split_message(body, self.settings.wechat_max_reply_bytes, self._reserve)
        voice = self.voice_replies and job.spoken and bool(speech)
        if self.ledger.finish(key, parts, speech, voice) and self.channel.may_push:
            self._push(key)
        if voice:
            self._pushes.submit(self._send_voice, key)

    def _push(self, key: str | None = None) -> None:
        api = self.channel.api
        if api is None:
            return
        parts = self.ledger.claim_pushes(key)
        for n, part in enumerate(parts):
            try:
                api.send_text(part.user, part.text)
            except ChannelAPIError as exc:
                log.error("pushing an answer failed; it waits for the user's next message: %s", exc)
                for unsent in parts[n:]:
                    self.ledger.pushed(unsent, ok=False)
                return
            self.ledger.pushed(part, ok=True)

    def _send_voice(self, key: str) -> None:
        api, synthesizer = self.channel.api, self.synthesizer
        claim = self.ledger.claim_voice(key)
        if claim is None or api is None or synthesizer is None:
            return
        user, speech = claim
        try:
            for clip in voice_clips(synthesizer, speech):
                api.send_voice(user, api.upload_voice(encode_audio(clip, "amr")))
        except (SynthesisFailed, ChannelAPIError) as exc:
            log.error("voice reply not sent (the text answer was): %s", exc)
            self.ledger.voice_done(key, ok=False)
            return
        self.ledger.voice_done(key, ok=True)

    def sweep(self) -> None:
        """Recovers what a stopped worker left: unfinished answers, interrupted and failed pushes."""
        s = self.settings
        stale_push = s.wechat_api_timeout_s * s.wechat_api_retries * 2 + 30
        self.ledger.tidy(stale_push, _KEEP_S)
        for key in self.ledger.take_over(self.owner, s.wechat_answer_timeout_s):
            log.warning("taking over an unfinished %s answer", self.channel.name)
            self._answers.submit(self._run, key)
        if self.channel.may_push:
            self._push()

    def sweep_soon(self) -> None:
        now = time.monotonic()
        with self._sweep_lock:
            if now - self._swept_at < _SWEEP_EVERY_S:
                return
            self._swept_at = now
        self._pushes.submit(self._guarded_sweep)

    def _guarded_sweep(self) -> None:
        try:
            self.sweep()
        except Exception:
            log.exception("%s sweep failed", self.channel.name)
