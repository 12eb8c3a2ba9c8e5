"""The `xiangyin` command line."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from assistant.answer import Answer
from assistant.composer_registry import COMPOSERS
from assistant.pipeline import Assistant
from assistant.understanding import Understanding
from knowledge.base import IngestInProgress, KnowledgeBase
from knowledge.catalog import Filters
from knowledge.hybrid import SearchHit, SearchMode
from knowledge.ingest import IngestReport, ingest, pending_by_source
from voice.audio import AudioError
from voice.recognition import SpeechRecognizer
from voice.synthesis import make_synthesizer
from voice.tts import SynthesisFailed
from xiangyin.cli_context import INGEST_STAGES, current_settings, keep_settings
from xiangyin.eval_cli import eval_app
from xiangyin.settings import Settings, load_settings

app = typer.Typer(
    help="乡音 Xiangyin: answers villagers' questions from their county's documents.", no_args_is_help=True
)
kb_app = typer.Typer(help="Inspect and manage the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")

console = Console()
err = Console(stderr=True)

SAMPLE_QUESTION = "种粮补贴每亩多少钱？"


def _settings(ctx: typer.Context) -> Settings:
    return current_settings(ctx)


def _open(ctx: typer.Context) -> KnowledgeBase:
    return KnowledgeBase(_settings(ctx))


ComposerOption = Annotated[
    str | None,
    typer.Option(
        "--composer",
        help="Who words the answer: extractive, local (offline language model) or remote "
        "(OpenAI-compatible server). Default: $XIANGYIN_COMPOSER or extractive.",
    ),
]


def _assistant(ctx: typer.Context, composer: str | None) -> Assistant:
    settings = _settings(ctx)
    if composer is not None:
        if composer not in COMPOSERS:
            names = ", ".join(COMPOSERS.names())
            raise typer.BadParameter(f"composer must be one of {names}", param_hint="--composer")
        settings = settings.model_copy(update={"composer": composer})
    return Assistant(settings)


@app.callback()
def main(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(help="Data home (index, caches, models). Default: $XIANGYIN_HOME or the user data dir."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    keep_settings(ctx, load_settings(home))


def _run_ingest(kb: KnowledgeBase, paths: list[Path], prune: bool, quiet: bool) -> IngestReport:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=quiet, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(INGEST_STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        return ingest(kb, paths, prune=prune, progress=update)


def _print_report(report: IngestReport) -> None:
    console.print(
        f"新增 {len(report.added)} · 更新 {len(report.updated)} · 未变 {len(report.unchanged)} · "
        f"删除 {len(report.removed)} · 跳过 {len(report.skipped)} · 共 {report.chunks} 段 · "
        f"本次计算向量 {report.embedded} 段 · 用时 {report.seconds:.1f} 秒"
    )
    if report.searchable_s and (report.added or report.updated):
        console.print(f"新文档 {report.searchable_s:.1f} 秒后已可检索")
    if report.pending:
        # The ingest was stopped while adding vectors: the documents answer by words until then.
        console.print(
            f"[yellow]向量未完成 {report.pending} 段[/yellow]"
            "（已可按词检索；再运行一次 xiangyin ingest 即可补全）",
            highlight=False,
        )
    for skipped in report.skipped:
        console.print(f"[yellow]跳过[/yellow] {skipped.source}：{skipped.message}", highlight=False)
    if report.rejected_before:
        console.print(
            f"[dim]之前已拒收、文件没有改动，没有再读：{'、'.join(report.rejected_before)}[/dim]",
            highlight=False,
        )


@app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Folders or files to load.", exists=True)],
    prune: Annotated[
        bool, typer.Option(help="Remove documents whose files are gone from an ingested folder.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Load documents (.txt .md .html .pdf .docx) into the knowledge base; re-running is incremental."""
    kb = _open(ctx)
    try:
        report = _run_ingest(kb, paths, prune, quiet=as_json)
    finally:
        kb.close()
    if as_json:
        print(
            json.dumps({**asdict(report), "seconds": round(report.seconds, 3)}, ensure_ascii=False, indent=2)
        )
    else:
        _print_report(report)


