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
        # The text goes in on stdin, never on the command line: an argument such as -f/etc/passwd or
        # -w/tmp/x would be an option to espeak-ng (read a file aloud, write a file), whatever it says.
        try:
            result = subprocess.run(
                [program, "-b", "1", "-v", self.voice, "-s", words_per_minute, "--stdout", "--stdin"],
                input=text.encode("utf-8", errors="replace"),
                capture_output=True,
                timeout=self.timeout_s,
                check=True,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            raise EngineUnavailable(f"espeak-ng failed: {exc}") from exc
        return result.stdout
