"""PL201: rename split variants (images/Train, person_keypoints_Train.json) to canonical names.

Order, so that a run killed anywhere is completed by the next one:
1. the annotation file is rewritten (file_name prefixes) under its old name, atomically;
2. annotations/person_keypoints_<Variant>.json is renamed;
3. images/<Variant>/ is renamed.
After each step the layout still names the remaining work (PL201 finds what is left).
A case-only rename goes through `.poselint-rename-to-<target>`; a run killed between its two
halves leaves that name behind, and the next run completes it first (`find_leftovers`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from poselint.diagnostics import Diagnostic
from poselint.fix.document import strip_split_prefix
from poselint.fix.plan import Change, FixContext, Note, Rename
from poselint.fsutil import WRITE_TEMP_PREFIX, WRITE_TEMP_SUFFIX
from poselint.load.dataset import Split
from poselint.load.layout import ANNOTATIONS, IMAGES
from poselint.load.splitnames import annotation_file_name

TEMP_PREFIX = ".poselint-rename-to-"


def names_in(folder: Path) -> set[str]:
    """Exact names in a folder: on a case-insensitive filesystem exists('train') would also
    be true for 'Train', so existence is always decided from a listing."""
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


def fix_split_names(ctx: FixContext, diagnostics: list[Diagnostic]) -> None:
    ds, plan = ctx.dataset, ctx.plan
    named = {d.path for d in diagnostics}
    existing = {
        "annotation": {e.name for e in ds.layout.annotation_entries or []},
        "images": {e.name for e in ds.layout.image_entries or []},
    }
    claimed: dict[Path, Path] = {}  # target -> its source, to catch Train and TRAIN -> train
    by_name = {s.name: s for s in ds.splits}
    for split in ds.splits:
        target = split.canonical
        if target is None or target == split.name:
            continue
        places = (
            ("annotation", split.files.annotation_file, annotation_file_name(target)),
            ("images", split.files.images_dir, target),
        )
        for kind, src, dst_name in places:
            if src is None or src not in named:
                continue
            dst = src.with_name(dst_name)
            if dst_name in existing[kind]:
                plan.refusals.append(
                    Note(
                        "{1} already exists next to {0}: merge them or remove one by hand, "
                        "then run --fix again",
                        (src, dst),
                    )
                )
            elif dst in claimed:
                plan.refusals.append(
                    Note("both {0} and {1} would become {2}: keep one", (claimed[dst], src, dst))
                )
            else:
                claimed[dst] = src
                rename = Rename(src, dst, two_step=src.name.lower() == dst_name.lower())
                if kind == "annotation":
                    plan.annotation_renames.append(rename)
                else:
                    plan.image_renames.append(rename)
                    _plan_prefix_strip(ctx, split, by_name, target)


def _plan_prefix_strip(
    ctx: FixContext, split: Split, by_name: dict[str, Split], target: str
) -> None:
    old = split.name
    if old in names_in(ctx.dataset.layout.images_dir / old):
        return  # a real images/Train/Train/ folder: the prefix is a folder, not a repeat
    # The file that lists this folder's images: its own, or one already renamed to the target.
    doc_split = split if split.files.annotation_file else by_name.get(target)
    if doc_split is None:
        return
    rewrite = ctx.rewrite_of(doc_split)
    if rewrite is None or rewrite.document is None:
        return
    n = strip_split_prefix(rewrite.document, old)
    if n:
        rewrite.document_changed = True
        rewrite.changes.append(
            Change(
                "rewrite",
                f"{n} file_name value{'s' * (n != 1)} in {{0}} (dropped the '{old}/' prefix)",
                (rewrite.path,),
            )
        )


@dataclass
class Leftovers:
    """What an interrupted run left behind in images/ and annotations/."""

    renames: list[Rename] = field(default_factory=list)  # temp name -> its target
    temp_files: list[Path] = field(default_factory=list)
    refusals: list[Note] = field(default_factory=list)

    @property
    def folders(self) -> list[Path]:
        """Every folder the clean-up writes in."""
        out = [p.parent for p in self.temp_files]
        for r in self.renames:
            out += [r.src.parent, r.dst.parent]
        return out

    @property
    def changes(self) -> list[Change]:
        out = [
            Change("rename", "{0} -> {1} (completing an interrupted rename)", (r.src, r.dst))
            for r in self.renames
        ]
        out += [
            Change("remove", "{0} (temp file of an interrupted write)", (p,))
            for p in self.temp_files
        ]
        return out


def find_leftovers(root: Path) -> Leftovers:
    found = Leftovers()
    for folder in (root / IMAGES, root / ANNOTATIONS):
        names = names_in(folder)
        for name in sorted(names):
            if name.startswith(TEMP_PREFIX) and len(name) > len(TEMP_PREFIX):
                target = name[len(TEMP_PREFIX) :]
                src, dst = folder / name, folder / target
                if target in names:
                    found.refusals.append(
                        Note(
                            "{0} is left from an interrupted rename but {1} exists too: "
                            "compare them and keep one by hand",
                            (src, dst),
                        )
                    )
                else:
                    found.renames.append(Rename(src, dst))
            elif (
                folder.name == ANNOTATIONS
                and name.startswith(WRITE_TEMP_PREFIX)  # ours alone: never a user's file
                and name.endswith(WRITE_TEMP_SUFFIX)
                and (folder / name).is_file()
                and not (folder / name).is_symlink()
            ):
                found.temp_files.append(folder / name)
    return found
