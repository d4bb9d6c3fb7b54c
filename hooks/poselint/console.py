"""poselint's own lines on stderr besides errors: one-time notes, summaries, with -v what is
checked, and on a terminal a progress bar; and whether the text report is coloured.
-q silences all of the stderr lines: the report (and an exit-2 error) is all that is printed.

Colour and progress are for a person at a terminal only: never in a pipe, a CI log or a
machine format. Their libraries (termcolor, tqdm) are imported only when they are used.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from poselint.diagnostics import display_path
from poselint.report.escape import printable

if TYPE_CHECKING:
    from tqdm import tqdm

QUIET, NORMAL, VERBOSE = -1, 0, 1
COLOR_CHOICES = ("auto", "always", "never")

_level = NORMAL
_notes_seen: set[str] = set()
_bar: tqdm[Any] | None = None


def start(level: int) -> None:
    """A run begins: its verbosity, and no note said yet."""
    global _level
    _level = level
    forget()


def forget() -> None:
    _notes_seen.clear()


def is_quiet() -> bool:
    return _level <= QUIET


def _say(line: str) -> None:
    """A line on stderr; above the progress bar when one is drawn, so it is not torn. Escaped:
    the names in it are the dataset's, and a file named `\x1b[2J` must not clear the screen."""
    line = printable(line)
    if _bar is not None:
        _bar.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)


def note(message: str) -> None:
    """A one-time line: things the report cannot carry (a check skipped, and why)."""
    if not is_quiet() and message not in _notes_seen:
        _notes_seen.add(message)
        _say(f"poselint: note: {message}")


def verbose(message: str) -> None:
    """-v only: what the run is doing."""
    if _level >= VERBOSE:
        _say(f"poselint: {message}")


def error(message: str) -> None:
    """`poselint: error: ...` on stderr, escaped as every other line (it may quote a config
    key, a path or an exception about a dataset file), and said even with -q."""
    print(f"poselint: error: {printable(message)}", file=sys.stderr)


def info_stream() -> TextIO:
    """Where a summary line for the person at the terminal goes: stderr, or nowhere with -q."""
    return io.StringIO() if is_quiet() else sys.stderr


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, AttributeError):  # closed, or not a real stream
        return False


def colour_wanted(choice: str, stream: TextIO) -> bool:
    """--color: `always`, `never`, or `auto`: colour when `stream` is a terminal, unless
    NO_COLOR is set (no-color.org) or TERM=dumb. A pipe is coloured only by `always`."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return _is_terminal(stream) and os.environ.get("TERM") != "dumb"


def progress_wanted() -> bool:
    """A progress bar: only for a person watching stderr on a terminal, and not with -q."""
    return not is_quiet() and _is_terminal(sys.stderr)


def progress_begin(total: int, unit: str = "root") -> None:
    """A bar on stderr over `total` steps (dataset roots), each split named as it is checked;
    callers ask progress_wanted() first. It is erased when done: the report follows clean."""
    global _bar
    progress_end()
    if total < 1:
        return
    from tqdm import tqdm  # only on a terminal: a hook's run in a pipe never loads it

    _bar = tqdm(
        total=total, desc="checking", unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True
    )


def checking(path: Path) -> None:
    """The annotation file now being checked: on the bar, or as a line when there is none."""
    shown = printable(display_path(path, Path.cwd()))  # on the bar, not through _say
    if _bar is not None:
        _bar.set_postfix_str(shown)
    else:
        _say(f"poselint: checking {shown}")


def progress_advance() -> None:
    if _bar is not None:
        _bar.update(1)


def progress_end() -> None:
    """Erase the bar (also when the run stops on an error, before the error is said)."""
    global _bar
    if _bar is not None:
        _bar.close()
        _bar = None
