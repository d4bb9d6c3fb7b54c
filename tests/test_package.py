"""The package's import graph has no cycle, counting the imports inside functions too (an
in-function import that closes a cycle only hides it: discovery <-> dvcsupport did)."""

from __future__ import annotations

import ast
from pathlib import Path

import poselint

PACKAGE = Path(poselint.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _module_of(name: str, modules: dict[str, Path]) -> str:
    """`poselint.load.dataset.Dataset` -> `poselint.load.dataset`."""
    while name not in modules:
        name = name.rpartition(".")[0]
    return name


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The poselint modules path imports, anywhere but under `if TYPE_CHECKING:`."""
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text("utf-8"))]
    while pending:
        for node in ast.iter_child_nodes(pending.pop()):
            if _is_type_checking(node):
                continue
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("poselint"):
                found.update(_module_of(f"{node.module}.{a.name}", modules) for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(
                    _module_of(a.name, modules) for a in node.names if a.name.startswith("poselint")
                )
            pending.append(node)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_no_import_cycle():
    modules = _modules()
    graph = {
        # a module's own parent packages are imported before it anyway: not an edge
        name: {m for m in _imports(path, modules) if m != name and not name.startswith(m + ".")}
        for name, path in modules.items()
    }
    assert len(graph) > 80 and graph["poselint.commands.check"]  # the graph is the package's
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
