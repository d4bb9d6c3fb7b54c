"""The workspace: a dataset root's files on disk, every read confined to the root and the
DVC cache (fsutil.Confinement), DVC's record of a tracked root compared by `dvc data status`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from poselint.fsutil import Confinement, read_regular_file
from poselint.load.document import Loaded, load_annotation_file
from poselint.load.imageindex import ImageIndex, scan_images
from poselint.load.layout import Layout, scan_layout
from poselint.sources.base import missing_hint
from poselint.sources.dvc.cache import md5_of_file
from poselint.sources.dvc.config import confinement
from poselint.sources.dvc.session import DvcSession
from poselint.sources.dvc.status import WorkspaceChanges, workspace_changes, workspace_md5s


@dataclass(eq=False)
class WorkspaceSource:
    """The root on disk. dvc_file: the .dvc file (or dvc.yaml) tracking it, if any; session:
    the run's DVC session (a private one when none is given)."""

    root: Path
    dvc_file: Path | None = None
    session: DvcSession = field(default_factory=DvcSession)
    # Where reads may go: the root and the DVC cache.
    bounds: Confinement = field(init=False)

    def __post_init__(self) -> None:
        self.bounds = confinement(self.root, self.session.cache_dir)

    @property
    def in_workspace(self) -> bool:
        return True

    @property
    def exists(self) -> bool:
        return self.root.is_dir()

    @property
    def error(self) -> str | None:
        return None

    @property
    def records_md5s(self) -> bool:
        return self.dvc_file is not None

    def scan(self) -> Layout:
        return scan_layout(self.root, bounds=self.bounds)

    def read(self, path: Path, max_bytes: int) -> bytes | str:
        escape = self.bounds.outside(path, folder=False)
        if escape is not None:
            return escape
        try:
            return read_regular_file(path, max_bytes)
        except OSError as exc:
            return str(exc.strerror or exc)

    def load(
        self, path: Path, max_bytes: int, duplicate_key_check_bytes: int, exact: bool
    ) -> Loaded:
        escape = self.bounds.outside(path, folder=False)
        if escape is not None:  # PL301: a link out of the root is never opened
            return Loaded(path, read_error=escape, exact=exact)
        return load_annotation_file(path, max_bytes, duplicate_key_check_bytes, exact)

    def image_index(self, folder: Path) -> ImageIndex:
        return scan_images(folder, self.bounds)

    def missing_hint(self) -> str:
        return missing_hint(self.root, self.dvc_file, None)

    def workspace_changes(self) -> WorkspaceChanges | None:
        if self.dvc_file is None or not self.exists:
            return None
        return workspace_changes(self.session, self.root, self.dvc_file)

    def recorded_md5s(self) -> dict[str, str] | None:
        if self.dvc_file is None or not self.exists:
            return None
        return workspace_md5s(self.session, self.root, self.dvc_file)

    def size(self, path: Path) -> int | None:
        try:
            return os.stat(path).st_size
        except OSError:
            return None

    def content_md5(self, path: Path) -> str | None:
        return md5_of_file(path)
