"""Autofix, in the one pipeline: lint -> fixable diagnostics -> fixers plan -> apply ->
re-lint the changed root -> report what remains.

Each rule declares its fix in its `@rule(fix=Fix(applicability, "module:function"))`; the
safe ones run with --fix, the unsafe ones only with --unsafe-fixes too. A fixer gets the
linted dataset, the plan, and the diagnostics of its code; it only plans. `fix_dataset`
applies the plan (or, for --diff, only describes it). Every file write goes through
fsutil.atomic_write_bytes; every rename is atomic and ordered so that an interrupted run is
completed by the next (see renames.py).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from poselint.diagnostics import Diagnostic
from poselint.discovery import DiscoveryError
from poselint.engine import lint_dataset
from poselint.fix.document import detect_style, serialize_like, unsafe_to_rewrite
from poselint.fix.plan import Change, FixContext, Note, Plan, Rename
from poselint.fix.preview import FileDiff, file_diff
from poselint.fix.renames import TEMP_PREFIX, Leftovers, find_leftovers, names_in
from poselint.fsutil import (
    ChangedOnDisk,
    FileIdentity,
    LockBusy,
    atomic_write_bytes,
    dataset_lock,
    durable_rename,
    fault_point,
)
from poselint.load.dataset import Dataset
from poselint.load.document import BOM, deep_recursion, gc_paused
from poselint.load.layout import ANNOTATIONS, IMAGES
from poselint.rules import Rule
from poselint.sources.dvc.files import TrackedOutput, outputs_declared_in

__all__ = [
    "Change",
    "FixResult",
    "Note",
    "fix_dataset",
    "record_command",
    "tracked_by_dvc",
]


class FixError(Exception):
    """A planned step became impossible (the disk changed under us): stop, change no more."""


@dataclass
class FixResult:
    root: Path
    applied: bool  # False for --diff
    unsafe_fixes: bool = False  # the unsafe fixes run too
    changes: list[Change] = field(default_factory=list)
    refusals: list[Note] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # what remains
    diffs: list[FileDiff] = field(default_factory=list)  # --diff: each rewrite, as a diff
    # The dataset those diagnostics come from: a re-scan of the root once files changed.
    dataset: Dataset | None = None
    dvc_out: Path | None = None  # the DVC-tracked path holding the root
    # what records fixed data: `dvc add` for a .dvc file's output, `dvc commit` for a stage's
    # (DVC refuses `dvc add` on a path a dvc.yaml stage outputs)
    dvc_record: str = "dvc add"


def make_plan(
    dataset: Dataset,
    diagnostics: list[Diagnostic],
    rules: Sequence[Rule],
    unsafe_fixes: bool = False,
    preview: bool = False,
) -> Plan:
    """Each selected rule's fixer plans, in code order (renames last: see plan.py)."""
    plan = Plan(dataset.root, preview=preview)
    ctx = FixContext(dataset, plan)
    for rule in rules:
        if rule.fix is None or not rule.fix_applies(unsafe_fixes):
            continue
        mine = [d for d in diagnostics if d.code == rule.code and d.fixable]
        if mine:
            rule.fix.load()(ctx, mine)
    finalize(plan)
    return plan


def finalize(plan: Plan) -> None:
    """Turn each rewrite into the exact bytes to write, refusing what would not round-trip."""
    for rewrite in plan.rewrites.values():
        if not (rewrite.document_changed or rewrite.strip_bom):
            continue
        try:
            with rewrite.path.open("rb") as f:
                identity = FileIdentity.of(os.fstat(f.fileno()))
                data = f.read()
        except OSError as exc:
            plan.notes.append(Note(f"{{0}} not rewritten: {exc.strerror}", (rewrite.path,)))
            continue
        if rewrite.identity is not None and identity != rewrite.identity:
            # saved by another program since it was parsed: the edits are of an old version
            plan.refusals.append(
                Note(
                    "{0} changed while fixing (saved by another program): run --fix again",
                    (rewrite.path,),
                )
            )
            continue
        rewrite.identity = identity
        if plan.preview:
            rewrite.old_bytes = data
        if not rewrite.document_changed:
            rewrite.new_bytes = data[len(BOM) :] if data.startswith(BOM) else data
            continue
        reason = unsafe_to_rewrite(data)
        if reason is None and rewrite.document is not None:
            try:  # `check` accepts MAX_DEPTH levels: the stdlib encoder and `==` recurse
                with deep_recursion():
                    out = serialize_like(rewrite.document, detect_style(data))
                    with gc_paused():  # belt and braces: it reads back equal
                        same = orjson.loads(out) == rewrite.document
            except (RecursionError, orjson.JSONDecodeError):
                out, same = b"", False
                reason = "it nests too deep to write back"
            if same:
                rewrite.new_bytes = out
                continue
            reason = reason or "it would not read back equal"
        plan.notes.append(Note(f"{{0}} not rewritten: {reason}", (rewrite.path,)))


