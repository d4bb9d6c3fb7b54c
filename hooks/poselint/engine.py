"""Run the rule registry over loaded datasets: the middle of the pipeline."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from poselint.config import Config, ConfigError
from poselint.dataset import Dataset, Split
from poselint.diagnostics import Diagnostic
from poselint.rules import REGISTRY, Finding, Rule

INTERNAL_ERROR = "PL000"


@dataclass(frozen=True)
class Selection:
    select: tuple[str, ...]
    ignore: tuple[str, ...]

    def enabled(self, rule: Rule) -> bool:
        if any(rule.code.startswith(p) for p in self.ignore):
            return False
        if rule.opt_in:  # opt-in rules need their exact code selected
            return rule.code in self.select
        return not self.select or any(rule.code.startswith(p) for p in self.select)


def select_rules(
    config: Config, select: Sequence[str] | None = None, ignore: Sequence[str] = ()
) -> list[Rule]:
    """Rules to run: --select replaces the configured select, --ignore adds to it."""
    chosen = tuple(p.upper() for p in (select if select else config.select))
    ignored = tuple(p.upper() for p in (*config.ignore, *ignore))
    for prefix in (*chosen, *ignored, *config.severity):
        if not any(r.code.startswith(prefix) for r in REGISTRY) and prefix != "ALL":
            raise ConfigError(f"unknown rule selector '{prefix}'")
    if "ALL" in chosen:
        chosen = tuple(r.code for r in REGISTRY)
    selection = Selection(chosen, ignored)
    return [r for r in REGISTRY if selection.enabled(r)]


@dataclass(frozen=True, slots=True)
class _Crash(Finding):
    """A rule raised: reported as PL000 instead of a traceback, and the other rules go on."""


def _run(rule: Rule, subject: Dataset | Split) -> Iterator[Finding]:
    try:
        yield from rule.check(subject)
    except Exception as exc:  # a rule bug must never become a traceback for the user
        yield _Crash(
            f"internal error in {rule.code} ({type(exc).__name__}: {exc}); other rules still "
            "ran. Please report this with the file.",
            fixable=False,
        )


def lint_dataset(ds: Dataset, rules: Sequence[Rule], progress: bool = False) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    severity = ds.config.severity

    def emit(rule: Rule, findings: Iterable[Finding], default: Path) -> None:
        for f in findings:
            internal = isinstance(f, _Crash)
            out.append(
                Diagnostic(
                    code=INTERNAL_ERROR if internal else rule.code,
                    message=f.message,
                    path=f.path or default,
                    pointer=f.pointer,
                    severity="error" if internal else severity.get(rule.code, rule.severity),
                    fixable=rule.fixable if f.fixable is None else f.fixable,
                )
            )

    for rule in rules:
        if rule.scope == "dataset":
            emit(rule, _run(rule, ds), ds.root)
    for split in ds.splits:
        if split.files.annotation_file is None:
            continue
        if progress:
            print(f"poselint: checking {split.files.annotation_file}", file=sys.stderr)
        for rule in rules:
            if rule.scope == "file" or (rule.scope == "document" and split.document is not None):
                emit(rule, _run(rule, split), split.files.annotation_file)
    return out
