"""One scan of a dataset root: what is in root/, images/ and annotations/, paired by split."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from poselint.splitnames import ANNOTATION_FILE

IMAGES = "images"
ANNOTATIONS = "annotations"


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    is_dir: bool


@dataclass(slots=True)
class SplitFiles:
    """The folder and annotation file of one split name, exactly as spelled on disk."""

    name: str
    images_dir: Path | None = None
    annotation_file: Path | None = None


@dataclass(slots=True)
class Layout:
    root: Path
    root_entries: list[Entry]
    image_entries: list[Entry] | None  # None: root/images is missing or not a folder
    annotation_entries: list[Entry] | None
    splits: dict[str, SplitFiles] = field(default_factory=dict)

    @property
    def images_dir(self) -> Path:
        return self.root / IMAGES

    @property
    def annotations_dir(self) -> Path:
        return self.root / ANNOTATIONS


def _entries(folder: Path) -> list[Entry] | None:
    try:
        with os.scandir(folder) as it:
            # is_dir() follows symlinks: DVC's symlink cache links count as what they point to.
            return sorted((Entry(e.name, _is_dir(e)) for e in it), key=lambda e: e.name)
    except (NotADirectoryError, FileNotFoundError):
        return None
    except OSError:
        return None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def scan_layout(root: Path, list_dir: Callable[[Path], list[Entry] | None] = _entries) -> Layout:
    """The layout of root; list_dir lists one folder (the disk, or DVC's manifest)."""
    root_entries = list_dir(root) or []
    layout = Layout(root, root_entries, list_dir(root / IMAGES), list_dir(root / ANNOTATIONS))
    for entry in layout.image_entries or []:
        if entry.is_dir:
            layout.splits.setdefault(entry.name, SplitFiles(entry.name)).images_dir = (
                root / IMAGES / entry.name
            )
    for entry in layout.annotation_entries or []:
        match = ANNOTATION_FILE.match(entry.name)
        if match:
            split = match["split"]
            layout.splits.setdefault(split, SplitFiles(split)).annotation_file = (
                root / ANNOTATIONS / entry.name
            )
    return layout
