"""Document loaders, chosen by file suffix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from knowledge.loaders.base import Block, LoadError, ParsedDocument
from knowledge.loaders.docx import load_docx
from knowledge.loaders.html import load_html
from knowledge.loaders.pdf import load_pdf
from knowledge.loaders.text import load_markdown, load_text

Loader = Callable[[Path], ParsedDocument]

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


def load_document(path: Path) -> ParsedDocument:
    """Parse one file. Raises `LoadError` with a reason for anything that cannot be read."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'}")
    try:
        return loader(path)
    except LoadError:
        raise
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc}") from exc
    except Exception as exc:  # a parser bug on one odd file must not stop the ingest
        raise LoadError(f"cannot parse file: {type(exc).__name__}: {exc}") from exc


__all__ = ["LOADERS", "Block", "LoadError", "ParsedDocument", "is_supported", "load_document"]
