"""Run the rule registry over loaded datasets: the middle of the pipeline."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poselint import console
from poselint.config import Config, ConfigError
from poselint.diagnostics import Diagnostic
from poselint.load.dataset import Dataset, Split
from poselint.load.document import Loaded
from poselint.rules import REGISTRY, Finding, FindingBatch, Rule

if TYPE_CHECKING:
    from poselint.cache import Cache, Hit
    from poselint.cachekey import SplitKey

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
    from_config = {*(() if select else config.select), *config.ignore, *config.severity}

    def refuse(selector: str, why: str) -> ConfigError:
        where = f"{config.source}: [tool.poselint] " if config.source else ""
        origin = where if selector in {p.upper() for p in from_config} else ""
        return ConfigError(f"{origin}{why}")

    for prefix in (*chosen, *ignored):
        if not any(r.code.startswith(prefix) for r in REGISTRY) and prefix != "ALL":
            raise refuse(prefix, f"unknown rule selector '{prefix}'")
    # Ignoring ALL would switch every rule off and pass any dataset: choose rules with select.
    if "ALL" in ignored:
        raise refuse("ALL", "'ALL' cannot be ignored: it would switch every rule off")
    for code in config.severity:  # applied per rule: a prefix would be silently unused
        if not any(r.code == code for r in REGISTRY):
            raise refuse(code, f"'severity' key '{code}' is not a rule code")
    if "ALL" in chosen:
        chosen = tuple(r.code for r in REGISTRY)
    selection = Selection(chosen, ignored)
    return [r for r in REGISTRY if selection.enabled(r)]


@dataclass(frozen=True, slots=True)
class _Crash(Finding):
    """A rule raised: reported as PL000 instead of a traceback, and the other rules go on."""


def _run(rule: Rule, subject: Dataset | Split) -> Iterator[Finding | FindingBatch]:
    try:
        yield from rule.check(subject)
    except Exception as exc:  # a rule bug must never become a traceback for the user
        yield _Crash(
            f"internal error in {rule.code} ({type(exc).__name__}: {exc}); other rules still "
            "ran. Please report this with the file.",
            fixable=False,
        )


def _within_cap(results: Iterable[Finding | FindingBatch], cap: int) -> tuple[list[Finding], int]:
    """At most `cap` findings (0: all), and how many more there were, formatting none of them:
    a raw CVAT export at COCO scale has two million stale outside points."""
    kept: list[Finding] = []
    hidden = 0
    for result in results:
        if isinstance(result, FindingBatch):
            room = result.count if not cap else max(0, min(result.count, cap - len(kept)))
            kept.extend(itertools.islice(result.findings, room))
            hidden += result.count - room
        elif isinstance(result, _Crash) or not cap or len(kept) < cap:
            kept.append(result)
        else:
            hidden += 1
    return kept, hidden


def statistics(diagnostics: Iterable[Diagnostic], unsafe_fixes: bool = False) -> str:
    """--statistics: per code, the true number of findings (the capped ones included), its
    name and severity, `[*]` when `--fix` repairs it; one line each, like `ruff --statistics`."""
    counts: Counter[str] = Counter()
    severities: dict[str, str] = {}
    fixable: set[str] = set()
    for d in diagnostics:
        counts[d.code] += d.count
        severities.setdefault(d.code, d.severity)
        if d.fix == "safe" or (d.fix == "unsafe" and unsafe_fixes):
            fixable.add(d.code)
    names = {r.code: r.name for r in REGISTRY} | {INTERNAL_ERROR: "internal-error"}
    return "".join(
        f"{n:>7}\t{code}\t{'[*] ' if code in fixable else ''}{names.get(code, '?')}"
        f"\t{severities[code]}\n"
        for code, n in sorted(counts.items())
    )


def lint_dataset(
    ds: Dataset, rules: Sequence[Rule], progress: bool = False, cache: Cache | None = None
) -> list[Diagnostic]:
    """Every rule over the dataset; with a cache, the file- and document-scope diagnostics
    of each unchanged split come from it (cache.py says what a key holds)."""
    out: list[Diagnostic] = []
    severity = ds.config.severity
    cap = ds.config.max_findings_per_file

    def emit(rule: Rule, results: Iterable[Finding | FindingBatch], default: Path) -> None:
        findings, hidden = _within_cap(results, cap)
        level = severity.get(rule.code, rule.severity)
        fix = rule.fix.applicability if rule.fix is not None else None
        for f in findings:
            internal = isinstance(f, _Crash)
            out.append(
                Diagnostic(
                    code=INTERNAL_ERROR if internal else rule.code,
                    message=f.message,
                    path=f.path or default,
                    pointer=f.pointer,
                    severity="error" if internal else level,
                    fix=fix if f.fixable is not False else None,
                )
            )
        if hidden:
            out.append(
                Diagnostic(
                    code=rule.code,
                    message=f"... and {hidden:,} more {rule.code} findings here, not listed "
                    f"(max_findings_per_file = {cap})",
                    path=default,
                    severity=level,
                    fix=fix,
                    count=hidden,
                )
            )

    hits: dict[int, Hit] = {}
    keys: dict[int, SplitKey] = {}
    if cache is not None:
        hits, keys = _from_cache(ds, rules, cache)
    shown = {i: _show_cached(ds.splits[i], hit) for i, hit in hits.items()}
    stand_ins = {i: before for i, before in shown.items() if before is not None}
    for rule in rules:
        if rule.scope == "dataset":
            emit(rule, _run(rule, ds), ds.root)
    for i, before in stand_ins.items():  # whatever else asks for the document parses it
        for name in set(vars(ds.splits[i])) - before:
            delattr(ds.splits[i], name)
    for i, split in enumerate(ds.splits):
        if split.files.annotation_file is None:
            continue
        if i in hits:
            out.extend(hits[i].diagnostics)
            continue
        if progress:
            console.checking(split.files.annotation_file)  # on the progress bar
        start = len(out)
        for rule in rules:
            if rule.scope == "file" or (rule.scope == "document" and split.document is not None):
                emit(rule, _run(rule, split), split.files.annotation_file)
        if cache is not None and i in keys:
            cache.put(keys[i], out[start:], split)
    return out


def _from_cache(
    ds: Dataset, rules: Sequence[Rule], cache: Cache
) -> tuple[dict[int, Hit], dict[int, SplitKey]]:
    """Each split's key, and the cached diagnostics of those whose key has an entry."""
    from poselint.cachekey import split_key  # only a cached run (not --fix, --no-cache)

    hits: dict[int, Hit] = {}
    keys: dict[int, SplitKey] = {}
    for i, split in enumerate(ds.splits):
        key = split_key(split, ds.config, rules, cache.code, cache.now_ns)
        if key is None:
            continue
        keys[i] = key
        hit = cache.get(key)
        if hit is not None:
            hits[i] = hit
            assert split.files.annotation_file is not None
            cache.hits.append(split.files.annotation_file)
    return hits, keys


def _show_cached(split: Split, hit: Hit) -> set[str] | None:
    """Give dataset-scope rules the part of a cached split's document they read (its
    categories, PL412) in place of a parse; returns the attributes held before, so that what
    the stand-in gave rise to is dropped after them (None: the split is parsed already)."""
    assert split.files.annotation_file is not None
    before = set(vars(split))
    if "loaded" in before:
        return None
    value = {"categories": hit.categories} if hit.is_object else None
    split.loaded = Loaded(split.files.annotation_file, value=value)
    return before
