"""Each layer declares its own settings; the application's composes them (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from api.config import ApiSettings
from assistant.config import AssistantSettings
from ground.home import HomeSettings
from knowledge.base import KnowledgeBase
from knowledge.config import KnowledgeSettings
from knowledge.ingest import ingest
from voice.config import VoiceSettings
from xiangyin.settings import Settings

LAYERS = (HomeSettings, KnowledgeSettings, VoiceSettings, AssistantSettings, ApiSettings)


def test_each_layer_reads_only_its_own_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "HOME": str(tmp_path),
        "CANDIDATES": "17",
        "TTS_RATE": "0.8",
        "ANSWER_PASSAGES": "4",
        "RATE_LIMIT": "5/minute",
    }.items():
        monkeypatch.setenv(f"XIANGYIN_{name}", value)
    knowledge, voice, assistant = KnowledgeSettings(), VoiceSettings(), AssistantSettings()
    assert knowledge.home == voice.home == tmp_path and knowledge.index_dir == tmp_path / "index"
    assert knowledge.candidates == 17 and not hasattr(knowledge, "tts_rate")
    assert voice.tts_rate == 0.8 and not hasattr(voice, "candidates")
    assert (assistant.answer_passages, assistant.candidates, assistant.tts_rate) == (4, 17, 0.8)
    assert not hasattr(assistant, "rate_limit") and ApiSettings().rate_limit == "5/minute"
    everything = Settings()
    assert (everything.candidates, everything.tts_rate, everything.rate_limit) == (17, 0.8, "5/minute")


def test_the_application_settings_are_the_layers_settings_and_nothing_else() -> None:
    declared = [name for layer in LAYERS for name in layer.__annotations__ if name in layer.model_fields]
    assert len(declared) == len(set(declared)), "a setting is declared by two layers"
    assert set(declared) == set(Settings.model_fields)


def test_each_layer_refuses_a_misspelt_part_of_its_own(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="edge-ttss"):
        VoiceSettings(home=tmp_path, tts_engines=["edge-ttss"])
    with pytest.raises(ValidationError, match="extractiv"):
        AssistantSettings(home=tmp_path, composer="extractiv")


def test_the_knowledge_base_runs_on_its_own_settings(tmp_path: Path) -> None:
    documents = tmp_path / "docs"
    documents.mkdir()
    (documents / "notice.txt").write_text(
        "桃源村自来水改造通知\n\n今年自来水管网改造，每户自筹费用200元，11月底前交到村委会。\n",
        encoding="utf-8",
    )
    kb = KnowledgeBase(KnowledgeSettings(home=tmp_path / "home"))
    try:
        ingest(kb, [documents])
        hits = kb.search("自来水改造每户交多少钱", k=3)
        assert hits and "200元" in hits[0].chunk.text
    finally:
        kb.close()
