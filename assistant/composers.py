"""Which composer words the answers, from settings: extractive, the local model, a remote model, or
any other composer registered by name in `assistant.composer_registry`.

A generative composer never fails the villager: any error of its backend (no model file, a server that
is down, a timeout) is logged and the answer comes from the next composer in line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace

from assistant.composer_registry import COMPOSERS
from assistant.composing import Composer, Draft, Evidence
from assistant.config import AssistantSettings, ComposerName
from assistant.extractive import ExtractiveComposer
from assistant.llm import LLMComposer
from assistant.local_model import LlamaChatModel, packaged_qwen
from assistant.sessions import Turn

log = logging.getLogger(__name__)


class FallbackComposer:
    """`primary`, and `fallback` whenever the primary raises. When the primary fails mid-stream, the
    pieces already sent are replaced by the fallback's final Draft."""

    def __init__(self, primary: Composer, fallback: Composer) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = primary.name

    def _relabel(self, draft: Draft, error: Exception) -> Draft:
        return replace(
            draft,
            composer=f"{draft.composer or self.fallback.name} (fallback from {self.primary.name})",
            note=f"{self.primary.name} failed: {type(error).__name__}: {error}"[:300],
        )

    def _failed(self, error: Exception) -> None:
        log.warning(
            "%s composer failed (%s: %s); answering with %s",
            self.primary.name,
            type(error).__name__,
            error,
            self.fallback.name,
        )

    def compose(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()) -> Draft:
        try:
            return self.primary.compose(question, evidence, history)
        except Exception as exc:  # any backend failure: the villager still gets an answer
            self._failed(exc)
            return self._relabel(self.fallback.compose(question, evidence, history), exc)

    def stream(
        self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()
    ) -> Iterator[str | Draft]:
        started = False
        try:
            for item in self.primary.stream(question, evidence, history):
                started = started or isinstance(item, str)
                yield item
            return
        except Exception as exc:  # as in compose
            self._failed(exc)
            error = exc
        for item in self.fallback.stream(question, evidence, history):
            if isinstance(item, Draft):
                yield self._relabel(item, error)
            elif not started:
                yield item


def local_composer(settings: AssistantSettings) -> LLMComposer:
    path = settings.llm_model_path or packaged_qwen(settings.models_dir)
    model = LlamaChatModel(
        model_path=path,
        threads=settings.llm_threads,
        context=settings.llm_context,
        max_tokens=settings.llm_max_tokens,
    )
    return LLMComposer(
        model,
        settings.assistant_name,
        name="local",
        passages=settings.llm_passages,
        history_turns=settings.llm_history_turns,
    )


def remote_composer(settings: AssistantSettings) -> LLMComposer:
    # Imported here: the OpenAI client is only needed by deployments that use it.
    from langchain_openai import ChatOpenAI

    if not settings.openai_base_url:
        raise ValueError("composer=remote needs XIANGYIN_OPENAI_BASE_URL")
    model = ChatOpenAI(
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        api_key=settings.openai_api_key,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_retries,
        max_completion_tokens=settings.llm_max_tokens,
        temperature=0.0,
    )
    return LLMComposer(
        model,
        settings.assistant_name,
        name="remote",
        passages=settings.llm_passages,
        history_turns=settings.llm_history_turns,
    )


class _Unavailable:
    """A composer whose backend could not be set up: every call raises, so the fallback answers and the
    log says why on every question (an operator sees it whenever they look)."""

    def __init__(self, name: str, error: Exception) -> None:
        self.name = name
        self.error = error

    def compose(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()) -> Draft:
        raise self.error

    def stream(
        self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()
    ) -> Iterator[str | Draft]:
        raise self.error


def _build(name: ComposerName, settings: AssistantSettings) -> Composer:
    build = local_composer if name == "local" else remote_composer
    try:
        return build(settings)
    except Exception as exc:  # a missing package or a bad setting must not stop the assistant
        log.warning("cannot set up the %s composer (%s: %s)", name, type(exc).__name__, exc)
        return _Unavailable(name, exc)


def local_chain(settings: AssistantSettings, extractive: ExtractiveComposer) -> Composer:
    """composer=local: the local model, backed by the extractive composer."""
    return FallbackComposer(_build("local", settings), extractive)


def remote_chain(settings: AssistantSettings, extractive: ExtractiveComposer) -> Composer:
    """composer=remote: the remote model, backed by `settings.llm_fallback` (the local model first,
    then extractive; or extractive alone)."""
    fallback: Composer = extractive
    if settings.llm_fallback == "local":
        fallback = local_chain(settings, extractive)
    return FallbackComposer(_build("remote", settings), fallback)


def make_composer(settings: AssistantSettings, extractive: ExtractiveComposer | None = None) -> Composer:
    """The composer `settings.composer` names in the registry (`assistant.composer_registry`); each
    built-in generative one is backed by the extractive composer."""
    return COMPOSERS.get(settings.composer)(settings, extractive or ExtractiveComposer())