def _print_hits(hits: list[SearchHit]) -> None:
    if not hits:
        console.print("没有找到相关内容。")
        return
    for n, hit in enumerate(hits, start=1):
        where = " > ".join(part for part in (hit.chunk.title, hit.chunk.section) if part)
        console.print(f"[bold][{n}][/bold] {where}  [dim]{hit.chunk.source} · {hit.score:.4f}[/dim]")
        console.print(hit.chunk.text, markup=False, highlight=False)
        console.print()


@app.command("search")
def search_command(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question, as a villager would ask it.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="How many passages.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, dense or lexical.")] = "hybrid",
    kind: Annotated[
        str | None, typer.Option(help="Only this document kind (policy, handbook, case).")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="Only this region (and documents with no region).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of passages.")] = False,
) -> None:
    """Find the passages that answer a question."""
    if mode not in ("hybrid", "dense", "lexical"):
        raise typer.BadParameter("mode must be hybrid, dense or lexical", param_hint="--mode")
    search_mode: SearchMode = mode  # type: ignore[assignment]
    kb = _open(ctx)
    try:
        hits = kb.search(question, k=k, mode=search_mode, filters=Filters(kind=kind, region=region))
    finally:
        kb.close()
    if as_json:
        print(json.dumps([hit.as_dict() for hit in hits], ensure_ascii=False, indent=2))
    else:
        _print_hits(hits)


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    question: Annotated[
        str, typer.Argument(help="A question to ask the demo knowledge base.")
    ] = SAMPLE_QUESTION,
    host: Annotated[
        str, typer.Option(help="Address to serve on (0.0.0.0 for the whole network).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server and page afterwards.")
    ] = True,
) -> None:
    """Build the demo knowledge base (a fictional county), answer a sample question, start the page."""
    settings = _settings(ctx)
    assistant = Assistant(settings)
    try:
        with resources.as_file(resources.files("knowledge").joinpath("demo")) as demo:
            console.print(f"载入示例知识库：{demo}")
            _print_report(_run_ingest(assistant.kb, [demo], prune=True, quiet=False))
        console.print(f"\n问：{question}")
        console.print("答：", end="")
        _print_answer(assistant.ask(question))
    finally:
        assistant.close()
    if not serve:
        console.print('\n继续提问：xiangyin ask "问题"，或 xiangyin chat 进入对话。')
        return
    _serve(settings, host, port, workers=1)


@app.command("cluster-demo")
def cluster_demo_command(
    port: Annotated[int, typer.Option(help="Port of the round-robin balancer in front of the hosts.")] = 8000,
    hosts: Annotated[int, typer.Option(min=1, max=8, help="API hosts to start.")] = 2,
) -> None:
    """Several API hosts on PostgreSQL and a Chroma server behind a balancer, with the demo knowledge base."""
    from api.cluster import deployment

    with resources.as_file(resources.files("knowledge").joinpath("demo")) as demo:
        console.print("启动 PostgreSQL、Chroma 服务和各台主机，载入示例知识库（第一次要一两分钟）……")
        with deployment(hosts, [demo], balancer_port=port) as running:
            console.print(f"数据库：{running.database_url}\n向量库：{running.chroma_url}")
            for host in running.hosts:
                console.print(f"  {host.name}：{host.url}  （数据目录 {host.home}，日志 {host.log_path}）")
            console.print(f"\n数字人页面（轮流转给各台主机）：{running.balancer_url}/  （按 Ctrl+C 停止）")
            try:
                while True:  # a sleep, unlike Event.wait, ends cleanly on Ctrl+C
                    time.sleep(3600)
            except KeyboardInterrupt:
                console.print("正在停止……")


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to serve on (0.0.0.0 for the whole network).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes sharing one index.")] = 1,
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="TLS certificate: phones only allow the microphone over HTTPS.")
    ] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key for --ssl-certfile.")] = None,
) -> None:
    """Start the HTTP API and the digital-human page."""
    _serve(_settings(ctx), host, port, workers, ssl_certfile, ssl_keyfile)


def _serve(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
) -> None:
    from api.server import serve

    scheme = "https" if ssl_certfile else "http"
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    console.print(f"\n数字人页面：{scheme}://{shown}:{port}/  （按 Ctrl+C 停止）")
    serve(settings, host, port, workers, ssl_certfile, ssl_keyfile)


def _print_answer(answer: Answer) -> None:
    console.print(answer.answer, markup=False, highlight=False)
    for citation in answer.citations:
        where = " > ".join(part for part in (citation.title, citation.section) if part)
        console.print(f"  [dim][{citation.number}] {where} ({citation.source})[/dim]", highlight=False)


