"""The one value every stage passes on: a diagnostic about a file or folder."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


def json_pointer(*parts: str | int) -> str:
    """RFC 6901 pointer from parts: ("annotations", 17) -> "/annotations/17"."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    path: Path
    pointer: str | None = None
    severity: Severity = "error"
    fixable: bool = False
    count: int = 1  # findings this stands for: N on the "... and N more" of a capped rule
    line: int | None = None  # where the pointer lands in the file (report.located)
    column: int | None = None

    def display_path(self, cwd: Path | None = None) -> str:
        """Relative to the cwd when below it, absolute otherwise (the CLI contract)."""
        return display_path(self.path, cwd or Path.cwd())


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
