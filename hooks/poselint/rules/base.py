"""What a rule is, and the decorator that declares one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from poselint.diagnostics import Severity

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
    fixable: bool | None = None  # default: the rule's own flag


@dataclass(frozen=True, slots=True)
class FindingBatch:
    """`count` findings of one rule, formatted lazily: the engine formats only as many as it
    keeps (max_findings_per_file) and counts the rest. Vectorised rules over millions of
    keypoints yield one batch instead of millions of Findings."""

    count: int
    findings: Iterator[Finding]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    what: str
    why: str
    scope: Scope
    check: Callable[[Any], Iterable[Finding | FindingBatch]]
    fixable: bool = False
    severity: Severity = "error"
    opt_in: bool = False  # runs only when selected by its exact code


def rule(
    code: str,
    name: str,
    *,
    what: str,
    why: str,
    scope: Scope,
    fixable: bool = False,
    severity: Severity = "error",
    opt_in: bool = False,
) -> Callable[[Callable[[Any], Iterable[Finding | FindingBatch]]], Rule]:
    def wrap(check: Callable[[Any], Iterable[Finding | FindingBatch]]) -> Rule:
        return Rule(code, name, what, why, scope, check, fixable, severity, opt_in)

    return wrap
