"""Read an annotation file once and parse it fast, recording every problem as a fact.

Rules turn these facts into diagnostics; the loader itself never raises.
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

BOM = b"\xef\xbb\xbf"
MAX_DEPTH = 1024  # orjson's own bound; deeper documents are rejected, not recursed into


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    message: str
    line: int
    column: int


@dataclass(slots=True)
class Loaded:
    path: Path
    value: Any = None  # the parsed top-level value, whatever its type
    read_error: str | None = None
    syntax: SyntaxProblem | None = None
    had_bom: bool = False
    size: int = 0

    @property
    def document(self) -> dict[str, Any] | None:
        """The parsed object, or None when the file did not parse to a JSON object."""
        return self.value if isinstance(self.value, dict) else None

    @property
    def parsed(self) -> bool:
        return self.read_error is None and self.syntax is None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing allocates millions of containers; pausing the cyclic GC halves the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_bytes(path: Path, max_bytes: int) -> bytes | str:
    """The file's bytes, or a reason it cannot be read. Never blocks on a FIFO or device."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            return "it is a directory, not a file"
        if not stat.S_ISREG(st.st_mode):
            return "it is not a regular file"
        if st.st_size > max_bytes:
            return (
                f"it is {st.st_size:,} bytes, over the max_annotation_bytes bound of {max_bytes:,}"
            )
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        return exc.strerror or str(exc)


def _describe(exc: orjson.JSONDecodeError, data: bytes) -> str:
    token = data[exc.pos : exc.pos + 9]
    if token.startswith((b"NaN", b"Infinity", b"-Infinity")):
        return "NaN/Infinity literal is not valid JSON"
    return str(exc.msg)


def _line_col(data: bytes, pos: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, pos) + 1
    return line, pos - (data.rfind(b"\n", 0, pos) + 1) + 1


def parse_bytes(path: Path, data: bytes) -> Loaded:
    loaded = Loaded(path, size=len(data))
    if data.startswith(BOM):
        loaded.had_bom = True
        data = data[len(BOM) :]  # go on checking the content; PL302 reports the BOM
    if not data.strip():
        loaded.syntax = SyntaxProblem("empty file", 1, 1)
        return loaded
    try:
        with gc_paused():
            loaded.value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        line, column = _line_col(data, exc.pos)
        message = _describe(exc, data)
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            message = f"nesting deeper than {MAX_DEPTH} levels"
        loaded.syntax = SyntaxProblem(message, line, column)
    return loaded


def load_annotation_file(path: Path, max_bytes: int) -> Loaded:
    data = read_bytes(path, max_bytes)
    if isinstance(data, str):
        return Loaded(path, read_error=data)
    return parse_bytes(path, data)
