"""What a fix run prints: one line per change, refusals, and the `dvc add` to run."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from poselint.diagnostics import display_path
from poselint.fix import FixResult
from poselint.fix.preview import FileDiff
from poselint.report.escape import printable

__all__ = ["FixResult", "print_dvc_hint", "print_fix_lines", "shown"]


def shown(path: Path, base: Path) -> str:
    """Relative to `base` when below it (like diagnostics), absolute otherwise."""
    return display_path(path, base)


def print_fix_lines(result: FixResult, out: TextIO, base: Path) -> None:
    def show(p: Path) -> str:
        return shown(p, base)

    # each line is one line of text output: dataset names in it escaped as in the report
    for change in result.changes:
        out.write(printable(change.line(result.applied, show)) + "\n")
    for diff in result.diffs:
        for line in diff_lines(diff, show):
            out.write(printable(line) + "\n")
    for note in result.notes:
        out.write(printable(f"note: {note.text(show)}") + "\n")
    # A step that failed half-way (a disk error) leaves the changes already listed above.
    made = "only the changes above were made" if result.applied and result.changes else None
    for refusal in result.refusals:
        line = (
            f"refused to fix {show(result.root)}: {refusal.text(show)} "
            f"({made or 'nothing changed'})"
        )
        out.write(printable(line) + "\n")


def diff_lines(diff: FileDiff, show: Callable[[Path], str]) -> list[str]:
    """One rewrite as `diff -u` shows it, with a line before it when it is pretty-printed and
    one after it counting the changed lines not shown."""
    if diff.error is not None:
        return [f"note: no diff of {show(diff.path)}: {diff.error}"]
    lines = []
    if diff.pretty:
        lines.append(
            f"{show(diff.path)} is one long line: the diff shows it pretty-printed "
            "(--fix keeps its layout)"
        )
    lines += [f"--- {show(diff.path)}", f"+++ {show(diff.new_path)}", *diff.lines]
    if diff.hidden:
        lines.append(
            f"... and {diff.hidden:,} more changed lines of {show(diff.path)}, not shown "
            f"(of {diff.changed:,})"
        )
    return lines


def print_dvc_hint(result: FixResult, out: TextIO, base: Path) -> None:
    """End with the command that records the fixed data, which git alone does not see."""
    if result.dvc_out is None or not result.changes:
        return
    target = shlex.quote(shown(result.dvc_out, base))
    if result.applied:
        line = f"{target} is tracked by DVC: run `{result.dvc_record} {target}` to record the fixes"
    else:
        line = f"{target} is tracked by DVC: after --fix, run `{result.dvc_record} {target}`"
    out.write(printable(line) + "\n")
