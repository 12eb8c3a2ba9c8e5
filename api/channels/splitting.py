"""Long answers cut into chat messages (WeChat: 2048 bytes each) at sentence ends, never inside a
sentence or a [n] mark."""

from __future__ import annotations

import re

_MARKS = r"(?:\[\d{1,3}\])*"
# A sentence runs to 。！？； (with a closing quote), takes the citation marks that follow, and the line end.
_SENTENCE = re.compile(rf"[^。！？!?；;\n]*[。！？!?；;]+[”’」』）)]?{_MARKS}\n*|[^。！？!?；;\n]+\n*|\n+")
_CLAUSE = re.compile(rf"[^，,、：:]*[，,、：:]+{_MARKS}|[^，,、：:]+")
_UNIT = re.compile(r"\[\d{1,3}\]|.", re.DOTALL)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _pieces(text: str, pattern: re.Pattern[str], limit: int) -> list[str]:
    out: list[str] = []
    for piece in pattern.findall(text):
        if _size(piece) <= limit:
            out.append(piece)
        elif pattern is _SENTENCE:
            out.extend(_pieces(piece, _CLAUSE, limit))
        else:
            # One clause longer than a whole message: cut between characters, keeping [n] marks whole.
            current = ""
            for unit in _UNIT.findall(piece):
                if current and _size(current + unit) > limit:
                    out.append(current)
                    current = ""
                current += unit
            out.append(current)
    return out


def split_message(text: str, max_bytes: int, reserve: int = 0) -> list[str]:
    """`text` in parts of at most `max_bytes` UTF-8 bytes each, `reserve` bytes left free in each for a
    notice such as "to be continued"."""
    limit = max_bytes - reserve
    if limit < 16:
        raise ValueError(f"message limit {max_bytes} with reserve {reserve} is too small")
    if _size(text) <= max_bytes:
        return [text]
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, _SENTENCE, limit):
        if current and _size(current + piece) > limit:
            parts.append(current.strip())
            current = ""
        current += piece
    if current.strip():
        parts.append(current.strip())
    return [p for p in parts if p]
