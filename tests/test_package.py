"""The package's import graph has no cycle, counting the imports inside functions too (an
in-function import that closes a cycle only hides it: discovery <-> dvcsupport did)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import poselint
from poselint.cachekey import RACY_SECONDS

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


def test_lazy_import_executes_the_module_on_first_use_only(tmp_path):
    """poselint.lazy against the plain import it stands for (in a fresh interpreter)."""
    (tmp_path / "probe.py").write_text("print('executed')\nVALUE = 42\n")
    code = (
        "import importlib, sys\n"
        "from poselint.lazy import lazy_import\n"
        "m = lazy_import('probe')\n"
        "print('imported')\n"
        "print(m.VALUE == importlib.import_module('probe').VALUE == 42)\n"
        "print(lazy_import('probe') is m is sys.modules['probe'])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["imported", "executed", "True", "True"]


def _numpy_imported(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[bool, str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "poselint", "check", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    # a lazy module runs outside the import system: its own imports show that it ran
    return "numpy._core" in imported, proc.stdout


def test_a_clean_check_served_from_the_cache_never_imports_numpy(make_dataset, tmp_path):
    """numpy is most of a small check's start-up: only parsing a split needs it, and locating
    findings' lines; an unchanged clean dataset (a commit's usual re-check) needs neither."""
    root = make_dataset(name="clean")
    env = {**os.environ, "POSELINT_CACHE_DIR": str(tmp_path / "cache")}
    time.sleep(RACY_SECONDS + 0.1)  # the files old enough to be cached
    args = [root.name, "--format", "json"]
    first, parsed = _numpy_imported(args, root.parent, env)
    again, cached = _numpy_imported(args, root.parent, env)
    assert (first, again) == (True, False)
    assert cached == parsed == "[]\n"
