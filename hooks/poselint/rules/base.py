"""What a rule is, and the decorator that declares one."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from poselint.diagnostics import Applicability, Diagnostic, Severity

if TYPE_CHECKING:  # the fix code is imported only when a fix runs (Fix.fixer)
    from poselint.fix.plan import FixContext

    Fixer = Callable[[FixContext, list[Diagnostic]], None]

# dataset: once per root, sees the layout and every split.
# file: once per split that has an annotation file (parsed or not).
# document: once per split whose annotation file parsed to a JSON object.
Scope = Literal["dataset", "file", "document"]


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found; the engine turns it into a Diagnostic."""

    message: str
    pointer: str | None = None
    path: Path | None = None  # default: the annotation file (file/document) or the root
    fixable: bool | None = None  # False: no fix for this one, though its rule has a fix


@dataclass(frozen=True, slots=True)
class FindingBatch:
    """`count` findings of one rule, formatted lazily: the engine formats only as many as it
    keeps (max_findings_per_file) and counts the rest. Vectorised rules over millions of
    keypoints yield one batch instead of millions of Findings."""

    count: int
    findings: Iterator[Finding]


@dataclass(frozen=True)
class Fix:
    """A rule's automatic fix, as ruff models one: its applicability and where its fixer is.

    safe: `--fix` applies it; it loses nothing a person made. unsafe: only with
    `--unsafe-fixes`; it discards or reinterprets data someone may want back. `fixer` is
    "module:function", imported when a fix runs, so linting never loads the fix code."""

    applicability: Applicability
    fixer: str
    why: str  # why this applicability: `poselint rule CODE` and docs/rules.md say it

    def load(self) -> Fixer:
        module, _, name = self.fixer.partition(":")
        found: Fixer = getattr(importlib.import_module(module), name)
        return found


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    what: str
    why: str
    scope: Scope
    check: Callable[[Any], Iterable[Finding | FindingBatch]]
    fix: Fix | None = None
    severity: Severity = "error"
    opt_in: bool = False  # runs only when selected by its exact code

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    def fix_applies(self, unsafe_fixes: bool) -> bool:
        """Whether `--fix` (with or without --unsafe-fixes) runs this rule's fixer."""
        return self.fix is not None and (unsafe_fixes or self.fix.applicability == "safe")


def rule(
    code: str,
    name: str,
    *,
    what: str,
    why: str,
    scope: Scope,
    fix: Fix | None = None,
    severity: Severity = "error",
    opt_in: bool = False,
) -> Callable[[Callable[[Any], Iterable[Finding | FindingBatch]]], Rule]:
    def wrap(check: Callable[[Any], Iterable[Finding | FindingBatch]]) -> Rule:
        return Rule(code, name, what, why, scope, check, fix, severity, opt_in)

    return wrap
