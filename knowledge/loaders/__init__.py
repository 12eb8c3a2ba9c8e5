"""Document loaders, chosen by file suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from knowledge.loaders.base import (
    NO_LIMITS,
    UNREADABLE,
    Block,
    LoadError,
    LoadLimits,
    ParsedDocument,
    zh_count,
)
from knowledge.loaders.docx import load_docx
from knowledge.loaders.html import load_html
from knowledge.loaders.pdf import load_pdf
from knowledge.loaders.text import load_markdown, load_text

Loader = Callable[[Path, LoadLimits], ParsedDocument]

LOADERS: dict[str, Loader] = {
    ".txt": load_text,
    ".text": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
}


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS


def load_document(path: Path, limits: LoadLimits = NO_LIMITS) -> ParsedDocument:
    """Parse one file. Raises `LoadError` with a reason for anything that cannot be read or is over
    `limits`; a `MemoryError` is let through, so the parser process can say the file took too much."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(
            f"unsupported file type {path.suffix or '(none)'}",
            "不支持这种文件格式，请上传PDF、Word（.docx）、网页、Markdown或文本文件。",
        )
    try:
        parsed = loader(path, limits)
    except (LoadError, MemoryError):
        raise
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc}", "无法打开文件，请重新上传。") from exc
    except Exception as exc:  # a parser bug on one odd file must not stop the ingest
        raise LoadError(f"cannot parse file: {type(exc).__name__}: {exc}") from exc
    chars = parsed.chars()
    if chars > limits.max_document_chars:
        most = zh_count(limits.max_document_chars)
        raise LoadError(
            f"{chars} characters of text, over the budget of {limits.max_document_chars}",
            f"文件文字超过{most}字，请拆成几个文件再上传。",
        )
    return parsed


__all__ = [
    "LOADERS",
    "NO_LIMITS",
    "UNREADABLE",
    "Block",
    "LoadError",
    "LoadLimits",
    "ParsedDocument",
    "is_supported",
    "load_document",
]
