"""DvcSession: what one run opens and learns about DVC, dropped when the run ends.

A run (`poselint check`, `poselint diff`) makes one session and hands it to the sources it
opens; nothing is kept in module state, so two runs in one process (the tests, an editor
integration) never see each other's repos, statuses or parsed files.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from poselint.report.hints import dvc_install
from poselint.sources.dvc.config import cache_dir, check_config_files
from poselint.sources.dvc.files import TrackedOutput, output_holding, outputs_declared_in
from poselint.sources.errors import DvcError

if TYPE_CHECKING:
    from poselint.sources.dvc.remote import DvcReader
    from poselint.sources.dvc.status import WorkspaceChanges


class DvcSession:
    """Per DVC root: its cache folder, one dvc Repo, one reader for --no-pull; per DVC file:
    its outputs, parsed once; per tracked root: what `dvc data status` said (PL108 and PL413
    share it)."""

    def __init__(self) -> None:
        self._repos: dict[Path, Any] = {}
        self._caches: dict[Path, Path] = {}
        self._outputs: dict[Path, list[TrackedOutput]] = {}
        self.statuses: dict[tuple[Path, Path], WorkspaceChanges | None] = {}
        self.readers: dict[Path, DvcReader] = {}

    def outputs(self, declared_in: Path) -> list[TrackedOutput]:
        """The outputs a .dvc file or dvc.yaml declares (files.outputs_declared_in), once."""
        if declared_in not in self._outputs:
            self._outputs[declared_in] = outputs_declared_in(declared_in)
        return self._outputs[declared_in]

    def output_of(self, root: Path, declared_in: Path) -> TrackedOutput | None:
        """The output of declared_in that is root or holds it."""
        return output_holding(root, self.outputs(declared_in))

    def cache_dir(self, dvc_root: Path) -> Path:
        """The local cache of dvc_root (config.cache_dir), its config files read once."""
        if dvc_root not in self._caches:
            self._caches[dvc_root] = cache_dir(dvc_root)
        return self._caches[dvc_root]

    def repo(self, dvc_root: Path) -> Any:
        """dvc's Repo for dvc_root, opened once per session (dvc imported on first use)."""
        if dvc_root not in self._repos:
            self._repos[dvc_root] = _open_repo(dvc_root)
        return self._repos[dvc_root]

    def close(self) -> None:
        for opened in self._repos.values():
            with contextlib.suppress(Exception):
                opened.close()
        self._repos.clear()
        self._caches.clear()
        self._outputs.clear()
        self.statuses.clear()
        self.readers.clear()

    def __enter__(self) -> DvcSession:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _open_repo(dvc_root: Path) -> Any:
    check_config_files(dvc_root)
    try:
        from dvc.repo import Repo  # dvc is slow to import: only when DVC itself must answer
    except ImportError as exc:
        raise DvcError(f"dvc is not installed where poselint runs: {dvc_install()}") from exc
    return Repo(os.fspath(dvc_root))
