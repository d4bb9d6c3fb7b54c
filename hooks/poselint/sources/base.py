"""Where a dataset root's files come from: the DataSource protocol every source implements.

A Dataset reads only through its source: the layout scan, each annotation file, each image
listing. Rules ask the source what DVC knows (stale files, recorded md5s), so no rule asks
where the data is. The sources:

    workspace.WorkspaceSource   the files on disk, confined to the root and the DVC cache
    dvc.remote.DvcSource        --no-pull: the root as DVC records it (cache, else remote)
    git.GitTreeSource           `poselint diff`: a git-tracked root at a commit

A new source implements DataSource; ListedSource gives the layout and image listings of a
source that knows its files from a list (a manifest, a git tree) and reads them one by one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from poselint.load.document import Loaded, parse_bytes
from poselint.load.imageindex import FileInfo, ImageIndex
from poselint.load.layout import IMAGES, Entry, Layout, scan_layout
from poselint.sources.dvc.files import not_pulled_hint

if TYPE_CHECKING:
    from poselint.sources.dvc.status import WorkspaceChanges


class DataSource(Protocol):
    """A dataset root's files, wherever they are. Reads never raise: a file that cannot be
    had is a reason (a str), which the loader turns into a diagnostic."""

    root: Path

    @property
    def in_workspace(self) -> bool:
        """The files are the workspace's own: what --fix may change, what positions point at."""
        ...

    @property
    def exists(self) -> bool:
        """The root is there to be read (PL100 when not)."""
        ...

    @property
    def error(self) -> str | None:
        """Why the root could not be opened at all (DVC or git said why); None when it could."""
        ...

    @property
    def records_md5s(self) -> bool:
        """DVC records the md5 of the root's files: PL413 compares them without reading."""
        ...

    def scan(self) -> Layout:
        """One scan of root/, images/ and annotations/ (a fresh one on each call)."""
        ...

    def read(self, path: Path, max_bytes: int) -> bytes | str:
        """A file's bytes, at most max_bytes, or why they cannot be had."""
        ...

    def load(
        self, path: Path, max_bytes: int, duplicate_key_check_bytes: int, exact: bool
    ) -> Loaded:
        """An annotation file, read and parsed (load/document.py)."""
        ...

    def image_index(self, folder: Path) -> ImageIndex:
        """Every file under images/<split>/."""
        ...

    def missing_hint(self) -> str:
        """What to do when the root is not there (PL100)."""
        ...

    def workspace_changes(self) -> WorkspaceChanges | None:
        """How the files differ from what DVC records (PL108); None: nothing to compare
        (not DVC-tracked, not there, or read from DVC itself)."""
        ...

    def recorded_md5s(self) -> dict[str, str] | None:
        """md5 per posix path under the root that DVC records for files still as recorded,
        beyond what image_index carries; None when there are none."""
        ...

    def size(self, path: Path) -> int | None:
        """A file's size, when it can be had without reading it; else None."""
        ...

    def content_md5(self, path: Path) -> str | None:
        """The md5 of a file's content, reading it (PL413 on files DVC has no md5 for)."""
        ...


def missing_hint(root: Path, dvc_file: Path | None, error: str | None) -> str:
    if dvc_file is None:
        return "check the path in [tool.poselint] datasets"
    return not_pulled_hint(root, dvc_file, error)


@dataclass
class ListedSource:
    """A root known from a file list (a DVC `.dir` manifest, a git tree), not from the disk.

    The layout and image listings come from the list (nothing read); files are read one by
    one (`read`, for a subclass) and parsed by the same loader as on disk.
    """

    root: Path
    dvc_file: Path | None = None  # the .dvc file (or dvc.yaml) tracking the root
    files: dict[str, str] = field(default_factory=dict)  # posix path under root -> md5
    error: str | None = None

    @property
    def in_workspace(self) -> bool:
        return False

    @property
    def exists(self) -> bool:
        return self.error is None

    @property
    def records_md5s(self) -> bool:
        return True

    def _under(self, folder: Path) -> str | None:
        try:
            rel = folder.relative_to(self.root).as_posix()
        except ValueError:
            return None
        return "" if rel == "." else rel + "/"

    @cached_property
    def _tree(self) -> dict[str, dict[str, Any]]:
        """One pass over the list: folder prefix -> {child name: md5, or {} if a folder},
        for the root and its folders (images/, annotations/) and for each images/<split>/,
        whose whole subtree is flattened into posix paths for the ImageIndex."""
        tree: dict[str, dict[str, Any]] = defaultdict(dict)
        for rel, md5 in self.files.items():
            top, sep, rest = rel.partition("/")
            tree[""][top] = {} if sep else md5
            if not sep:
                continue
            name, sep, deeper = rest.partition("/")
            tree[top + "/"][name] = {} if sep else md5
            if sep and top == IMAGES:
                tree[f"{top}/{name}/"][deeper] = md5
        return tree

    def list_dir(self, folder: Path) -> list[Entry] | None:
        prefix = self._under(folder)
        if prefix is None or (prefix and prefix not in self._tree):
            return None  # like a missing folder on disk
        children = self._tree.get(prefix, {})
        return sorted(
            (Entry(name, isinstance(v, dict)) for name, v in children.items()),
            key=lambda e: e.name,
        )

    def scan(self) -> Layout:
        return scan_layout(self.root, self.list_dir)

    def read(self, path: Path, max_bytes: int) -> bytes | str:
        return self.error or "not readable from this source"

    def load(
        self, path: Path, max_bytes: int, duplicate_key_check_bytes: int, exact: bool
    ) -> Loaded:
        data = self.read(path, max_bytes)
        if isinstance(data, str):
            return Loaded(path, read_error=data)
        return parse_bytes(path, data, duplicate_key_check_bytes, exact)

    def image_index(self, folder: Path) -> ImageIndex:
        index = ImageIndex(folder, source="dvc")
        prefix = self._under(folder)
        if not prefix:
            return index
        for rel, md5 in self._tree.get(prefix, {}).items():
            if not isinstance(md5, dict):
                index.files[rel] = FileInfo("file", md5=md5 or None)
        return index

    def missing_hint(self) -> str:
        return missing_hint(self.root, self.dvc_file, self.error)

    def workspace_changes(self) -> WorkspaceChanges | None:
        return None  # what DVC records is what is read: nothing to compare

    def recorded_md5s(self) -> dict[str, str] | None:
        return None  # image_index carries them

    def size(self, path: Path) -> int | None:
        return None  # no file is read to compare sizes: only the md5s listed

    def content_md5(self, path: Path) -> str | None:
        return None
