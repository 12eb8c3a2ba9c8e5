"""Decode bytes of unknown encoding. Chinese government files are often GBK / GB18030, not UTF-8."""

from __future__ import annotations

import codecs
from pathlib import Path

from charset_normalizer import from_bytes

from knowledge.loaders.base import LoadError, LoadLimits, zh_count

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _looks_chinese(text: str) -> bool:
    sample = text[:4000]
    if not sample:
        return True
    cjk = sum(1 for ch in sample if "\u4e00" <= ch <= "\u9fff")
    ascii_ = sum(1 for ch in sample if ch.isascii())
    return (cjk + ascii_) / len(sample) > 0.85


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). UTF-8 first, then GB18030 (a superset of GBK and GB2312), then detection."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        if _looks_chinese(text):
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise LoadError("unknown text encoding", "无法识别文件的文字编码，请另存为UTF-8编码后重新上传。")
    return str(best), best.encoding


def read_text_file(path: Path, limits: LoadLimits) -> str:
    """A text, Markdown or HTML file's decoded text, refused over `limits.max_decoded_chars`: its size on
    disk first (no encoding takes more than 4 bytes a character), so a huge file is never read."""
    most = limits.max_decoded_chars
    refusal = LoadError(
        f"over {most} characters once decoded",
        f"文件太大（超过{zh_count(most)}个字符），请拆成几个文件再上传。",
    )
    if path.stat().st_size > 4 * most:
        raise refusal
    text, _ = decode_bytes(path.read_bytes())
    if len(text) > most:
        raise refusal
    return text
