"""The one value every stage passes on: a diagnostic about a file or folder."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


def json_pointer(*parts: str | int) -> str:
    """RFC 6901 pointer from parts: ("annotations", 17) -> "/annotations/17"."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    path: Path
    pointer: str | None = None
    severity: Severity = "error"
    fixable: bool = False

    def with_severity(self, severity: Severity) -> Diagnostic:
        return self if severity == self.severity else replace(self, severity=severity)

    def display_path(self, cwd: Path | None = None) -> str:
        """Relative to the cwd when below it, absolute otherwise (the CLI contract)."""
        cwd = cwd or Path.cwd()
        try:
            return self.path.relative_to(cwd).as_posix() or "."
        except ValueError:
            rel = os.path.relpath(self.path, cwd)
            return self.path.as_posix() if rel.startswith("..") else Path(rel).as_posix()

    def sort_key(self) -> tuple[str, str, str]:
        return (str(self.path), self.pointer or "", self.code)
