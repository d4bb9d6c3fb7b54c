"""A tracked root in the workspace against what DVC records: the stale check (PL108), and the
md5s DVC records for the files that have not changed since (PL413 reads no image for them)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from poselint import console
from poselint.fsutil import inside
from poselint.sources.dvc.cache import cached_manifest, files_under
from poselint.sources.dvc.config import find_dvc_root
from poselint.sources.dvc.files import TrackedOutput, pull_target
from poselint.sources.dvc.session import DvcSession
from poselint.sources.errors import DiscoveryError, DvcError


@dataclass(frozen=True)
class WorkspaceChanges:
    """Files under an output that differ from what its .dvc file / dvc.lock records."""

    output: TrackedOutput
    changed: dict[str, list[str]]  # modified/added/deleted/unknown -> posix paths under output
    error: str | None = None  # DVC could not answer (not installed, its own error): why
    target: str = ""  # what to name in a dvc command: the .dvc file, or the dvc.yaml output

    def __bool__(self) -> bool:
        return any(self.changed.values())

    def paths(self) -> set[str]:
        return {p for paths in self.changed.values() for p in paths}


def workspace_changes(
    session: DvcSession, root: Path, declared_in: Path
) -> WorkspaceChanges | None:
    """What `dvc data status` says about the output holding root; None when it cannot tell.
    Asked once per session.

    DVC hashes only files whose inode/mtime/size changed since it last saw them (its state
    database, filled by `dvc add`), so this stays cheap on a large, unchanged dataset.
    """
    key = (root, declared_in)
    if key not in session.statuses:
        session.statuses[key] = _workspace_changes(session, root, declared_in)
    return session.statuses[key]


def _workspace_changes(
    session: DvcSession, root: Path, declared_in: Path
) -> WorkspaceChanges | None:
    output = session.output_of(root, declared_in)
    dvc_root = find_dvc_root(declared_in)
    if output is None or dvc_root is None or not output.key:
        return None  # a .dvc file outside any DVC repo: nothing to compare with
    target = output.key
    shown = pull_target(root, declared_in, session.outputs(declared_in))
    real = os.path.realpath(output.path)
    if not inside(real, os.path.realpath(dvc_root)):
        # DVC refuses to add a symlinked folder ("Cannot add files inside symlinked
        # directories"), so it cannot vouch for what a link out of the repo holds.
        return WorkspaceChanges(
            output,
            {},
            error=f"{target} is a symlink to a folder outside the DVC repository ({real}), "
            "which DVC cannot track or compare",
            target=shown,
        )
    try:
        status = session.repo(dvc_root).data_status(targets=[target], granular=True)
    except DvcError as exc:  # PL108 reports it: a check the repository needs did not run
        return WorkspaceChanges(output, {}, error=str(exc), target=shown)
    except Exception as exc:  # dvc's own errors: say so, do not turn them into a crash
        return WorkspaceChanges(output, {}, error=f"dvc says: {exc}", target=shown)
    changed: dict[str, list[str]] = {}
    for kind, paths in (status.get("uncommitted") or {}).items():
        under = [
            p[len(target) + 1 :]
            for p in paths
            if isinstance(p, str) and p.startswith(target + "/") and not p.endswith("/")
        ]
        if under:
            changed[kind] = sorted(under)
        elif target in paths or target + "/" in paths:
            changed[kind] = [target]  # the output itself (a file, or a folder as a whole)
    return WorkspaceChanges(output, changed, target=shown)


def workspace_md5s(session: DvcSession, root: Path, declared_in: Path) -> dict[str, str] | None:
    """md5 of each file under root (posix path under root) as DVC records it, for the files
    the workspace has not changed since; None when DVC cannot vouch for the workspace."""
    output = session.output_of(root, declared_in)
    if output is None:
        return None
    try:
        manifest = cached_manifest(output)
    except DiscoveryError as exc:
        console.note(f"skipped DVC's recorded md5s: {exc}")
        return None
    if manifest is None:
        return None
    changes = workspace_changes(session, root, declared_in)
    if changes is None or changes.error is not None:
        return None
    changed = changes.paths()
    return files_under({r: m for r, m in manifest.items() if r not in changed}, root, output)
