"""PL1xx: the folder layout root/{images/<split>/, annotations/person_keypoints_<split>.json}."""

from __future__ import annotations

from collections.abc import Iterator

from poselint.load.dataset import Dataset
from poselint.load.layout import ANNOTATIONS, IMAGES
from poselint.load.splitnames import ANNOTATION_FILE, annotation_file_name
from poselint.rules.base import Finding, rule


@rule(
    "PL100",
    "dataset-missing",
    what="A dataset root named in the config or tracked by a `.dvc` file is not in the workspace.",
    why="A dataset that is not there cannot be checked; passing silently would let anything in.",
    scope="dataset",
)
def dataset_missing(ds: Dataset) -> Iterator[Finding]:
    if ds.exists:
        return
    yield Finding(f"dataset root is not in the workspace: {ds.source.missing_hint()}")


@rule(
    "PL101",
    "root-stray-entry",
    what="An entry in the dataset root other than `images/` and `annotations/`.",
    why="Loaders glob the root; stray files and folders hide missed renames and get trained on.",
    scope="dataset",
)
def root_stray_entry(ds: Dataset) -> Iterator[Finding]:
    for entry in ds.layout.root_entries:
        if entry.name in (IMAGES, ANNOTATIONS) and entry.is_dir:
            continue
        kind = "folder" if entry.is_dir else "file"
        hint = (
            f"rename it to '{entry.name.lower()}'"
            if entry.name.lower() in (IMAGES, ANNOTATIONS)
            else "move it out of the dataset root"
        )
        yield Finding(
            f"unexpected {kind} '{entry.name}' in the dataset root: {hint}",
            path=ds.root / entry.name,
        )


@rule(
    "PL102",
    "root-missing-folder",
    what="The dataset root lacks `images/` or `annotations/`.",
    why="Training code expects both folders at fixed paths.",
    scope="dataset",
)
def root_missing_folder(ds: Dataset) -> Iterator[Finding]:
    if not ds.exists:
        return
    present = {
        IMAGES: ds.layout.image_entries is not None,
        ANNOTATIONS: ds.layout.annotation_entries is not None,
    }
    for folder, ok in present.items():
        escape = ds.layout.outside.get(ds.root / folder)
        if escape is not None:
            yield Finding(
                f"'{folder}/' in the dataset root: {escape}; move the folder itself into the root",
                path=ds.root / folder,
            )
        elif not ok:
            yield Finding(
                f"missing folder '{folder}/' in the dataset root: create it", path=ds.root / folder
            )


@rule(
    "PL103",
    "images-stray-entry",
    what="A file directly in `images/`, which must hold only split folders.",
    why="Images outside a split folder belong to no split and are silently never used.",
    scope="dataset",
)
def images_stray_entry(ds: Dataset) -> Iterator[Finding]:
    for entry in ds.layout.image_entries or []:
        escape = ds.layout.outside.get(ds.layout.images_dir / entry.name)
        if escape is not None:
            yield Finding(
                f"'{entry.name}' in images/: {escape}; move the split folder itself into images/",
                path=ds.layout.images_dir / entry.name,
            )
        elif not entry.is_dir:
            yield Finding(
                f"unexpected file '{entry.name}' in images/: move it into images/<split>/",
                path=ds.layout.images_dir / entry.name,
            )


@rule(
    "PL104",
    "annotations-stray-entry",
    what="An entry in `annotations/` not named `person_keypoints_<split>.json`.",
    why="Only the per-split keypoint files are read; anything else is a leftover or a typo.",
    scope="dataset",
)
def annotations_stray_entry(ds: Dataset) -> Iterator[Finding]:
    for entry in ds.layout.annotation_entries or []:
        if not ANNOTATION_FILE.match(entry.name):
            yield Finding(
                f"unexpected {'folder' if entry.is_dir else 'file'} '{entry.name}' in "
                "annotations/: only person_keypoints_<split>.json belongs here",
                path=ds.layout.annotations_dir / entry.name,
            )


def _renamed_halves(ds: Dataset) -> set[str]:
    """Splits whose missing half is a misspelt twin: images/Train/ beside
    annotations/person_keypoints_train.json is one cause (PL201: rename it), not a split
    without labels plus labels without images."""
    halves: set[str] = set()
    for split in ds.splits:
        if split.canonical is None or split.canonical == split.name:
            continue
        for twin in ds.splits:
            if twin is split or twin.canonical != split.canonical:
                continue
            if split.files.images_dir and twin.files.annotation_file and not twin.files.images_dir:
                halves.update((split.name, twin.name))
            if (
                split.files.annotation_file
                and twin.files.images_dir
                and not (twin.files.annotation_file)
            ):
                halves.update((split.name, twin.name))
    return halves


@rule(
    "PL105",
    "split-missing-annotations",
    what="`images/<split>/` exists but `annotations/person_keypoints_<split>.json` does not.",
    why="A split without labels is either an unfinished export or a forgotten rename.",
    scope="dataset",
)
def split_missing_annotations(ds: Dataset) -> Iterator[Finding]:
    renamed = _renamed_halves(ds)
    for split in ds.splits:
        if split.name in renamed:
            continue
        if split.files.images_dir and not split.files.annotation_file:
            # a misspelt split is named as PL201 will rename it, not as it is spelt now
            yield Finding(
                f"images/{split.name}/ has no annotation file: add "
                f"annotations/{annotation_file_name(split.canonical or split.name)} or remove "
                "the folder",
                path=split.files.images_dir,
            )


@rule(
    "PL106",
    "split-missing-images",
    what="`annotations/person_keypoints_<split>.json` exists but `images/<split>/` does not.",
    why="Every image reference of that split will fail to load at training time.",
    scope="dataset",
)
def split_missing_images(ds: Dataset) -> Iterator[Finding]:
    renamed = _renamed_halves(ds)
    for split in ds.splits:
        if split.name in renamed:
            continue
        if split.files.annotation_file and not split.files.images_dir:
            yield Finding(
                f"annotations/{split.files.annotation_file.name} has no image folder: "
                f"add images/{split.canonical or split.name}/",
                path=split.files.annotation_file,
            )


@rule(
    "PL107",
    "required-split-missing",
    what="A split listed in `required_splits` (default `train`, `val`) is absent.",
    why="Training needs a train split and evaluation a val split.",
    scope="dataset",
)
def required_split_missing(ds: Dataset) -> Iterator[Finding]:
    if not ds.exists:
        return
    # A misspelt split (Train) counts as present: PL201 already names the one rename needed.
    present = {split.canonical for split in ds.splits}
    for required in ds.config.required_splits:
        if required not in present:
            yield Finding(
                f"required split '{required}' is missing: add images/{required}/ and "
                f"annotations/{annotation_file_name(required)}",
                path=ds.root,
            )
