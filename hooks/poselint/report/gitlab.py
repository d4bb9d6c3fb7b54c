"""The gitlab format: a GitLab Code Quality report (artifacts: reports: codequality)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson

from poselint.diagnostics import Diagnostic
from poselint.report.common import fingerprint, pointed_message

_GITLAB_SEVERITY = {"error": "major", "warning": "minor"}


def to_gitlab(diagnostics: Sequence[Diagnostic], cwd: Path) -> bytes:
    """GitLab Code Quality: one issue per diagnostic, line 1 when the file has no position."""
    issues = [
        {
            "description": f"{d.code} {pointed_message(d)}",
            "check_name": d.code,
            "fingerprint": fingerprint(d, cwd),
            "severity": _GITLAB_SEVERITY[d.severity],
            "location": {"path": d.display_path(cwd), "lines": {"begin": d.line or 1}},
        }
        for d in diagnostics
    ]
    return orjson.dumps(issues, option=orjson.OPT_INDENT_2)
