"""The text format, ruff style: `path:line:col: CODE message`, then a summary line.

On a terminal (console.colour_wanted) the parts are coloured through termcolor; the words
are the same either way: only escape sequences are added, after the text is made printable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from poselint.diagnostics import Diagnostic, totals
from poselint.report.escape import printable
from poselint.report.hints import fix_summary

# paint(text, colour, bold) -> the text, maybe wrapped in escape sequences
Paint = Callable[[str, str | None, bool], str]


def _plain(text: str, colour: str | None = None, bold: bool = False) -> str:
    return text


def painter(colour: bool) -> Paint:
    """How text output is coloured: not at all, or through termcolor."""
    if not colour:
        return _plain
    # Imported only when colour is on: a hook's run in a pipe never loads it.
    from termcolor import colored

    def paint(text: str, colour: str | None = None, bold: bool = False) -> str:
        # force_color: console.colour_wanted already weighed --color, NO_COLOR and the tty
        return colored(text, colour, attrs=["bold"] if bold else None, force_color=True)

    return paint


def location(d: Diagnostic, cwd: Path) -> str:
    """`path:line:column` where the pointer landed (editors jump there), else `path:pointer`."""
    if d.line is not None:
        return printable(f"{d.display_path(cwd)}:{d.line}:{d.column}")
    return printable(d.display_path(cwd) + (f":{d.pointer}" if d.pointer else ""))


def write_lines(
    shown: Sequence[Diagnostic],
    hidden: Counter[str],
    out: TextIO,
    *,
    cwd: Path,
    limit: int,
    paint: Paint = _plain,
    unsafe_fixes: bool = False,
) -> None:
    """One line per diagnostic kept, then one per rule whose findings were capped.
    unsafe_fixes: `[*]` marks the unsafe fixes too, as what --fix then repairs."""
    for d in shown:
        error = d.severity == "error"
        code = paint(d.code, "red" if error else "yellow", True)
        level = "" if error else paint(" (warning)", "yellow", False)
        fixed = d.fix == "safe" or (d.fix is not None and unsafe_fixes)
        mark = paint(" [*]", "cyan", False) if fixed else ""
        pointer = f" (at {d.pointer})" if d.line is not None else ""
        where = paint(location(d, cwd), None, True)
        out.write(f"{where}: {code}{level}{mark} {printable(d.message + pointer)}\n")
    for code, n in hidden.items():
        out.write(f"{code}: {n} more not shown (max_per_rule={limit}; --format json lists them)\n")


def write_summary(
    diagnostics: Sequence[Diagnostic],
    out: TextIO,
    paint: Paint = _plain,
    unsafe_fixes: bool = False,
) -> None:
    """`All checks passed!` or `Found 2 errors and 1 warning (1 fixable: ...).`"""
    if not diagnostics:
        out.write(paint("All checks passed!", "green", True) + "\n")
        return
    found = totals(diagnostics)
    errors, warnings, fixable, unsafe = found.errors, found.warnings, found.fixable, found.unsafe
    line = (
        f"Found {errors} error{'s' * (errors != 1)} and {warnings} warning{'s' * (warnings != 1)}"
    )
    if fixable or unsafe:
        line += f" ({fix_summary(fixable, unsafe, unsafe_fixes)})"
    out.write(paint(line + ".", None, True) + "\n")
