"""PL2xx: split names are exactly the lowercase allowed names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from poselint.load.dataset import Dataset, Split
from poselint.load.splitnames import DEFAULT_SUBSET, annotation_file_name, variant_of
from poselint.rules.base import Finding, Fix, rule


def _shown(name: str, images: bool) -> str:
    return f"images/{name}/" if images else f"annotations/{annotation_file_name(name)}"


def _places(split: Split) -> Iterator[tuple[Path, bool]]:
    """Each on-disk place that spells the split's name, and whether it is the image folder."""
    if split.files.images_dir:
        yield split.files.images_dir, True
    if split.files.annotation_file:
        yield split.files.annotation_file, False


@rule(
    "PL201",
    "split-name-variant",
    what="A split spelt as a variant of an allowed name (`Train`, `Validation`, `VAL`, `testing`, "
    "COCO's `train2017`, `val2017`).",
    why="CVAT exports `Train`/`Validation`; code that opens `train`/`val` then finds nothing, "
    "or only on case-insensitive laptops.",
    scope="dataset",
    fix=Fix(
        "safe",
        "poselint.fix.renames:fix_split_names",
        why="Renames lose nothing and one rename undoes each; the fix refuses when the target "
        "name exists or two variants would merge.",
    ),
)
def split_name_variant(ds: Dataset) -> Iterator[Finding]:
    for split in ds.splits:
        target = split.canonical
        if target is None or target == split.name:
            continue
        for path, images in _places(split):
            yield Finding(
                f"split '{split.name}' should be '{target}': rename "
                f"{_shown(split.name, images)} -> {_shown(target, images)}",
                path=path,
            )


@rule(
    "PL202",
    "default-subset",
    what="A `default` subset, which CVAT writes when a task has no subset assigned.",
    why="The data was exported before being split; it would not be used for train or val.",
    scope="dataset",
)
def default_subset(ds: Dataset) -> Iterator[Finding]:
    for split in ds.splits:
        if split.name.lower() == DEFAULT_SUBSET:
            for path, images in _places(split):
                yield Finding(
                    f"{_shown(split.name, images)} is CVAT's 'default' subset: assign each task "
                    f"a subset ({', '.join(ds.config.splits)}) in CVAT and export again",
                    path=path,
                )


@rule(
    "PL203",
    "unknown-split",
    what="A split name that is neither allowed nor a known variant of one.",
    why="Nothing reads it: the images and labels in it are dead weight or a misnamed split.",
    scope="dataset",
)
def unknown_split(ds: Dataset) -> Iterator[Finding]:
    for split in ds.splits:
        if split.canonical is None and split.name.lower() != DEFAULT_SUBSET:
            known = variant_of(split.name)
            why = f" ('{known}' is not in splits)" if known else ""
            for path, images in _places(split):
                yield Finding(
                    f"{_shown(split.name, images)}: '{split.name}' is not an allowed split{why}; "
                    f"allowed: {', '.join(ds.config.splits)}",
                    path=path,
                )
