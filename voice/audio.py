"""Decoding whatever audio a phone, a browser or WeChat sends into 16 kHz mono float samples.

FFmpeg (through PyAV) decodes WAV, MP3, M4A/AAC, OGG/Opus, WebM (browsers' MediaRecorder) and AMR
(WeChat official accounts); SILK (other WeChat clients) goes through silk-python first. Every input is
bounded: size, duration, and decoding time cannot run away on a hostile file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt
import pysilk

Samples = npt.NDArray[np.float32]
SAMPLE_RATE = 16_000
_SILK_MAGIC = b"#!SILK_V3"
_SILK_RATE = 24_000
_SILK_PACKET_S = 0.02
"""A SILK packet holds one or more 20 ms frames."""


class AudioError(ValueError):
    """Audio that cannot be used. `message` is for the villager (Chinese); str() is for the log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.message = message


@dataclass(frozen=True)
class DecodedAudio:
    samples: Samples
    """float32 mono samples at 16 kHz, in [-1, 1]."""
    source_format: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def _too_long(max_duration_s: float) -> AudioError:
    return AudioError(
        f"audio longer than {max_duration_s:.0f} s", f"语音太长了，请控制在{max_duration_s:.0f}秒以内。"
    )


def is_silk(data: bytes) -> bool:
    # WeChat prefixes the SILK header with one byte (0x02).
    return data[:9] == _SILK_MAGIC or data[1:10] == _SILK_MAGIC


def _silk_longer_than(data: bytes, seconds: float) -> bool:
    """Whether a SILK recording lasts more than `seconds`, from its packet headers alone (a two-byte
    little-endian length before each packet): pysilk can only decode a whole file."""
    position = data.index(_SILK_MAGIC) + len(_SILK_MAGIC)
    packets = 0
    while position + 2 <= len(data):
        size = int.from_bytes(data[position : position + 2], "little", signed=True)
        if size < 0:  # the end marker some encoders write
            break
        packets += 1
        if packets * _SILK_PACKET_S > seconds:
            return True
        position += 2 + size
    return False


def _declared_seconds(data: bytes) -> float | None:
    """How long a container says its audio is, without decoding it; None when it does not say."""
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            return container.duration / av.time_base if container.duration else None
    except (av.FFmpegError, ValueError, IndexError):
        return None


def _decode_silk(data: bytes) -> tuple[Samples, int]:
    pcm = io.BytesIO()
    try:
        pysilk.decode(io.BytesIO(data), pcm, _SILK_RATE)
    except Exception as exc:  # pysilk raises its own error types for damaged frames
        raise AudioError(f"undecodable SILK audio: {exc}", "语音文件损坏，无法识别，请重新录一段。") from exc
    return np.frombuffer(pcm.getvalue(), dtype="<i2").astype(np.float32) / 32768.0, _SILK_RATE


def _decode_ffmpeg(data: bytes, max_duration_s: float) -> tuple[Samples, str]:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    chunks: list[Samples] = []
    total = 0
    limit = int((max_duration_s + 1) * SAMPLE_RATE)
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError("no audio stream", "这个文件里没有声音，请重新录一段。")
            stream = container.streams.audio[0]
            name = container.format.name
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    chunks.append(samples)
                    total += len(samples)
                if total > limit:  # stop decoding: a hostile or forgotten recording can run for hours
                    raise _too_long(max_duration_s)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
    except AudioError:
        raise
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise AudioError(f"undecodable audio: {exc}", "无法识别这个语音文件的格式，请重新录一段。") from exc
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return samples.astype(np.float32), name


def _resample(samples: Samples, rate: int) -> Samples:
    if rate == SAMPLE_RATE or not len(samples):
        return samples
    positions = np.arange(0, len(samples), rate / SAMPLE_RATE)
    resampled: Samples = np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
    return resampled


def to_samples(data: bytes, max_duration_s: float = 600.0) -> Samples:
    """Any supported audio -> 16 kHz mono float32, without the checks applied to villagers' uploads."""
    if is_silk(data):
        raw, rate = _decode_silk(data)
        return _resample(raw, rate)
    return _decode_ffmpeg(data, max_duration_s)[0]


