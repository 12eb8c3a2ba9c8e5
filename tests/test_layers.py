"""The packages' layers, read from the source: data flows api -> assistant -> knowledge / voice, all
of them stand on zhtext and ground, and `xiangyin` (the command line and the application's settings)
is a roof nothing below imports. Imports inside
functions count for the layers (a lazy import is still a dependency); those under TYPE_CHECKING never
do (they name types for the checker). An upward arrow or a load cycle shows here before it shows as
an import error."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("zhtext", "ground", "xiangyin", "knowledge", "voice", "assistant", "evals", "api")
ROOF = {"xiangyin.cli", "xiangyin.eval_cli", "xiangyin.cli_context", "xiangyin.__main__"}

FORBIDDEN = {
    "zhtext": set(PACKAGES) - {"zhtext"},
    "ground": set(PACKAGES) - {"ground"},
    "knowledge": {"xiangyin", "voice", "assistant", "evals", "api"},
    "voice": {"xiangyin", "knowledge", "assistant", "evals", "api"},
    "assistant": {"xiangyin", "evals", "api"},
    "evals": {"xiangyin", "api"},
    "api": {"xiangyin"},
}
"""Top-level packages each package must not import."""


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _typing_only(tree: ast.Module) -> set[int]:
    """Ids of the nodes under `if TYPE_CHECKING:`: annotations, not dependencies."""
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for statement in node.body
        for inner in ast.walk(statement)
    }


def _in_functions(tree: ast.Module) -> set[int]:
    """Ids of the nodes inside functions: imported when called, not when the module loads."""
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
        if inner is not node
    }


def _imports(path: Path, when_loaded: bool = False) -> Iterator[str]:
    """What the module imports; `when_loaded`: only what loading it imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = _typing_only(tree) | (_in_functions(tree) if when_loaded else set())
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _graph(when_loaded: bool = False) -> dict[str, set[str]]:
    files = {_module(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    return {name: {i for i in _imports(path, when_loaded) if i in files} for name, path in files.items()}


def test_no_package_imports_a_layer_above_it() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if target.split(".")[0] in FORBIDDEN.get(module.split(".")[0], set())
    ]
    assert wrong == []


def test_only_the_command_line_imports_the_command_line() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets & ROOF
        if module not in ROOF
    ]
    # Sub-apps (xiangyin eval) read the run's settings from xiangyin.cli_context, not from the root.
    root = [m for m, t in _graph().items() if "xiangyin.cli" in t and m != "xiangyin.__main__"]
    assert wrong + [f"{m} imports xiangyin.cli" for m in root] == []


def test_loading_a_module_never_needs_itself() -> None:
    # Registries import their entries when an entry is used (assistant.composer_registry ->
    # assistant.composers, which registers into it): a deliberate lazy edge, not a load cycle.
    graph = _graph(when_loaded=True)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []
