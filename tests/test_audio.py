"""Decoding every input format a phone, a browser or WeChat sends; fixtures are encoded by the project."""

from __future__ import annotations

import time

import numpy as np
import pytest

from voice.audio import (
    SAMPLE_RATE,
    AudioError,
    change_tempo,
    decode_audio,
    encode_audio,
    encode_silk,
    is_silk,
    to_samples,
)


def tone(seconds: float = 2.0, rate: int = SAMPLE_RATE) -> np.ndarray:
    t = np.arange(0, seconds, 1 / rate)
    # Two tones with an envelope: enough structure that lossy codecs keep it recognisable.
    return (0.3 * np.sin(2 * np.pi * 440 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))).astype(np.float32)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "m4a", "ogg", "webm", "amr"])
def test_every_format_decodes_to_16k_mono(fmt: str) -> None:
    data = encode_audio(tone(), fmt)
    decoded = decode_audio(data)
    assert decoded.samples.dtype == np.float32 and decoded.samples.ndim == 1
    assert decoded.duration_s == pytest.approx(2.0, abs=0.15)
    assert 0.1 < float(np.abs(decoded.samples).max()) <= 1.0


def test_wechat_silk_decodes() -> None:
    data = encode_silk(tone())
    assert data.startswith(b"\x02#!SILK_V3") and is_silk(data)
    decoded = decode_audio(data)
    assert decoded.source_format == "silk"
    assert decoded.duration_s == pytest.approx(2.0, abs=0.1)


def test_48k_input_is_resampled_to_16k() -> None:
    decoded = decode_audio(encode_audio(tone(rate=48_000), "wav", rate=48_000))
    assert len(decoded.samples) == pytest.approx(2 * SAMPLE_RATE, abs=400)


@pytest.mark.parametrize(
    ("data", "reason", "message"),
    [
        (b"", "empty", "没有收到语音"),
        (b"RIFF\x00\x00 not really audio" * 50, "undecodable", "无法识别"),
        (b"\x02#!SILK_V3" + b"\xff" * 300, "undecodable SILK", "损坏"),
    ],
)
def test_bad_audio_gets_a_clear_error(data: bytes, reason: str, message: str) -> None:
    with pytest.raises(AudioError, match=reason) as caught:
        decode_audio(data)
    assert message in caught.value.message


def test_silent_short_long_and_large_audio_are_refused() -> None:
    with pytest.raises(AudioError, match="silent"):
        decode_audio(encode_audio(np.zeros(SAMPLE_RATE, dtype=np.float32), "wav"))
    with pytest.raises(AudioError, match="too short"):
        decode_audio(encode_audio(tone(0.1), "wav"))
    with pytest.raises(AudioError, match="longer than 5 s") as caught:
        decode_audio(encode_audio(tone(8.0), "mp3"), max_duration_s=5)
    assert "5秒以内" in caught.value.message
    with pytest.raises(AudioError, match="larger than"):
        decode_audio(encode_audio(tone(), "wav"), max_bytes=1000)


@pytest.mark.parametrize("rate", [0.6, 0.8, 1.25])
def test_change_tempo_changes_duration_but_keeps_the_pitch(rate: float) -> None:
    tone = (0.5 * np.sin(2 * np.pi * 220 * np.arange(SAMPLE_RATE * 2) / SAMPLE_RATE)).astype(np.float32)
    stretched = change_tempo(tone, rate)
    assert len(stretched) / len(tone) == pytest.approx(1 / rate, rel=0.03)
    spectrum = np.abs(np.fft.rfft(stretched))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(stretched)
    assert peak_hz == pytest.approx(220, abs=5)
    assert change_tempo(tone, 1.0) is tone


_SILK_HEADER = b"\x02#!SILK_V3"


def long_recording(fmt: str, seconds: int = 400) -> bytes:
    """A real recording of `seconds` in `fmt`. AMR, SILK and Ogg are a 20-second recording's frames
    (or, for Ogg, whole streams) one after another, as those formats allow: encoding 400 s is slow."""
    if fmt == "wav8k":
        return encode_audio(tone(seconds, 8000), "wav", rate=8000)
    if fmt in ("wav", "mp3"):
        return encode_audio(tone(seconds), fmt)
    part, times = tone(20.0), seconds // 20
    if fmt == "silk":
        return _SILK_HEADER + encode_silk(part).removeprefix(_SILK_HEADER) * times
    data = encode_audio(part, fmt)
    if fmt == "amr":
        return b"#!AMR\n" + data.removeprefix(b"#!AMR\n") * times
    return data * times


@pytest.mark.parametrize("fmt", ["wav", "wav8k", "mp3", "amr", "ogg", "silk"])
def test_a_400_second_recording_is_too_long_whatever_its_format(fmt: str) -> None:
    data = long_recording(fmt)
    assert len(to_samples(data, max_duration_s=1000)) / SAMPLE_RATE == pytest.approx(400, abs=2)
    with pytest.raises(AudioError, match="longer than 60 s") as caught:
        decode_audio(data)
    assert caught.value.message == "语音太长了，请控制在60秒以内。"


@pytest.mark.parametrize("fmt", ["amr", "ogg", "silk"])
def test_a_long_recording_is_refused_without_decoding_all_of_it(fmt: str) -> None:
    data = long_recording(fmt)
    started = time.perf_counter()
    to_samples(data, max_duration_s=1000)
    whole = time.perf_counter() - started
    started = time.perf_counter()
    with pytest.raises(AudioError, match="longer than"):
        decode_audio(data)
    assert time.perf_counter() - started < whole / 2


def test_long_recordings_within_the_limit_are_accepted() -> None:
    silk = long_recording("silk", 40) + encode_silk(tone(19.0)).removeprefix(_SILK_HEADER)
    assert decode_audio(silk).duration_s == pytest.approx(59, abs=0.1)
    assert decode_audio(long_recording("amr", 40)).duration_s == pytest.approx(40, abs=0.5)