@app.command("ask")
def ask_command(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question, as a villager would ask it.")],
    session: Annotated[str | None, typer.Option("--session", help="Conversation id, for follow-ups.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole Answer as JSON.")] = False,
    composer: ComposerOption = None,
) -> None:
    """Answer a question from the knowledge base, with its sources (or say the documents do not cover it)."""
    assistant = _assistant(ctx, composer)
    try:
        answer = assistant.ask(question, session_id=session)
    finally:
        assistant.close()
    if as_json:
        print(answer.model_dump_json(indent=2))
    else:
        _print_answer(answer)


@app.command("chat")
def chat_command(
    ctx: typer.Context,
    session: Annotated[str | None, typer.Option("--session", help="Continue this conversation.")] = None,
    composer: ComposerOption = None,
) -> None:
    """Talk with the assistant in the terminal; an empty line or Ctrl-D ends the conversation."""
    assistant = _assistant(ctx, composer)
    session_id = session or uuid.uuid4().hex[:12]
    console.print(
        f"[bold]{assistant.settings.assistant_name}[/bold]：您好！请问有什么想了解的？（直接回车结束）"
    )
    try:
        while True:
            try:
                question = console.input("[bold green]您[/bold green]：")
            except EOFError:
                break
            if not question.strip():
                break
            answer = assistant.ask(question, session_id=session_id)
            console.print(f"[bold]{assistant.settings.assistant_name}[/bold]：", end="")
            _print_answer(answer)
    finally:
        assistant.close()
    console.print("再见！")


@app.command("asr")
def asr_command(
    ctx: typer.Context,
    audio: Annotated[
        Path, typer.Argument(help="A voice recording (wav, mp3, m4a, ogg, webm, amr, silk).", exists=True)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print transcript and timings as JSON.")] = False,
) -> None:
    """Transcribe a recording to Simplified Chinese text."""
    settings = _settings(ctx)
    # The data home's documents choose among Whisper's hypotheses (none there: Whisper's best).
    kb = KnowledgeBase(settings)
    try:
        prefer = Understanding(kb.catalog, settings.max_question_chars).known_share
        transcript = SpeechRecognizer(settings, prefer=prefer).recognize(audio.read_bytes())
    except AudioError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    finally:
        kb.close()
    if as_json:
        print(json.dumps(asdict(transcript), ensure_ascii=False, indent=2))
    else:
        console.print(transcript.text, markup=False, highlight=False)


@app.command("tts")
def tts_command(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Chinese text to speak.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Audio file: .mp3, .wav or .amr.")] = Path(
        "out.mp3"
    ),
    slower: Annotated[bool, typer.Option("--slower", help="Speak more slowly.")] = False,
) -> None:
    """Speak a text into an audio file, with the first speech engine that works."""
    settings = _settings(ctx)
    fmt = output.suffix.lstrip(".").lower() or "mp3"
    if fmt not in ("mp3", "wav", "amr"):
        raise typer.BadParameter("the output must end in .mp3, .wav or .amr", param_hint="--output")
    try:
        speech = make_synthesizer(settings).synthesize(text, settings.tts_rate * (0.8 if slower else 1.0))
    except SynthesisFailed as exc:
        err.print("[red]没有可用的语音引擎，无法生成语音。[/red]")
        raise typer.Exit(1) from exc
    output.write_bytes(speech.encode(fmt))
    console.print(f"{output}（{speech.engine}，{speech.duration_s:.1f} 秒）")


