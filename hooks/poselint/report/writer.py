"""The one entry of every report format: `write_report(diagnostics, fmt, out, ...)`.

Document formats (json, sarif, gitlab, junit) get every diagnostic, located; line formats
(text, github) get at most max_per_rule per rule, located after the cap so that only the
lines shown cost a read. html goes to --output (report/html/); the terminal then gets text.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from poselint.diagnostics import Diagnostic
from poselint.engine import statistics as rule_statistics
from poselint.report import github, text
from poselint.report.common import capped, located

DOCUMENTS = ("json", "sarif", "gitlab", "junit")  # each a module here with its to_<fmt>


def document_writer(fmt: str) -> Callable[[Sequence[Diagnostic], Path], bytes]:
    """`to_<fmt>` of report/<fmt>.py, imported when asked for: a text run loads none of them
    (sarif imports the rule registry, junit the XML library)."""
    writer: Callable[[Sequence[Diagnostic], Path], bytes]
    writer = getattr(importlib.import_module(f"poselint.report.{fmt}"), f"to_{fmt}")
    return writer


def write_report(
    diagnostics: Sequence[Diagnostic],
    fmt: str,
    out: TextIO,
    *,
    cwd: Path,
    limit: int,
    quiet: bool = False,
    statistics: bool = False,
    positions: bool = False,
    colour: bool = False,
    unsafe_fixes: bool = False,
) -> None:
    """positions: add line and column to pointer diagnostics, read from the files named, for
    a report on the workspace as it is (not one about another git revision or DVC's copy).
    colour: colour the text format (console.colour_wanted decides); no other format is.
    unsafe_fixes: `[*]` and the summary count unsafe fixes as what --fix repairs."""
    locate = located if positions else list
    if fmt in DOCUMENTS:
        document = document_writer(fmt)(locate(diagnostics), cwd)
        out.write(document.decode().rstrip("\n") + "\n")
        return
    if statistics:
        out.write(rule_statistics(diagnostics, unsafe_fixes))
        return
    shown, hidden = capped(diagnostics, limit)
    if fmt == "github":
        github.write_commands(locate(shown), hidden, out, cwd=cwd, limit=limit)
        return
    paint = text.painter(colour)  # text, and html's terminal summary
    text.write_lines(
        locate(shown), hidden, out, cwd=cwd, limit=limit, paint=paint, unsafe_fixes=unsafe_fixes
    )
    if not quiet:
        text.write_summary(diagnostics, out, paint, unsafe_fixes)
