"""Several hosts against one: text-chat answers/s and latency through the round-robin balancer for one
and for two API hosts (one worker each, own data homes) on PostgreSQL and a Chroma server, next to the
embedded default (one `xiangyin serve`, SQLite files and the local vector store) in the same run.

On one 2-core machine two hosts share the same two cores, so this measures what the shared stores
cost and that nothing serialises the hosts, not the gain a second machine brings. The load is the
locust closed loop of benchmarks/server.py (each client asks the next demo question as soon as it has
its answer) at 1, 10 and 50 clients.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from api.cluster import deployment
from benchmarks.report import table
from benchmarks.server import LoadLevel, chat_load, demo_home, running_server
from evals.cases import load_cases

_ENVIRONMENT = {"XIANGYIN_RATE_LIMIT": "100000/minute", "XIANGYIN_TTS_ENGINES": '["espeak-ng"]'}


def main(
    root: Path, results: Path, say: Callable[[str], None], seconds: float = 30.0, warmup_s: float = 5.0
) -> dict[str, object]:
    questions = [c.question for c in load_cases(root / "evals" / "demo_cases.jsonl") if not c.turns()]
    runs: dict[str, list[LoadLevel]] = {}
    with tempfile.TemporaryDirectory(prefix="xiangyin-hosts-") as scratch:
        say("one host, embedded stores (the default) ...")
        home = demo_home(root, results, say)
        with running_server(root, home, 1, Path(scratch) / "embedded.log") as (url, _):
            runs["1 host, embedded"] = chat_load(root, url, 1, questions, warmup_s, seconds)
        for hosts in (1, 2):
            say(f"{hosts} host(s) on PostgreSQL and a Chroma server, behind the balancer ...")
            folder = Path(scratch) / f"hosts-{hosts}"
            with deployment(hosts, [root / "knowledge" / "demo"], _ENVIRONMENT, root=folder) as running:
                label = f"{hosts} host{'s' if hosts > 1 else ''}, PostgreSQL"
                runs[label] = chat_load(root, running.balancer_url, hosts, questions, warmup_s, seconds)
    rows = [
        (label, level.clients, level.requests, level.errors, level.requests_per_s, level.p50_ms, level.p95_ms)
        for label, levels in runs.items()
        for level in levels
    ]
    say("\nText chat through one address: answers/s and latency (2 cores shared by every host)")
    say(table(["deployment", "clients", "answers", "errors", "answers/s", "p50 ms", "p95 ms"], rows))
    return {label: [vars(level) for level in levels] for label, levels in runs.items()}
