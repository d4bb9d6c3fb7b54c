"""One scan of a dataset root: what is in root/, images/ and annotations/, paired by split."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from poselint.fsutil import Confinement
from poselint.load.splitnames import ANNOTATION_FILE

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
    # Symlinks out of the root (and the DVC cache), with why: images/, annotations/ or a
    # split folder listed here is treated as absent, so no rule reads it and no fix writes
    # there. PL102/PL103 report them.
    outside: dict[Path, str] = field(default_factory=dict)

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


def confined_lister(
    bounds: Confinement, outside: dict[Path, str]
) -> Callable[[Path], list[Entry] | None]:
    """_entries through the confinement: a folder whose real path is out of the root is not
    listed (None, as if missing), and each symlinked entry that leads out is noted."""

    def list_dir(folder: Path) -> list[Entry] | None:
        escape = bounds.outside(folder, folder=True)
        if escape is not None:
            outside[folder] = escape
            return None
        entries = _entries(folder)
        for entry in entries or []:
            path = folder / entry.name
            if os.path.islink(path):
                escape = bounds.outside(path, folder=entry.is_dir)
                if escape is not None:
                    outside[path] = escape
        return entries

    return list_dir


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def scan_layout(
    root: Path,
    list_dir: Callable[[Path], list[Entry] | None] | None = None,
    bounds: Confinement | None = None,
) -> Layout:
    """The layout of root; list_dir lists one folder (DVC's manifest; default: the disk,
    confined to the root and the DVC cache by `bounds`, which must then be given)."""
    outside: dict[Path, str] = {}
    if list_dir is None:
        assert bounds is not None, "a disk scan is confined: sources/workspace.py"
        list_dir = confined_lister(bounds, outside)
    root_entries = list_dir(root) or []
    layout = Layout(root, root_entries, list_dir(root / IMAGES), list_dir(root / ANNOTATIONS))
    layout.outside = outside
    for entry in layout.image_entries or []:
        if entry.is_dir and root / IMAGES / entry.name not in outside:
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
