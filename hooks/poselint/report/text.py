"""Print diagnostics: text (ruff style), json (one array), github (workflow commands), and
the CI documents of formats.py (sarif, gitlab, junit).

html goes to --output (htmlreport.py); the terminal then gets text.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import orjson

from poselint.diagnostics import Diagnostic, displayable, totals


def located(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics with the line and column of their pointers: each file named is read
    once, for the diagnostics being reported only (not the capped-away ones)."""
    from dataclasses import replace

    from poselint.load.document import read_identified
    from poselint.report.positions import locate

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


def as_json_records(diagnostics: Sequence[Diagnostic], cwd: Path) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    for d in diagnostics:
        record: dict[str, object] = {
            "code": d.code,
            "severity": d.severity,
            "path": d.display_path(cwd),
            "message": displayable(d.message),
            "fixable": d.fixable,
            "fix": None if d.fix is None else {"applicability": d.fix},
        }
        if d.pointer is not None:
            record["pointer"] = displayable(d.pointer)
        if d.line is not None:
            record["line"], record["column"] = d.line, d.column
        records.append(record)
    return records


def to_json(diagnostics: Sequence[Diagnostic], cwd: Path) -> bytes:
    return orjson.dumps(as_json_records(diagnostics, cwd), option=orjson.OPT_INDENT_2)


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


# Characters that end or rewrite a terminal line (C0/C1 controls, Unicode line breaks), lone
# surrogates (bytes of non-UTF-8 file names), and the invisible format characters (Cf): a
# bidi control redraws the rest of the line backwards ('x\u202egpj.exe' shows as 'xexe.jpg').
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NON_ASCII_OR_CONTROL = re.compile("[^\x20-\x7e]")  # then the Unicode category decides
_HIDDEN = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xD800 <= code <= 0xDFFF:
        return displayable(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _visible(char: str) -> str:
    return _escape(char) if unicodedata.category(char) in _HIDDEN else char


def printable(text: str) -> str:
    """Dataset text (paths, messages) on one text line, shown as stored: control and format
    characters escaped as repr does (`\\n`, `\\u202e`), so a file name cannot start a line
    of its own (a forged `::error`) nor reorder the line it is on."""
    if text.isascii():
        return text if text.isprintable() else _UNPRINTABLE.sub(lambda m: _escape(m.group()), text)
    return _NON_ASCII_OR_CONTROL.sub(lambda m: _visible(m.group()), text)


def _location(d: Diagnostic, cwd: Path) -> str:
    """`path:line:column` where the pointer landed (editors jump there), else `path:pointer`."""
    if d.line is not None:
        return printable(f"{d.display_path(cwd)}:{d.line}:{d.column}")
    return printable(d.display_path(cwd) + (f":{d.pointer}" if d.pointer else ""))


def _escape_github(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


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
    unsafe_fixes: bool = False,
) -> None:
    """positions: add line and column to pointer diagnostics, read from the files named, for
    a report on the workspace as it is (not one about another git revision or DVC's copy).
    unsafe_fixes: `[*]` and the summary count unsafe fixes as what --fix repairs."""
    locate = located if positions else list
    if fmt == "json":
        out.write(to_json(locate(diagnostics), cwd).decode() + "\n")
        return
    if fmt in ("sarif", "gitlab", "junit"):
        from poselint.report import ci as formats

        write = {"sarif": formats.to_sarif, "gitlab": formats.to_gitlab, "junit": formats.to_junit}
        out.write(write[fmt](locate(diagnostics), cwd).decode().rstrip("\n") + "\n")
        return
    if fmt == "html":  # the HTML goes to --output (htmlreport.py); the terminal gets text
        fmt = "text"
    if statistics:
        from poselint.engine import statistics as rule_statistics  # engine imports the rules

        out.write(rule_statistics(diagnostics, unsafe_fixes))
        return
    shown, hidden = capped(diagnostics, limit)
    for d in locate(shown):
        if fmt == "github":
            title = _escape_github(f"poselint {d.code}", prop=True)
            where = _escape_github(printable(d.display_path(cwd)), prop=True)
            if d.line is not None:  # the annotation shows inline in the pull request's diff
                where += f",line={d.line},col={d.column}"
            pointer = f" (at {d.pointer})" if d.pointer else ""
            out.write(
                f"::{d.severity} file={where},title={title}::"
                f"{_escape_github(printable(d.code + ' ' + d.message + pointer))}\n"
            )
        else:
            mark = " [*]" if d.fix == "safe" or (d.fix and unsafe_fixes) else ""
            level = "" if d.severity == "error" else " (warning)"
            pointer = f" (at {d.pointer})" if d.line is not None else ""
            out.write(
                f"{_location(d, cwd)}: {d.code}{level}{mark} {printable(d.message + pointer)}\n"
            )
    for code, n in hidden.items():
        note = f"{code}: {n} more not shown (max_per_rule={limit}; --format json lists them)"
        out.write(f"::notice title=poselint::{note}\n" if fmt == "github" else f"{note}\n")
    if quiet or fmt == "github":
        return
    found = totals(diagnostics)
    errors, warnings, fixable, unsafe = found.errors, found.warnings, found.fixable, found.unsafe
    if not diagnostics:
        out.write("All checks passed!\n")
        return
    line = (
        f"Found {errors} error{'s' * (errors != 1)} and {warnings} warning{'s' * (warnings != 1)}"
    )
    if fixable or unsafe:
        from poselint.report.hints import fix_summary

        line += f" ({fix_summary(fixable, unsafe, unsafe_fixes)})"
    out.write(line + ".\n")
