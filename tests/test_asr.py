"""Speech recognition with the packaged Whisper base model on real recorded Mandarin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from knowledge.base import KnowledgeBase
from tests.recordings import recording
from voice.asr import (
    DECODING,
    Hypothesis,
    Transcriber,
    Transcript,
    choose,
    clean,
    correct,
    corrections,
    cut_repetition,
)
from voice.audio import AudioError, decode_audio
from voice.engines.espeak import EspeakEngine
from voice.models import whisper_base
from voice.recognition import SpeechRecognizer
from voice.tts import Synthesizer
from xiangyin.cli import app
from xiangyin.settings import Settings

# Real recordings (AISHELL-1) in the shared evaluation data that CI has beside the project.
SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech-zh"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


def test_model_is_assembled_once_from_the_packages(models: Path) -> None:
    folder = whisper_base(models)
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    assert (folder / "model.bin").stat().st_size > 100_000_000
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert whisper_base(models) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp
    assert not [p for p in models.iterdir() if p.name.startswith(".whisper-")]


@pytest.mark.slow
def test_real_recording_is_transcribed_in_simplified_chinese(models: Path, tmp_path: Path) -> None:
    entry = json.loads((SPEECH / "manifest.jsonl").read_text(encoding="utf-8").splitlines()[2])
    recognizer = SpeechRecognizer(Settings(home=tmp_path, whisper_model_path=whisper_base(models)))
    transcript = recognizer.recognize((SPEECH / entry["audio"]).read_bytes())
    assert transcript.text.rstrip("。") == entry["text"] == "相比于其他一线城市"
    assert transcript.duration_s == pytest.approx(entry["duration_s"], abs=0.05)


@pytest.mark.slow
def test_asr_command(models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIANGYIN_WHISPER_MODEL_PATH", str(whisper_base(models)))
    entry = json.loads((SPEECH / "manifest.jsonl").read_text(encoding="utf-8").splitlines()[4])
    runner = CliRunner()
    result = runner.invoke(app, ["--home", str(tmp_path), "asr", str(SPEECH / entry["audio"]), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["text"].rstrip("。") == "而在股市大幅震荡的环境下"
    broken = tmp_path / "broken.amr"
    broken.write_bytes(b"#!AMR\n" + b"\x00" * 10)
    result = runner.invoke(app, ["--home", str(tmp_path), "asr", str(broken)])
    assert result.exit_code == 1


@pytest.mark.slow
def test_every_hypothesis_of_the_beam_is_kept_and_a_preference_chooses_among_them(models: Path) -> None:
    entry = json.loads((SPEECH / "manifest.jsonl").read_text(encoding="utf-8").splitlines()[3])
    audio = decode_audio((SPEECH / entry["audio"]).read_bytes())
    plain = Transcriber(whisper_base(models)).transcribe(audio)
    [beam] = plain.hypotheses  # a 4-second clip: one window
    assert len(beam) == 5 and plain.raw_text == beam[0].text.strip()
    assert [h.score for h in beam] == sorted((h.score for h in beam), reverse=True)
    # Whisper's own best unless something prefers another of its hypotheses strongly enough.
    wanted = next(h for h in beam[1:] if clean(h.text) != plain.text)
    prefer = {clean(wanted.text): 1.0}.get
    chosen = Transcriber(whisper_base(models), prefer=lambda t: prefer(t, 0.0), weight=10).transcribe(audio)
    assert chosen.text == clean(wanted.text) != plain.text
    assert chosen.hypotheses == plain.hypotheses


def test_the_choice_weighs_whisper_s_score_against_the_preference() -> None:
    # A beam Whisper base produced for a spoken question, with the demo knowledge base's shares.
    beam = (Hypothesis("摘机的审批要多长时间", -0.423), Hypothesis("宅基地审批要多长时间", -0.461))
    known = {"摘机的审批要多长时间": 0.2, "宅基地审批要多长时间": 0.5}.__getitem__
    assert choose(beam, known, 1.0).text == "宅基地审批要多长时间"
    assert choose(beam, known, 0.1).text == "摘机的审批要多长时间"
    assert choose(beam, known, 0.0) == beam[0] == choose(beam, None, 1.0)
    assert choose(beam, lambda text: 0.5, 1.0) == beam[0]  # a tie goes to Whisper


def test_mis_hearings_of_policy_words_are_corrected() -> None:
    assert correct("新农和一年交多少钱") == "新农合一年交多少钱"
    assert correct("我想申请低饱") == "我想申请低保"
    assert correct("宅几地怎么批") == "宅基地怎么批"
    assert all(heard != meant for heard, meant in corrections())


@pytest.mark.slow
def test_voice_ask_answers_a_recording_with_text_and_audio(
    models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus: Path
) -> None:
    monkeypatch.setenv("XIANGYIN_WHISPER_MODEL_PATH", str(whisper_base(models)))
    runner = CliRunner()
    home = ["--home", str(tmp_path / "home")]
    assert runner.invoke(app, [*home, "ingest", str(corpus)]).exit_code == 0
    entry = json.loads((SPEECH / "manifest.jsonl").read_text(encoding="utf-8").splitlines()[2])
    out = tmp_path / "answer.mp3"
    result = runner.invoke(app, [*home, "voice-ask", str(SPEECH / entry["audio"]), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["transcript"].rstrip("。") == "相比于其他一线城市"
    # The small test corpus does not cover city comparisons: an honest refusal, spoken aloud.
    assert payload["answer"]["refused"] is True
    assert payload["audio"] == str(out) and payload["notice"] == ""
    assert decode_audio(out.read_bytes()).duration_s > 2


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "understood", "fact"),
    [
        # Whisper hears 蒙村养老金 here.
        ("yanglaojin.amr", "农村养老金现在一个月发多少", "260元"),
        # Whisper hears 新萌和 here; the assistant repairs the homophone before it searches.
        ("xinnonghe.webm", "新农合一年交多少钱", "400元"),
    ],
)
def test_a_spoken_question_is_answered_from_the_demo_knowledge_base(
    name: str,
    understood: str,
    fact: str,
    models: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    demo_kb: KnowledgeBase,
) -> None:
    # The question spoken by the project's own offline voice, as WeChat (AMR) or a browser (WebM/Opus)
    # sends it.
    question = tmp_path / name
    question.write_bytes(recording(name))
    monkeypatch.setenv("XIANGYIN_WHISPER_MODEL_PATH", str(whisper_base(models)))
    out = tmp_path / "answer.wav"
    result = CliRunner().invoke(
        app, ["--home", str(demo_kb.settings.home), "voice-ask", str(question), "-o", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    heard = (payload["transcript"], payload["answer"]["standalone_question"])
    assert understood[-6:] in payload["answer"]["standalone_question"], heard
    assert fact in payload["answer"]["answer"], heard
    assert payload["answer"]["citations"] and not payload["answer"]["refused"]
    assert decode_audio(out.read_bytes()).duration_s > 2


LOOPED = "那我还没去去换车辆啦这边就可以开车辆开车辆开车辆"
"""What Whisper base made of a real 35-second AMR voice message: the last words over and over."""


@pytest.mark.parametrize(
    ("heard", "kept"),
    [
        (LOOPED, "那我还没去去换车辆啦这边就可以开车辆"),
        (
            LOOPED + "开车辆" * 40 + "开车",
            "那我还没去去换车辆啦这边就可以开车辆",
        ),  # cut short by the token limit
        ("好的好的好的，谢谢谢谢", "好的，谢"),
        ("1-4-0-1-4-0-1-4-0-1-4-0-1-", "1-4-0-"),
        ("一二三", "一二三"),
        ("常常去看看，研究研究", "常常去看看，研究研究"),
        ("去去换车", "去去换车"),
        ("补贴1000000元，共1,000,000,000元", "补贴1000000元，共1,000,000,000元"),
        ("宅基地审批要多长时间", "宅基地审批要多长时间"),
        ("", ""),
    ],
)
def test_a_runaway_repetition_is_cut_to_one_occurrence(heard: str, kept: str) -> None:
    assert cut_repetition(heard) == kept


def test_a_transcript_that_is_mostly_repetition_is_no_question() -> None:
    heard = LOOPED + "开车辆" * 40
    kept = cut_repetition(heard)
    assert Transcript(kept, heard, 35.0, 9.0, (), len(heard) - len(kept)).mostly_repetition
    # A short loop, or a speaker's own 谢谢谢谢, leaves a question.
    assert not Transcript(kept, LOOPED, 35.0, 9.0, (), len(LOOPED) - len(kept)).mostly_repetition
    assert not Transcript("谢", "谢谢谢谢", 1.0, 0.5, (), 3).mostly_repetition


# Robotic espeak-ng audio makes Whisper base hear tone numbers, over and over (1-4-0-1-4-0-...).
ROBOTIC = "低保对象由医疗救助资金每人资助280元，2025年度个人实际只交120元。"


@pytest.fixture(scope="module")
def robotic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    recording = tmp_path_factory.mktemp("robotic") / "question.wav"
    recording.write_bytes(Synthesizer([EspeakEngine()], rate=1.0).synthesize(ROBOTIC).encode("wav"))
    return recording


@pytest.mark.slow
def test_a_looping_transcript_makes_the_villager_ask_again(
    models: Path, tmp_path: Path, robotic: Path
) -> None:
    transcript = Transcriber(whisper_base(models)).transcribe(decode_audio(robotic.read_bytes()))
    assert transcript.mostly_repetition and transcript.repeated > 40
    assert len(transcript.text) < len(clean(transcript.raw_text)) / 2
    recognizer = SpeechRecognizer(Settings(home=tmp_path, whisper_model_path=whisper_base(models)))
    with pytest.raises(AudioError, match="mostly repetition") as caught:
        recognizer.recognize(robotic.read_bytes())
    assert caught.value.message == "没有听清您说的话，请慢一点再说一遍。"


@pytest.mark.slow
def test_real_recordings_lose_nothing_to_the_repetition_cut(models: Path) -> None:
    transcriber = Transcriber(whisper_base(models))
    for line in (SPEECH / "manifest.jsonl").read_text(encoding="utf-8").splitlines()[5:10]:
        entry = json.loads(line)
        transcript = transcriber.transcribe(decode_audio((SPEECH / entry["audio"]).read_bytes()))
        assert transcript.repeated == 0 and transcript.text == clean(transcript.raw_text)


@pytest.mark.slow
def test_every_hypothesis_is_kept_when_a_window_is_decoded_again_at_a_higher_temperature(
    models: Path, robotic: Path
) -> None:
    # Not the configured decoding (measured slower, and no better), but the beams must survive it.
    model = Transcriber(whisper_base(models)).model
    recorded = model.model.start()
    fallback = {**DECODING, "temperature": (0.0, 0.2, 0.4), "log_prob_threshold": None}
    segments, _ = model.transcribe(decode_audio(robotic.read_bytes()).samples, **fallback)
    texts = [segment.text for segment in segments]
    assert len(recorded) > len(texts)  # the looping window was decoded more than once
    beams = Transcriber._beams(model, recorded, texts)
    assert [beam[0].text for beam in beams] == texts
    assert all(len(beam) == 5 for beam in beams)
