"""The assistant's settings: who it is, how it refuses, who words the answer, how it reads speech.

It answers from the knowledge base and hears through speech recognition, so it takes their settings too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

# A light registry of names (each entry imports its composer when used): the settings refuse a
# misspelt composer without loading a model.
from assistant.composer_registry import COMPOSERS
from knowledge.config import KnowledgeSettings
from voice.config import VoiceSettings

ComposerName = Literal["extractive", "local", "remote"]
"""The built-in composers; `composer` takes any name registered in `assistant.composer_registry`."""


class AssistantSettings(KnowledgeSettings, VoiceSettings):
    assistant_name: str = Field(default="小音", description="What the assistant calls itself.")
    handoff: str = Field(
        default="请咨询村委会，或拨打12345政务服务便民热线。",
        description="Who to ask when the documents do not answer (e.g. the village committee's phone).",
    )
    max_question_chars: int = 200
    expired_documents: Literal["include", "exclude"] = Field(
        default="include",
        description="Documents whose valid_to date has passed: `include` answers from them (the officials'"
        " page marks them), `exclude` leaves them out of answers and says a newer document is needed when"
        " the best match was one of them. Off by default: the demo documents end in 2025.",
    )
    answer_passages: int = Field(default=5, description="Passages retrieved and offered to the composer.")
    session_max_turns: int = 12
    session_max_age_s: int = Field(default=3600, description="Turns older than this are forgotten.")
    # Refusal: answer only when the evidence is strong enough, by the confidence of
    # assistant/confidence.py (fitted per embedder by `python -m benchmarks --only confidence`).
    confidence_refusal: bool = Field(
        default=False,
        description="Refuse below the confidence threshold. Off by default: on the demo set the fitted"
        " threshold refuses 9 more answerable questions for 17 more right refusals of near-miss ones.",
    )
    refusal_min_dense: float = Field(
        default=0.86, description="Without confidence_refusal: the best similarity needed to answer."
    )
    min_confidence: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="With confidence_refusal: refuse below this (0-1); unset: the fitted threshold.",
    )
    refusal_unknown_coverage: float = Field(
        default=0.3,
        description="When the question names something the documents never mention (油茶, 签证 ...), the "
        "answer-evidence overlap needed to answer anyway.",
    )
    subject_passages: bool = Field(
        default=True,
        description="Answer only from passages that name the question's subject (its most specific topic word"
        " that the best passage names): assistant/subject.py.",
    )
    answerability: bool = Field(
        default=True,
        description="Refuse when no retrieved sentence states what the question asks for (a time, an amount,"
        " a person, a place) under its constraints (year, month, names), and quote only sentences that do:"
        " assistant/answerability.py.",
    )

    # Generated answers (assistant/composers.py)
    composer: str = Field(
        default="extractive",
        description="Who words the answer: extractive (sentences from the passages), local (the packaged "
        "Qwen2.5 1.5B through llama.cpp), remote (an OpenAI-compatible server), or another registered one.",
    )

    @field_validator("composer")
    @classmethod
    def _known_composer(cls, value: str) -> str:
        COMPOSERS.check([value])
        return value

    llm_model_path: Path | None = Field(
        default=None, description="A GGUF chat model for composer=local; the packaged Qwen2.5 1.5B if unset."
    )
    llm_threads: int = Field(default=2, description="CPU threads of the local model.")
    llm_context: int = Field(
        default=4096, description="Context window of the local model (prompt + answer, tokens)."
    )
    llm_max_tokens: int = Field(default=200, description="Longest generated answer, in tokens.")
    llm_passages: int = Field(
        default=3, description="How many of the retrieved passages the language model reads (prompt length)."
    )
    llm_history_turns: int = Field(
        default=2, description="Earlier conversation turns shown to the language model for follow-ups."
    )
    openai_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible API for composer=remote, e.g. http://127.0.0.1:8000/v1.",
    )
    openai_model: str = Field(default="qwen2.5-7b-instruct", description="The remote model's name.")
    openai_api_key: SecretStr = Field(
        default=SecretStr("none"), description="API key of the remote model (local servers ignore it)."
    )
    llm_timeout_s: float = Field(default=20.0, description="How long one remote request may take.")
    llm_retries: int = Field(default=1, description="Retries of a failed remote request.")
    llm_fallback: Literal["local", "extractive"] = Field(
        default="extractive", description="Who answers when the remote model fails."
    )

    # Issue 16: spoken questions searched with every hypothesis, and asked back when unsure.
    asr_fused_retrieval: bool = Field(
        default=True, description="Search with every recognition hypothesis and fuse the lists."
    )
    asr_fusion_temperature: float = Field(
        default=0.1, description="Softmax temperature of the hypotheses' weights (lower: sharper)."
    )
    asr_fusion_depth: int = Field(default=20, description="Passages of each hypothesis' list fused.")
    asr_slips: bool = Field(
        default=True,
        description="Also search a spoken question with an unknown word read as the documents' word it"
        " would be with its first sound clipped (逼保 -> 低保, 医保).",
    )
    asr_slip_penalty: float = Field(
        default=0.3,
        description="How much less such a reading is believed than the hypothesis it comes from"
        " (Whisper log probability per token).",
    )
    asr_slip_min_chunks: int = Field(
        default=3, description="Only documents' words used in this many chunks or more are offered."
    )
    asr_phrase_readings: bool = Field(
        default=True,
        description="Rephrase each reading with same-sounding words of the passages it found.",
    )
    asr_confirm: bool = Field(
        default=True, description="Ask a spoken question back (您是想问：1. … 2. …) when unsure."
    )
    asr_confirm_below: float = Field(
        default=0.4, description="Ask back when the answer's confidence is below this (spoken only)."
    )
    confirm_ttl_s: int = Field(default=600, description="How long an offered confirmation can be chosen.")
