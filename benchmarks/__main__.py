"""Run the benchmarks and print their tables: `python -m benchmarks [--only quality|retrieval|speed|...]`."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from benchmarks import (
    answers,
    confidence,
    hosts,
    ingest_speed,
    lexical_postgres,
    llm,
    quality,
    retrieval,
    scale,
    server,
    spoken_success,
    streaming,
    voice,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "knowledge" / "demo"
DOMAINRAG = ROOT.parent / "shared" / "data" / "domainrag"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        choices=[
            "quality",
            "retrieval",
            "speed",
            "answers",
            "confidence",
            "voice",
            "spoken",
            "llm",
            "server",
            "streaming",
            "ingest",
            "lexical-postgres",
            "hosts",
        ],
        help="run one part only",
    )
    parser.add_argument("--embedders", default="e5,use", help="comma-separated embedders to compare")
    parser.add_argument("--sizes", default="1000,10000,100000", help="index sizes for query latency")
    parser.add_argument(
        "--domainrag", type=Path, default=DOMAINRAG, help="folder with corpus/ and cases.jsonl"
    )
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--retrieval-home",
        type=Path,
        help="indexes and the baseline's embedding cache for --only retrieval (default: RESULTS/retrieval)",
    )
    parser.add_argument(
        "--server-seconds", type=float, default=20.0, help="measured seconds per server load level"
    )
    parser.add_argument(
        "--limit", type=int, default=24, help="cases per set for the LLM comparison (0: all; ~20 s each)"
    )
    parser.add_argument("--spoken-limit", type=int, default=0, help="cases for --only spoken (0: all)")
    parser.add_argument(
        "--write", action="store_true", help="with --only confidence: store the fitted models"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    embedders = [e for e in args.embedders.split(",") if e]
    args.results.mkdir(parents=True, exist_ok=True)

    def say(text: str) -> None:
        print(text, flush=True)

    if args.only in (None, "quality"):
        if (args.domainrag / "cases.jsonl").exists():
            summary = quality.main(
                args.domainrag / "corpus", args.domainrag / "cases.jsonl", args.results, embedders, say
            )
            (args.results / "quality.json").write_text(json.dumps(summary, indent=2))
        else:
            say(f"skipping retrieval quality: {args.domainrag} not found")
    if args.only in (None, "retrieval"):
        home = args.retrieval_home or args.results / "retrieval"
        summary = retrieval.main(ROOT, args.domainrag, home, say)
        (args.results / "retrieval.json").write_text(json.dumps(summary, indent=2))
    if args.only in (None, "answers"):
        answers.main(DEMO, ROOT / "evals" / "demo_cases.jsonl", args.domainrag, args.results, say)
    if args.only in (None, "confidence"):
        confidence.main(ROOT, args.domainrag.parent / "rgb-zh-dev", args.results, say, write=args.write)
    if args.only in (None, "llm"):
        llm.main(DEMO, ROOT / "evals" / "demo_cases.jsonl", args.domainrag, args.results, args.limit, say)
    if args.only in (None, "voice"):
        voice.main(ROOT, args.domainrag.parent / "speech-zh", args.results, say)
    if args.only in (None, "spoken"):
        spoken_success.main(ROOT, args.results, say, limit=args.spoken_limit)
    if args.only in (None, "server"):
        server.main(ROOT, args.results, say, seconds=args.server_seconds)
    if args.only in (None, "streaming"):
        streaming.main(ROOT, args.results, say)
    if args.only in (None, "ingest"):
        ingest_speed.main(["--domainrag", str(args.domainrag), "--home", str(args.results / "ingest-speed")])
    if args.only in (None, "lexical-postgres"):
        home = args.retrieval_home or args.results / "retrieval"
        size = max(int(s) for s in args.sizes.split(","))
        summary = lexical_postgres.main(ROOT, args.domainrag, home, say, size=size)
        (args.results / "lexical_postgres.json").write_text(json.dumps(summary, indent=2))
    if args.only in (None, "hosts"):
        summary = hosts.main(ROOT, args.results, say, seconds=args.server_seconds)
        (args.results / "hosts.json").write_text(json.dumps(summary, indent=2))
    if args.only in (None, "speed"):
        cases = [
            json.loads(line)
            for line in (ROOT / "evals" / "demo_cases.jsonl").read_text().splitlines()
            if line
        ]
        questions = [c["question"] for c in cases]
        scale.main(DEMO, questions, [int(s) for s in args.sizes.split(",")], embedders, say)


if __name__ == "__main__":
    main()
