"""The application's settings, composed of every layer's: `XIANGYIN_` environment variables and one
data home folder.

Each layer declares what it needs (`ground.home`, `knowledge.config`, `voice.config`,
`assistant.config`, `api.config`) and is handed its part by the command line; no layer imports this
module. Every field can be set as `XIANGYIN_<FIELD>` (e.g. `XIANGYIN_HOME`).
"""

from __future__ import annotations

from pathlib import Path

from api.config import ApiSettings
from assistant.config import AssistantSettings
from knowledge.config import KnowledgeSettings
from voice.config import VoiceSettings


class Settings(ApiSettings, AssistantSettings, KnowledgeSettings, VoiceSettings):
    """Every layer's settings (the server's already builds on the assistant's, and the assistant's on
    the knowledge base's and the voice's: naming them all here shows what one deployment holds)."""


def load_settings(home: Path | None = None) -> Settings:
    """Settings from the environment, with `home` (e.g. from `--home`) taking precedence."""
    settings = Settings()
    if home is not None:
        settings = settings.model_copy(update={"home": home.expanduser().resolve()})
    return settings
