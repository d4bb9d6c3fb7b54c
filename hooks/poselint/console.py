"""poselint's own lines on stderr besides errors: one-time notes, summaries, and with -v what
is checked. -q silences all of them: the report (and an exit-2 error) is all that is printed."""

from __future__ import annotations

import io
import sys
from typing import TextIO

QUIET, NORMAL, VERBOSE = -1, 0, 1

_level = NORMAL
_notes_seen: set[str] = set()


def start(level: int) -> None:
    """A run begins: its verbosity, and no note said yet."""
    global _level
    _level = level
    forget()


def forget() -> None:
    _notes_seen.clear()


def is_quiet() -> bool:
    return _level <= QUIET


def note(message: str) -> None:
    """A one-time line: things the report cannot carry (a check skipped, and why)."""
    if not is_quiet() and message not in _notes_seen:
        _notes_seen.add(message)
        print(f"poselint: note: {message}", file=sys.stderr)


def verbose(message: str) -> None:
    """-v only: what the run is doing."""
    if _level >= VERBOSE:
        print(f"poselint: {message}", file=sys.stderr)


def info_stream() -> TextIO:
    """Where a summary line for the person at the terminal goes: stderr, or nowhere with -q."""
    return io.StringIO() if is_quiet() else sys.stderr
