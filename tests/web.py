"""What the tests of the HTTP API and of the pages share: the API's error shape, Debian's Chromium and
the screenshot folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
"""Debian's browser, driven by Playwright (no browser is ever downloaded)."""


def error_of(response: Any, status: int) -> dict[str, str]:
    """The error of a response that must have `status`, in the API's one error shape, in Chinese."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"]), "messages are Chinese"
    return dict(body["error"])


def screenshot_folder(name: str) -> Path:
    """tests/output/<name>/, kept out of git by its own .gitignore (as .pytest_cache does)."""
    output = Path(__file__).resolve().parent / "output"
    folder = output / name
    folder.mkdir(parents=True, exist_ok=True)
    (output / ".gitignore").write_text("# Written by the tests\n*\n", encoding="utf-8")
    return folder