def previews(plan: Plan) -> list[FileDiff]:
    """--diff: each rewrite as a unified diff from the file as it is to what --fix writes."""
    out = []
    for rewrite in plan.rewrites.values():
        if rewrite.new_bytes is None or rewrite.old_bytes is None:
            continue
        old, rewrite.old_bytes = rewrite.old_bytes, None  # the diff is all that is kept
        diff = file_diff(rewrite.path, plan.renamed(rewrite.path), old, rewrite.new_bytes)
        if diff.changed or diff.error:  # a BOM removed alone changes no line
            out.append(diff)
    return out


def _rename(rename: Rename) -> None:
    if rename.dst.name in names_in(rename.dst.parent):
        raise FixError(f"{rename.dst} appeared while fixing; stopped before overwriting it")
    if rename.two_step:
        temp = rename.src.with_name(TEMP_PREFIX + rename.dst.name)
        durable_rename(rename.src, temp)
        durable_rename(temp, rename.dst)
    else:
        durable_rename(rename.src, rename.dst)


def unwritable(folders: Iterable[Path]) -> list[Note]:
    """A refusal for each folder a step would write in (temp file, rename) but cannot: found
    before the first change, so a read-only images/ does not stop the fix half-way."""
    notes = []
    for folder in sorted(set(folders)):
        if os.access(folder, os.W_OK | os.X_OK):
            continue
        try:
            read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        why = "Read-only file system" if read_only else "Permission denied"
        notes.append(Note(f"cannot write in {{0}}: {why}", (folder,)))
    return notes


def execute(plan: Plan, done: list[Change]) -> None:
    """Apply the plan in its safe order; `done` gets each change once it is on disk."""
    for rewrite in plan.rewrites.values():
        if rewrite.new_bytes is not None:
            atomic_write_bytes(rewrite.path, rewrite.new_bytes, expect=rewrite.identity)
            done.extend(rewrite.changes)
    for rename in (*plan.annotation_renames, *plan.image_renames):
        _rename(rename)
        done.append(Change("rename", "{0} -> {1}", (rename.src, rename.dst)))


def _clean_leftovers(leftovers: Leftovers, done: list[Change]) -> None:
    changes = iter(leftovers.changes)  # one per rename, then one per temp file
    for rename in leftovers.renames:
        _rename(rename)
        done.append(next(changes))
    for path in leftovers.temp_files:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        done.append(next(changes))
        fault_point()


def fix_dataset(
    dataset: Dataset,
    rules: Sequence[Rule],
    *,
    apply: bool,
    unsafe_fixes: bool = False,
    progress: bool = False,
    lock_timeout: float = 60.0,
) -> FixResult:
    """Lint, fix (the safe fixes; the unsafe ones too with unsafe_fixes), re-lint. With
    apply=False only describe the fixes.

    The fixers edit documents as written: a dataset opened compact is opened again exactly
    (the CLI opens it exact from the start, so nothing is parsed twice). --fix scans the root
    again once it holds the lock: another fix may have changed the layout while we waited."""
    root = dataset.root
    if not dataset.exact and dataset.source.in_workspace:
        dataset = Dataset(root, dataset.config, dataset.dvc_file, exact=True, source=dataset.source)
    result = FixResult(root, applied=apply, dataset=dataset, unsafe_fixes=unsafe_fixes)
    tracked = tracked_by_dvc(root, dataset.dvc_file)
    if tracked is not None:
        result.dvc_out, result.dvc_record = tracked.path, record_command(tracked)
    if not dataset.exists or not dataset.source.in_workspace:  # --no-pull: DVC's, not ours
        result.diagnostics = lint_dataset(dataset, rules, progress=progress)
        return result
    # images/ or annotations/ linking out of the root (PL102): a fix would write out there
    escaped = [p for p in (root / IMAGES, root / ANNOTATIONS) if p in dataset.layout.outside]
    if escaped:
        result.refusals += [
            Note("{0} is a symlink out of the dataset root: nothing fixed", (p,)) for p in escaped
        ]
        result.diagnostics = lint_dataset(dataset, rules, progress=progress)
        return result
    try:
        with dataset_lock(root, lock_timeout) if apply else contextlib.nullcontext():
            if apply:  # (nothing was parsed yet: this costs two folder listings)
                dataset = result.dataset = _fresh(dataset, exact=True)
            _fix_locked(dataset, rules, result, progress)
    except LockBusy as exc:
        result.refusals.append(Note(str(exc)))
        result.diagnostics = lint_dataset(dataset, rules, progress=progress)
    return result