@app.command("voice-ask")
def voice_ask_command(
    ctx: typer.Context,
    audio: Annotated[
        Path, typer.Argument(help="A spoken question (wav, mp3, m4a, ogg, webm, amr, silk).", exists=True)
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the spoken answer here.")
    ] = None,
    session: Annotated[str | None, typer.Option("--session", help="Conversation id, for follow-ups.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print transcript, answer and audio path as JSON.")
    ] = False,
) -> None:
    """Answer a spoken question: speech -> text -> answer -> speech."""
    settings = _settings(ctx)
    assistant = Assistant(settings)
    try:
        recognizer = SpeechRecognizer(settings, prefer=assistant.understanding.known_share)
        transcript = recognizer.recognize(audio.read_bytes())
        answer = assistant.ask(transcript.text, session_id=session, spoken=True)
    except AudioError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    finally:
        assistant.close()
    target = output or audio.with_name(f"{audio.stem}.answer.mp3")
    notice = ""
    try:
        speech = make_synthesizer(settings).synthesize(answer.speech)
        target.write_bytes(speech.encode(target.suffix.lstrip(".").lower() or "mp3"))
        audio_path: str | None = str(target)
    except SynthesisFailed:
        audio_path, notice = None, "暂时无法播放语音，请看文字回答。"
    if as_json:
        payload = {
            "transcript": transcript.text,
            "answer": answer.model_dump(),
            "audio": audio_path,
            "notice": notice,
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    console.print(f"听到：{transcript.text}", markup=False, highlight=False)
    _print_answer(answer)
    console.print(notice or f"语音回答：{audio_path}")


@kb_app.command("stats")
def kb_stats(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts of documents, chunks and vectors, by kind, and the chunks still waiting for a vector."""
    kb = _open(ctx)
    try:
        stats = kb.stats()
        pending = pending_by_source(kb)
    finally:
        kb.close()
    if as_json:
        waiting = {"pending": sum(pending.values()), "pending_by_document": pending}
        print(json.dumps(asdict(stats) | waiting, ensure_ascii=False, indent=2))
        return
    console.print(
        f"文档 {stats.documents} 篇 · 段落 {stats.chunks} 段 · 向量 {stats.vectors} 个 · {stats.chars} 字"
    )
    if pending:
        # Searchable already (by words); the next `xiangyin ingest` of their folder adds the vectors.
        console.print(
            f"向量未完成 {sum(pending.values())} 段（{len(pending)} 篇文档，已可按词检索；"
            "再运行一次 xiangyin ingest 即可补全）"
        )
    console.print("按类型：" + "，".join(f"{kind} {n}" for kind, n in sorted(stats.by_kind.items())))
    if stats.regions:
        console.print("地区：" + "，".join(stats.regions))
    console.print(f"向量模型：{stats.embedder} · 集合：{stats.collection} · 存储：{stats.store}")


@kb_app.command("share")
def kb_share(
    ctx: typer.Context,
    database_url: Annotated[str, typer.Option(help="postgresql://… the hosts will share.")],
    chroma_url: Annotated[str, typer.Option(help="The `chroma run` server the hosts will share.")],
) -> None:
    """Copy this data home's knowledge base into PostgreSQL and a Chroma server, for several hosts
    (nothing is read or embedded again)."""
    settings = _settings(ctx)
    source = KnowledgeBase(settings)
    target = KnowledgeBase(
        settings.model_copy(update={"database_url": database_url, "chroma_url": chroma_url}),
        source.embeddings,
    )
    try:
        chunks, vectors = source.share(target)
    except IngestInProgress as exc:
        err.print("[red]知识库正在更新，请等更新结束后再复制。[/red]")
        raise typer.Exit(1) from exc
    finally:
        source.close()
        target.close()
    console.print(f"已复制 {chunks} 段、{vectors} 个向量到 {database_url.split('@')[-1]} 和 {chroma_url}")
    console.print("各台主机设置 XIANGYIN_DATABASE_URL 和 XIANGYIN_CHROMA_URL 后启动即可。")


@kb_app.command("list")
def kb_list(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the loaded documents."""
    kb = _open(ctx)
    try:
        documents = kb.documents()
    finally:
        kb.close()
    if as_json:
        print(json.dumps([asdict(d) for d in documents], ensure_ascii=False, indent=2))
        return
    table = Table("来源", "标题", "类型", "地区", "有效期", "段数")
    for d in documents:
        validity = f"{d.valid_from}~{d.valid_to}" if d.valid_from or d.valid_to else ""
        table.add_row(d.source, d.title, d.kind, d.region, validity, str(d.chunks))
    console.print(table)


@kb_app.command("remove")
def kb_remove(
    ctx: typer.Context,
    sources: Annotated[list[str], typer.Argument(help="Source paths as `kb list` shows them.")],
) -> None:
    """Remove documents from the knowledge base."""
    kb = _open(ctx)
    try:
        removed = kb.remove(sources)
    finally:
        kb.close()
    for source in sources:
        console.print(f"已删除 {source}" if source in removed else f"[yellow]没有这个文档[/yellow] {source}")
    if len(removed) < len(sources):
        raise typer.Exit(1)
