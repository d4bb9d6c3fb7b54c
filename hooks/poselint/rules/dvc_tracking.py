"""PL108: the workspace copy of a DVC-tracked dataset is what its .dvc file records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from poselint.diagnostics import display_path
from poselint.load.dataset import Dataset
from poselint.rules.base import Finding, rule

SHOWN = 5  # changed files named in the message; the rest are counted


@rule(
    "PL108",
    "dvc-workspace-stale",
    what="The workspace copy of a DVC-tracked dataset differs from the hash its `.dvc` file "
    "(or `dvc.lock`) records: the data changed but `dvc add` was not run. Also an error when "
    "DVC cannot tell (dvc not installed where poselint runs).",
    why="git commits the `.dvc` file, not the data: the commit would record other data than "
    "what was linted, and a `dvc pull` elsewhere would bring back the old files.",
    scope="dataset",
)
def dvc_workspace_stale(ds: Dataset) -> Iterator[Finding]:
    changes = ds.source.workspace_changes()
    if changes is None:
        return  # not tracked, or --no-pull (which lints what DVC records, not the workspace)
    if changes.error is not None:
        yield Finding(
            f"cannot tell whether the workspace is what {changes.target} records, so a commit "
            f"could record other data than what was linted: {changes.error}",
            path=changes.output.path,
        )
        return
    if not changes:
        return
    parts = []
    for kind, paths in sorted(changes.changed.items()):
        more = f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
        parts.append(f"{kind}: {', '.join(paths[:SHOWN])}{more}")
    target = changes.target
    if changes.output.in_dvc_yaml:
        mend = f"run `dvc commit {target}` (or `dvc repro`) and stage dvc.lock"
    else:
        mend = f"run `dvc add {display_path(changes.output.path, Path.cwd())}` and stage {target}"
    yield Finding(
        f"the workspace differs from what {target} records ({'; '.join(parts)}): a commit "
        f"would record other data than what was linted: {mend}",
        path=changes.output.path,
    )
