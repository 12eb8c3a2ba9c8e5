"""What the commands share: the settings of one run, kept in its typer context (no module-level state),
and how an ingest's stages are named.

The root callback of `xiangyin` (`xiangyin.cli.main`) stores them; every command, whichever sub-app
it belongs to (`xiangyin eval ...`), reads them from its context here without importing the module
that defines the root. A command run without the root (a sub-app invoked alone, as the tests do)
takes them from the environment.
"""

from __future__ import annotations

import typer

from xiangyin.settings import Settings, load_settings

INGEST_STAGES = {"read": "读取文档", "embed": "计算向量", "complete": "补全向量（已可检索）"}
"""How an ingest's stages are shown on the command line (`complete`: committed and answering, vectors
being added)."""


def keep_settings(ctx: typer.Context, settings: Settings) -> None:
    ctx.find_root().obj = settings


def current_settings(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = load_settings()
    return root.obj
