"""Where data comes from is the sources' business (hooks/poselint/sources/): rules ask the
dataset's source, and the sources sit below discovery and the loader, with no import back."""

from __future__ import annotations

import ast
from pathlib import Path

import poselint

PACKAGE = Path(poselint.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every poselint module path imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("poselint"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("poselint"))
    return found


def test_rules_ask_the_source_never_the_dvc_integration():
    """PL100, PL108 and PL413 imported sources.dvc and branched on Dataset.remote; now every
    rule reads through Dataset.source, whatever the data comes from."""
    offenders = {
        f"{path.name}: {name}"
        for path in sorted((PACKAGE / "rules").rglob("*.py"))
        for name in _imports(path)
        if name.startswith("poselint.sources")
    }
    assert offenders == set()


def test_the_sources_import_nothing_that_uses_them():
    """sources/dvc.py imported discovery (DiscoveryError) inside its functions while discovery
    imported it: a cycle hidden by in-function imports. The sources depend only downwards."""
    above = ("poselint.discovery", "poselint.load.dataset", "poselint.rules", "poselint.commands")
    offenders = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in sorted((PACKAGE / "sources").rglob("*.py"))
        for name in _imports(path)
        if name.startswith(above)
    }
    assert offenders == set()
