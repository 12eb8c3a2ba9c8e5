"""Expired documents (valid_to in the past) left out of answers, with `XIANGYIN_EXPIRED_DOCUMENTS=exclude`.

Kept apart from the pipeline, which calls `drop_expired` once after retrieval: the hits of documents
still in force are answered from as usual. When the best match was an expired document, the question is
about it: the assistant refuses and says a newer document is needed, instead of answering from what
ranked below it (in a test, a price table of another document answered a question about an expired
subsidy). A newer version that ranks first is answered from as usual.
"""

from __future__ import annotations

import datetime as dt

from knowledge.hybrid import SearchHit


def is_expired(valid_to: str, today: dt.date | None = None) -> bool:
    """valid_to is the last day a document is in force (ISO date); empty: no end."""
    return bool(valid_to) and valid_to < (today or dt.date.today()).isoformat()


def _day(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{year}年{int(month)}月{int(day)}日"


def drop_expired(hits: list[SearchHit], today: dt.date | None = None) -> tuple[list[SearchHit], str]:
    """The hits of documents in force, and a notice for a refusal when the best hit was expired."""
    kept = [hit for hit in hits if not is_expired(hit.chunk.valid_to, today)]
    if not hits or hits[0] in kept:
        return kept, ""
    best = hits[0].chunk
    until = _day(best.valid_to)
    return kept, f"相关的文件《{best.title}》已经过期（有效期到{until}），需要上传新的文件后才能回答。"
