"""espeak-ng (Debian package): tiny and instant but robotic. Only ever the last resort."""

from __future__ import annotations

import shutil
import subprocess

from voice.tts import EngineUnavailable


class EspeakEngine:
    name = "espeak-ng"

    def __init__(self, voice: str = "cmn", timeout_s: float = 10.0) -> None:
        self.voice = voice
        self.timeout_s = timeout_s

    def synthesize(self, text: str, rate: float) -> bytes:
        program = shutil.which("espeak-ng")
        if program is None:
            raise EngineUnavailable("espeak-ng is not installed")
        words_per_minute = str(max(80, int(160 * rate)))
        try:
            result = subprocess.run(
                [program, "-v", self.voice, "-s", words_per_minute, "--stdout", text],
                capture_output=True,
                timeout=self.timeout_s,
                check=True,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            raise EngineUnavailable(f"espeak-ng failed: {exc}") from exc
        return result.stdout
