"""The one value every stage passes on: a diagnostic about a file or folder."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]
# A fix's applicability, as ruff's: safe fixes `--fix` applies, unsafe ones need --unsafe-fixes.
Applicability = Literal["safe", "unsafe"]

# poselint's exit codes: 0 no error, 1 an error found (or --fix changed something), 2 could
# not run (bad options or configuration, unreadable input it was pointed at).
EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_CANNOT_RUN = 0, 1, 2


def json_pointer(*parts: str | int) -> str:
    """RFC 6901 pointer from parts: ("annotations", 17) -> "/annotations/17"."""
    # a rule may name a few hundred thousand keypoints: an int needs no escaping, and the
    # member names repeat
    return "".join([f"/{p}" if type(p) is int else _escaped_part(str(p)) for p in parts])


@lru_cache(maxsize=4096)
def _escaped_part(part: str) -> str:
    return "/" + part.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    path: Path
    pointer: str | None = None
    severity: Severity = "error"
    fix: Applicability | None = None  # the applicability of its rule's fix; None: no fix
    count: int = 1  # findings this stands for: N on the "... and N more" of a capped rule
    line: int | None = None  # where the pointer lands in the file (report.common.located)
    column: int | None = None

    def display_path(self, cwd: Path | None = None) -> str:
        """Relative to the cwd when below it, absolute otherwise (the CLI contract)."""
        return display_path(self.path, cwd or Path.cwd())

    @property
    def fixable(self) -> bool:
        """Some fix exists (safe or unsafe)."""
        return self.fix is not None


@dataclass(frozen=True, slots=True)
class Totals:
    errors: int = 0
    warnings: int = 0
    fixable: int = 0  # by a safe fix: what `--fix` repairs
    unsafe: int = 0  # by an unsafe fix only: `--fix --unsafe-fixes`


def totals(diagnostics: Iterable[Diagnostic]) -> Totals:
    """What every summary counts: findings, not lines (a capped rule's "... and N more"
    line stands for N of them)."""
    errors = warnings = fixable = unsafe = 0
    for d in diagnostics:
        if d.severity == "error":
            errors += d.count
        else:
            warnings += d.count
        if d.fix == "safe":
            fixable += d.count
        elif d.fix == "unsafe":
            unsafe += d.count
    return Totals(errors, warnings, fixable, unsafe)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(char: str) -> str:
    code = ord(char)
    # U+DC80..U+DCFF: a byte of a non-UTF-8 file name (os.fsdecode's surrogateescape)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def displayable(text: str) -> str:
    """Text every reporter can encode as UTF-8: a byte of a non-UTF-8 file name (Linux allows
    them; Python holds them as lone surrogates) becomes `\\xff`, as `ls -b` shows it."""
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda m: _escaped(m.group()), text)


@lru_cache(maxsize=4096)  # a million diagnostics share a handful of paths
def display_path(path: Path, cwd: Path) -> str:
    """The path as every report shows it: relative to cwd when below it, displayable text."""
    try:
        shown = path.relative_to(cwd).as_posix() or "."
    except ValueError:
        rel = os.path.relpath(path, cwd)
        shown = path.as_posix() if rel.startswith("..") else Path(rel).as_posix()
    return displayable(shown)
