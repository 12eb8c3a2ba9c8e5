"""The settings every layer shares: the data home folder and the database several hosts share.

Each layer declares the settings it needs in its own `config.py` (`knowledge.config`, `voice.config`,
`assistant.config`, `api.config`), all built on these; the application's `xiangyin.settings.Settings`
composes them. Every field can be set as `XIANGYIN_<FIELD>` (e.g. `XIANGYIN_HOME`).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("xiangyin", appauthor=False))


class HomeSettings(BaseSettings):
    """Where the data lives: one data home folder, and the PostgreSQL database of several hosts."""

    model_config = SettingsConfigDict(env_prefix="XIANGYIN_", extra="ignore")

    home: Path = Field(default_factory=default_home, description="Data home: index, caches and models.")

    database_url: str | None = Field(
        default=None,
        description="postgresql://… shared by several API hosts (catalog and lexical index, sessions, jobs,"
        " WeChat ledger, clips, rate limits); the data home's SQLite files if unset.",
    )
    database_pool_size: int = Field(default=8, ge=1, description="Connections per process to database_url.")

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"
