"""What the report formats share: the per-rule cap, line and column of pointers (read only
for the diagnostics kept), and the pointer-qualified message and fingerprint the CI documents
carry. Dataset text made printable is escape.py's."""

from __future__ import annotations

import contextlib
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from poselint.diagnostics import Diagnostic, displayable
from poselint.load.document import read_identified
from poselint.report.positions import locate


def capped(diagnostics: Sequence[Diagnostic], limit: int) -> tuple[list[Diagnostic], Counter[str]]:
    """At most `limit` diagnostics per rule (0: no cap); the findings of the rest are counted,
    not shown."""
    shown: list[Diagnostic] = []
    seen: Counter[str] = Counter()
    hidden: Counter[str] = Counter()
    for d in diagnostics:
        seen[d.code] += 1
        if not limit or seen[d.code] <= limit:
            shown.append(d)
        else:
            hidden[d.code] += d.count
    return shown, hidden


def located(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics with the line and column of their pointers: each file named is read
    once, for the diagnostics being reported only (not the capped-away ones)."""
    wanted: dict[Path, set[str]] = {}
    for d in diagnostics:
        if d.pointer is not None and d.line is None:
            wanted.setdefault(d.path, set()).add(d.pointer)
    found: dict[Path, dict[str, tuple[int, int]]] = {}
    for path, pointers in wanted.items():
        read = read_identified(path, 1 << 40)  # the file was linted: it is within the bound
        if not isinstance(read, str):  # unreadable now: the report goes on without lines
            with contextlib.suppress(ValueError, IndexError):  # no longer the JSON linted
                found[path] = locate(read[0], pointers)
    out: list[Diagnostic] = []
    for d in diagnostics:
        where = found.get(d.path, {}).get(d.pointer) if d.pointer is not None else None
        out.append(replace(d, line=where[0], column=where[1]) if where else d)
    return out


def pointed_message(d: Diagnostic) -> str:
    """The message and, when there is one, the pointer: `... (at /annotations/3/bbox)`."""
    pointer = f" (at {displayable(d.pointer)})" if d.pointer else ""
    return displayable(d.message) + pointer


def fingerprint(d: Diagnostic, cwd: Path) -> str:
    """Stable across runs while the finding stays: code, file, pointer and message."""
    key = "\0".join((d.code, d.display_path(cwd), d.pointer or "", displayable(d.message)))
    return hashlib.sha256(key.encode()).hexdigest()
