"""What a fix run will do: its steps, kept in the order that survives an interruption.

Fixers only *plan* (they never touch the disk), so `--diff` and `--fix` share every decision;
`execute` then applies the plan: leftovers of an interrupted run, JSON rewrites, annotation
file renames, image folder renames. Each step is atomic and detectable as done, so a run
killed at any point is completed by the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from poselint.fsutil import FileIdentity
from poselint.load.dataset import Dataset, Split

PAST = {"rename": "renamed", "fix": "fixed", "remove": "removed", "rewrite": "rewrote"}


@dataclass(frozen=True)
class Change:
    """One line of output: `verb` + `detail`, where {0}, {1} are paths shown relative."""

    verb: str  # a key of PAST
    detail: str
    paths: tuple[Path, ...] = ()

    def line(self, applied: bool, show: Callable[[Path], str]) -> str:
        text = self.detail.format(*(show(p) for p in self.paths))
        return f"{PAST[self.verb]} {text}" if applied else f"would {self.verb} {text}"


@dataclass(frozen=True)
class Note:
    """A refusal or a skipped fix, with {0}, {1} paths shown relative like Change."""

    detail: str
    paths: tuple[Path, ...] = ()

    def text(self, show: Callable[[Path], str]) -> str:
        return self.detail.format(*(show(p) for p in self.paths))


@dataclass
class Rename:
    src: Path
    dst: Path
    # Case-only renames (Train -> train) go through a temporary name: on a case-insensitive
    # filesystem a direct rename is a no-op or an error.
    two_step: bool = False


@dataclass
class Rewrite:
    """One atomic rewrite of an annotation file, with everything the fixers changed in it."""

    path: Path
    document: dict[str, Any] | None = None  # the parsed document, edited in place
    document_changed: bool = False
    strip_bom: bool = False
    new_bytes: bytes | None = None  # set by finalize(): exactly what will be written
    old_bytes: bytes | None = None  # the file as finalize() read it, kept for --diff only
    # The file as parsed (or as finalize() read it): replaced only while it is still that.
    identity: FileIdentity | None = None
    changes: list[Change] = field(default_factory=list)


@dataclass
class Plan:
    root: Path
    rewrites: dict[Path, Rewrite] = field(default_factory=dict)
    annotation_renames: list[Rename] = field(default_factory=list)
    image_renames: list[Rename] = field(default_factory=list)
    # A refusal stops every change to this dataset: "change nothing" beats a half-fix.
    refusals: list[Note] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # fixes skipped, and why
    preview: bool = False  # --diff: finalize() keeps each file's old bytes to diff against

    def rewrite(self, path: Path) -> Rewrite:
        return self.rewrites.setdefault(path, Rewrite(path))

    def changes(self) -> list[Change]:
        out: list[Change] = []
        for rewrite in self.rewrites.values():
            if rewrite.new_bytes is not None:
                out.extend(rewrite.changes)
        for r in (*self.annotation_renames, *self.image_renames):
            out.append(Change("rename", "{0} -> {1}", (r.src, r.dst)))
        return out

    def renamed(self, path: Path) -> Path:
        """The name an annotation file will have once the plan is applied."""
        return next((r.dst for r in self.annotation_renames if r.src == path), path)

    def folders(self) -> list[Path]:
        """Every folder a step writes in: temp files and renames."""
        out = [r.path.parent for r in self.rewrites.values() if r.new_bytes is not None]
        for r in (*self.annotation_renames, *self.image_renames):
            out += [r.src.parent, r.dst.parent]
        return out

    @property
    def empty(self) -> bool:
        return not self.changes()


@dataclass
class FixContext:
    """What a fixer sees: the linted dataset and the plan it adds steps to."""

    dataset: Dataset
    plan: Plan

    def rewrite_of(self, split: Split) -> Rewrite | None:
        """The pending rewrite of a split's annotation file; None when it cannot be rewritten."""
        path = split.files.annotation_file
        loaded = split.loaded
        if path is None or loaded is None or loaded.document is None:
            return None
        assert loaded.exact, "a rewrite needs the document as written: Dataset(exact=True)"
        # An exact load checks for duplicate keys at any size (loader.duplicate_keys).
        reason = None
        if loaded.duplicate_keys is None:
            reason = "it could not be checked for duplicate keys (nested too deep)"
        elif loaded.duplicate_keys:
            reason = "it has duplicate keys (PL305); resolve them first"
        if reason is not None:
            note = Note(f"{{0}} not rewritten: {reason}", (path,))
            if note not in self.plan.notes:
                self.plan.notes.append(note)
            return None
        rewrite = self.plan.rewrite(path)
        rewrite.document = loaded.document
        rewrite.identity = loaded.identity
        return rewrite
