"""The faster-whisper internals `voice.asr._EveryHypothesis` stands in for (issue 17).

`_EveryHypothesis` replaces `WhisperModel.model`, the CTranslate2 Whisper that faster-whisper's
`generate_with_fallback` calls, to ask it for the whole beam and keep it. That is faster-whisper's
private code: an upgrade that renames the attribute, calls the model another way or reads its result
differently would make spoken questions quietly lose every hypothesis but the best. These tests say
which assumption broke, so an upgrade fails here first and loudly.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import ctranslate2  # type: ignore[import-untyped]
import faster_whisper
import pytest
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer

from voice.asr import DECODING, Transcriber, _EveryHypothesis
from voice.audio import decode_audio
from voice.models import whisper_base

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech-zh"
UPGRADED = (
    f"faster-whisper {faster_whisper.__version__} / ctranslate2 {ctranslate2.__version__} changed an internal"
    " that voice/asr.py's _EveryHypothesis relies on"
)


def test_faster_whisper_calls_its_ctranslate2_model_as_the_wrapper_expects() -> None:
    init = inspect.getsource(WhisperModel.__init__)
    assert "self.model = ctranslate2.models.Whisper(" in init, (
        f"{UPGRADED}: WhisperModel.model is no longer the CTranslate2 Whisper that _load replaces"
    )
    fallback = inspect.getsource(WhisperModel.generate_with_fallback)
    assert "self.model.generate(" in fallback, (
        f"{UPGRADED}: generate_with_fallback no longer calls self.model.generate, so the beam is not seen"
    )
    # The wrapper asks for the whole beam by keyword and records the first result of the batch; faster-
    # whisper must go on passing beam_size by keyword and reading only the best hypothesis itself.
    assert '"beam_size": options.beam_size' in fallback, f"{UPGRADED}: beam_size is not passed by keyword"
    assert "num_hypotheses" not in fallback.split('"beam_size": options.beam_size')[1].split("}")[0], (
        f"{UPGRADED}: faster-whisper now sets num_hypotheses for beam search itself"
    )
    assert ")[0]" in fallback and "result.sequences_ids[0]" in fallback and "result.scores[0]" in fallback, (
        f"{UPGRADED}: generate_with_fallback reads the model's result another way"
    )


def test_ctranslate2_whisper_generates_several_hypotheses_with_scores() -> None:
    signature = (ctranslate2.models.Whisper.generate.__doc__ or "").split("\n", 1)[0]
    for parameter in ("beam_size: int", "num_hypotheses: int", "return_scores: bool"):
        assert parameter in signature, f"{UPGRADED}: Whisper.generate has no `{parameter}`: {signature}"
    for field in ("sequences_ids", "scores"):
        assert hasattr(ctranslate2.models.WhisperGenerationResult, field), (
            f"{UPGRADED}: WhisperGenerationResult has no `{field}`"
        )


def test_the_tokenizer_the_beams_are_decoded_with_is_built_the_same_way() -> None:
    parameters = list(inspect.signature(Tokenizer.__init__).parameters)
    assert parameters[:5] == ["self", "tokenizer", "multilingual", "task", "language"], (
        f"{UPGRADED}: faster_whisper.tokenizer.Tokenizer takes {parameters}"
    )
    assert callable(getattr(Tokenizer, "decode", None)), f"{UPGRADED}: Tokenizer has no decode"


@pytest.mark.slow
def test_a_real_decode_through_the_wrapper_records_the_whole_beam(tmp_path: Path) -> None:
    entry = json.loads((SPEECH / "manifest.jsonl").read_text(encoding="utf-8").splitlines()[3])
    audio = decode_audio((SPEECH / entry["audio"]).read_bytes())
    transcriber = Transcriber(whisper_base(tmp_path / "models"))
    model = transcriber.model
    assert isinstance(model.model, _EveryHypothesis), "voice.asr._load no longer wraps the model"
    assert hasattr(model, "hf_tokenizer"), f"{UPGRADED}: WhisperModel has no hf_tokenizer"
    recorded = model.model.start()
    segments, _ = model.transcribe(audio.samples, **DECODING)
    texts = [segment.text for segment in segments]
    assert texts and recorded, f"{UPGRADED}: a decode went past the wrapper (nothing was recorded)"
    beam_size = DECODING["beam_size"]
    for result in recorded:
        ids, scores = result.sequences_ids, result.scores  # type: ignore[attr-defined]
        assert len(ids) == len(scores) == beam_size, (
            f"{UPGRADED}: asked for {beam_size} hypotheses, got {len(ids)} with {len(scores)} scores"
        )
    # What faster-whisper made of the call is the first hypothesis the wrapper kept.
    tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language="zh")
    best = tokenizer.decode(recorded[-1].sequences_ids[0])  # type: ignore[attr-defined]
    assert best.strip() == texts[-1].strip(), f"{UPGRADED}: the recorded beam is not the one decoded"
    # And the transcript carries the whole beam on to the product.
    [beam] = transcriber.transcribe(audio).hypotheses
    assert len(beam) == beam_size
