"""Composers by name: the names `XIANGYIN_COMPOSER` may take, each a factory of its composer chain.

A factory gets the settings and the extractive composer (what every generative composer falls back
to) and returns the composer that words the answers. The built-in ones import `assistant.composers`
when called: this module stays light enough for the settings to check the configured name at start-up
(the language-model clients take a second and 150 MB to import).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from ground.registry import Registry

if TYPE_CHECKING:
    from assistant.composing import Composer
    from assistant.config import AssistantSettings
    from assistant.extractive import ExtractiveComposer

ComposerFactory: TypeAlias = "Callable[[AssistantSettings, ExtractiveComposer], Composer]"

COMPOSERS: Registry[ComposerFactory] = Registry("composer", "XIANGYIN_COMPOSER")


@COMPOSERS.register("extractive")
def _extractive(settings: AssistantSettings, extractive: ExtractiveComposer) -> Composer:
    return extractive


@COMPOSERS.register("local")
def _local(settings: AssistantSettings, extractive: ExtractiveComposer) -> Composer:
    from assistant.composers import local_chain

    return local_chain(settings, extractive)


@COMPOSERS.register("remote")
def _remote(settings: AssistantSettings, extractive: ExtractiveComposer) -> Composer:
    from assistant.composers import remote_chain

    return remote_chain(settings, extractive)


__all__ = ["COMPOSERS", "ComposerFactory"]
