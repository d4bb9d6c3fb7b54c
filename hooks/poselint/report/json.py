"""The json format: every diagnostic (no cap), one array; also the records `diff` embeds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson

from poselint.diagnostics import Diagnostic, displayable


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
