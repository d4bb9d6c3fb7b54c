"""What files a split's image folder holds: one walk of the disk, or DVC's manifest.

Image-reference rules compare `images[].file_name` against this index instead of asking
the filesystem per name, so Linux and case-insensitive macOS agree (exact-case match) and
each folder is listed once.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from poselint.fsutil import Confinement
from poselint.sources.dvc.config import confinement

FileKind = Literal["file", "dangling", "other"]  # other: FIFO, device, socket, loop

_MAX_ENTRIES = 20_000_000  # symlinked aliases multiply a walk; stop far beyond any dataset


@dataclass(frozen=True, slots=True)
class FileInfo:
    kind: FileKind
    md5: str | None = None  # known without reading when the index comes from DVC


_FILE = FileInfo("file")  # frozen: one instance serves every plain file of a walk


@dataclass
class ImageIndex:
    folder: Path
    files: dict[str, FileInfo] = field(default_factory=dict)  # posix path under the folder
    source: Literal["disk", "dvc"] = "disk"
    # Entries the walk did not enter or follow, with the reason: posix path -> why.
    # Lets a rule explain a missing file_name below a symlink loop or an escaping link.
    notes: dict[str, str] = field(default_factory=dict)

    @cached_property
    def not_files(self) -> set[str]:
        """The entries that are not (links to) regular files: dangling, FIFOs, folders..."""
        return {
            key for key, info in self.files.items() if info is not _FILE and info.kind != "file"
        }


class _LinkResolver:
    """Real paths of symlink targets, cheaply: DVC's symlink cache type makes every image a
    link into a few hundred cache folders, so the folders' real paths are cached and each
    link costs a readlink and an lstat instead of os.stat plus os.path.realpath."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def resolve(self, link: str) -> tuple[str, os.stat_result]:
        """The link's real target and its stat; OSError when it dangles or loops."""
        target = os.path.join(os.path.dirname(link), os.readlink(link))  # absolute text wins
        folder, name = os.path.split(target)
        if name not in ("", ".", ".."):
            real_folder = self._folders.get(folder)
            if real_folder is None:
                real_folder = self._folders[folder] = os.path.realpath(folder)
            candidate = os.path.join(real_folder, name)
            st = os.lstat(candidate)
            if not stat.S_ISLNK(st.st_mode):
                return candidate, st
        # a link to a link: let the OS walk the chain (ELOOP on a loop)
        return os.path.realpath(link), os.stat(link)

    def kind(self, entry: os.DirEntry[str], bounds: Confinement) -> tuple[FileKind | None, str]:
        """Classify a symlink by what it points to (never opening it): (kind, note).

        kind None means "a folder inside the root": walk into it.
        """
        try:
            target, st = self.resolve(entry.path)
        except OSError as exc:  # missing target, or a loop of links (ELOOP)
            return "dangling", exc.strerror or "broken symlink"
        if stat.S_ISDIR(st.st_mode):
            if bounds.allows_folder(target):
                return None, ""
            return "other", "symlink to a folder outside the dataset root (not followed)"
        if not stat.S_ISREG(st.st_mode):
            return "other", "symlink to something that is not a regular file"
        if bounds.allows_file(target):
            return "file", ""
        return "other", "symlink to a file outside the dataset root and its DVC cache"


def scan_images(folder: Path, bounds: Confinement | None = None) -> ImageIndex:
    """List every entry below `folder` (images/<split>/) in one os.scandir walk.

    Symlinked folders are followed while they stay inside the dataset root (`bounds`,
    default: two levels up) and do not point back into their own path (a loop). Symlinked
    files are followed when their target is inside the root or is an object of the DVC cache
    its repository configures (DVC's symlink cache type), not a look-alike elsewhere.
    Nothing is opened: FIFOs and devices are recorded as "other".
    `pack` packs exactly the files this lists, so `check` and `pack` see the same dataset.
    """
    index = ImageIndex(folder)
    bounds = bounds or confinement(folder.parent.parent)
    escape = bounds.outside(folder, folder=True)
    if escape is not None:  # images/<split> itself is a link out of the root
        index.notes["."] = escape
        return index
    try:
        top = os.stat(folder)
    except OSError:
        return index
    # Each pending folder carries the (device, inode) of itself and its ancestors: a link
    # back into that chain is a loop. Two links to the same folder are both listed.
    links = _LinkResolver()
    pending: list[tuple[str, str, frozenset[tuple[int, int]]]] = [
        (os.fspath(folder), "", frozenset({(top.st_dev, top.st_ino)}))
    ]
    while pending:
        path, prefix, ancestors = pending.pop()
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError as exc:
            index.notes[prefix.rstrip("/") or "."] = f"cannot list folder: {exc.strerror}"
            continue
        # Regular files, nearly every entry, in one comprehension (from the directory entry's
        # type: no stat); the rest one by one below.
        try:
            regular = [entry.is_file(follow_symlinks=False) for entry in entries]
        except OSError:  # no type in the entry and the lstat failed: sort them one by one
            regular = [False] * len(entries)
        index.files.update(
            dict.fromkeys(
                [prefix + e.name for e, r in zip(entries, regular, strict=True) if r], _FILE
            )
        )
        for entry in (e for e, r in zip(entries, regular, strict=True) if not r):
            name = prefix + entry.name
            try:
                if entry.is_symlink():
                    kind, note = links.kind(entry, bounds)
                    if kind is not None:
                        index.files[name] = FileInfo(kind)
                        if note:
                            index.notes[name] = note
                        continue
                    st = os.stat(entry.path)
                elif entry.is_dir(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                else:
                    index.files[name] = FileInfo("other")
                    continue
            except OSError as exc:  # vanished or unreadable mid-walk
                index.files[name] = FileInfo("dangling")
                index.notes[name] = exc.strerror or str(exc)
                continue
            key = (st.st_dev, st.st_ino)
            if key in ancestors:  # a symlink (or bind mount) back into its own path
                index.notes[name] = "symlink loop (points back to a folder above it)"
            elif len(index.files) + len(pending) > _MAX_ENTRIES:
                index.notes[name] = f"not listed: over {_MAX_ENTRIES:,} entries in the walk"
            else:
                pending.append((entry.path, name + "/", ancestors | {key}))
    return index
