"""Running poselint in-process on hostile input and checking the invariants that always hold."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from poselint.cli import main


def check_invariants(root: Path, *extra: str) -> list[dict[str, object]]:
    """Exit code 0/1/2, no exception, JSON output that parses, no internal error (PL000)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", str(root), "--format", "json", *extra])
    assert code in (0, 1, 2), (code, err.getvalue())
    if code == 2:
        return []
    records = json.loads(out.getvalue())
    assert isinstance(records, list)
    internal = [r for r in records if r["code"] == "PL000"]
    assert not internal, internal
    return records