def _fix_locked(
    dataset: Dataset,
    rules: Sequence[Rule],
    result: FixResult,
    progress: bool,
) -> None:
    apply, root = result.applied, dataset.root
    # What an interrupted run left is only touched when some fixer is selected.
    fixing = any(rule.fix_applies(result.unsafe_fixes) for rule in rules)
    leftovers = find_leftovers(root) if fixing else Leftovers()
    result.refusals += leftovers.refusals
    if apply and leftovers.changes:
        result.refusals += unwritable(leftovers.folders)
    if result.refusals:  # a human must look first: change nothing
        result.diagnostics = lint_dataset(dataset, rules, progress=progress)
        return
    if leftovers.changes and not apply:
        result.changes += leftovers.changes
    elif leftovers.changes:
        try:
            _clean_leftovers(leftovers, result.changes)
        except (FixError, OSError) as exc:
            result.refusals.append(Note(f"stopped: {exc}"))
            result.dataset = _fresh(dataset)
            result.diagnostics = lint_dataset(result.dataset, rules, progress=progress)
            return
        dataset = result.dataset = _fresh(dataset, exact=True)  # the fixers edit this one
    diagnostics = lint_dataset(dataset, rules, progress=progress)
    plan = make_plan(dataset, diagnostics, rules, result.unsafe_fixes, preview=not apply)
    result.notes += plan.notes
    if apply and not plan.refusals:
        plan.refusals += unwritable(plan.folders())
    if plan.refusals:  # change nothing at all rather than half the job
        result.refusals += plan.refusals
    elif not apply:
        result.changes += plan.changes()
        result.diffs = previews(plan)
    elif not plan.empty:
        try:
            execute(plan, result.changes)
        except (FixError, OSError, ChangedOnDisk) as exc:  # each step is atomic: the rest
            # is untouched
            result.refusals.append(Note(f"stopped: {exc}"))
        dataset = result.dataset = _fresh(dataset)
        diagnostics = lint_dataset(dataset, rules, progress=progress)
    result.diagnostics = diagnostics


def _fresh(dataset: Dataset, exact: bool = False) -> Dataset:
    """A new scan of the same root: the re-lint must see the disk, not the cached parse."""
    return Dataset(dataset.root, dataset.config, dataset.dvc_file, exact, dataset.source)


def tracked_by_dvc(root: Path, dvc_file: Path | None = None) -> TrackedOutput | None:
    """The DVC output that holds this root (the path to record with DVC), if any.

    Known from the .dvc file or dvc.yaml the root was reached through, or found as a sibling
    `<folder>.dvc` of the root or of a folder above it (up to the repository's top).
    """
    candidates = [dvc_file] if dvc_file is not None else []
    for folder in [root, *root.parents]:
        sibling = folder.parent / f"{folder.name}.dvc"
        if sibling.is_file():
            candidates.append(sibling)
        if (folder / ".git").exists() or (folder / ".dvc").is_dir():
            break
    for candidate in candidates:
        try:
            outs = outputs_declared_in(candidate)
        except DiscoveryError:
            continue
        for out in outs:
            if out.path == root or out.path in root.parents:
                return out
    return None


def record_command(out: TrackedOutput) -> str:
    return "dvc commit" if out.declared_in.name in ("dvc.yaml", "dvc.yml") else "dvc add"
