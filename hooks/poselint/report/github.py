"""The github format: workflow commands (`::error file=...,line=...::message`) that GitHub
Actions turns into annotations, inline in a pull request's diff when the line is known."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from poselint.diagnostics import Diagnostic
from poselint.report.escape import printable


def escape(text: str, prop: bool = False) -> str:
    """A workflow command's message (prop: a property value, where `:` and `,` end it)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def write_commands(
    shown: Sequence[Diagnostic], hidden: Counter[str], out: TextIO, *, cwd: Path, limit: int
) -> None:
    for d in shown:
        title = escape(f"poselint {d.code}", prop=True)
        where = escape(printable(d.display_path(cwd)), prop=True)
        if d.line is not None:  # the annotation shows inline in the pull request's diff
            where += f",line={d.line},col={d.column}"
        pointer = f" (at {d.pointer})" if d.pointer else ""
        out.write(
            f"::{d.severity} file={where},title={title}::"
            f"{escape(printable(d.code + ' ' + d.message + pointer))}\n"
        )
    for code, n in hidden.items():
        note = f"{code}: {n} more not shown (max_per_rule={limit}; --format json lists them)"
        out.write(f"::notice title=poselint::{note}\n")