def decode_audio(data: bytes, *, max_bytes: int = 10_000_000, max_duration_s: float = 60.0) -> DecodedAudio:
    """Any supported audio -> 16 kHz mono float32. Raises `AudioError` for empty, damaged, silent,
    too large or too long input."""
    if not data:
        raise AudioError("empty audio", "没有收到语音，请按住按钮说话。")
    silk = is_silk(data)
    if silk and _silk_longer_than(data, max_duration_s):
        raise _too_long(max_duration_s)
    if len(data) > max_bytes:
        # A long recording is the usual reason for a large file, and "too long" tells the villager
        # what to do; the container's own duration is only believed here, because an estimate from
        # the bit rate (MP3 without a header) can be far off for a file that is small enough to decode.
        declared = None if silk else _declared_seconds(data)
        if declared is not None and declared > max_duration_s:
            raise _too_long(max_duration_s)
        raise AudioError(f"audio larger than {max_bytes} bytes", "语音文件太大了，请说短一点。")
    if silk:
        raw, rate = _decode_silk(data)
        samples, source = _resample(raw, rate), "silk"
    else:
        samples, source = _decode_ffmpeg(data, max_duration_s)
    duration = len(samples) / SAMPLE_RATE
    if duration > max_duration_s:
        raise _too_long(max_duration_s)
    if duration < 0.3:
        raise AudioError(f"audio too short ({duration:.2f} s)", "语音太短了，请按住按钮把问题说完。")
    if float(np.max(np.abs(samples))) < 0.003:
        raise AudioError("silent audio", "没有听到声音，请靠近手机再说一遍。")
    return DecodedAudio(samples, source)


def encode_audio(samples: Samples, fmt: str, rate: int = SAMPLE_RATE) -> bytes:
    """Mono float samples -> bytes in `fmt` ("wav", "mp3", "amr", "ogg", "webm", "m4a")."""
    codecs = {
        "wav": ("wav", "pcm_s16le", rate),
        "mp3": ("mp3", "libmp3lame", rate),
        "amr": ("amr", "libopencore_amrnb", 8000),
        "ogg": ("ogg", "libopus", 48000),
        "webm": ("webm", "libopus", 48000),
        "m4a": ("ipod", "aac", rate),
    }
    container_format, codec, out_rate = codecs[fmt]
    output = io.BytesIO()
    with av.open(output, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=out_rate, layout="mono")
        assert isinstance(stream, av.audio.stream.AudioStream)
        if codec == "libopencore_amrnb":
            stream.bit_rate = 12200
        frame = av.AudioFrame.from_ndarray(
            np.clip(samples, -1, 1).astype(np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return output.getvalue()


def change_tempo(samples: Samples, rate: float, sample_rate: int = SAMPLE_RATE) -> Samples:
    """Faster (rate > 1) or slower speech at the same pitch, with FFmpeg's `atempo` filter (0.5-2.0)."""
    if abs(rate - 1.0) < 1e-3 or not samples.size:
        return samples
    graph = av.filter.Graph()
    source = graph.add_abuffer(format="flt", sample_rate=sample_rate, layout="mono")
    tempo = graph.add("atempo", f"{min(max(rate, 0.5), 2.0):.3f}")
    sink = graph.add("abuffersink")
    source.link_to(tempo)
    tempo.link_to(sink)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(samples.astype(np.float32).reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = sample_rate
    graph.push(frame)
    graph.push(None)
    pieces = []
    while True:
        try:
            pieces.append(graph.pull().to_ndarray().reshape(-1))
        except (av.error.EOFError, av.error.BlockingIOError):
            break
    return np.concatenate(pieces).astype(np.float32) if pieces else samples


def encode_silk(samples: Samples, rate: int = SAMPLE_RATE) -> bytes:
    """Mono float samples -> WeChat-style SILK (with the 0x02 prefix)."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    output = io.BytesIO()
    pysilk.encode(io.BytesIO(pcm), output, rate, 24000, tencent=True)
    return output.getvalue()
