"""PL108: the workspace copy of a DVC-tracked dataset is what its .dvc file records."""

from __future__ import annotations

from collections.abc import Iterator

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
    if ds.dvc_file is None or ds.remote is not None or not ds.exists:
        return  # not tracked, or --no-pull (which lints what DVC records, not the workspace)
    from poselint.sources import dvc as dvcsupport

    changes = dvcsupport.workspace_changes(ds.root, ds.dvc_file)
    if changes is not None and changes.error is not None:
        target = dvcsupport.pull_target(ds.root, ds.dvc_file)
        yield Finding(
            f"cannot tell whether the workspace is what {target} records, so a commit could "
            f"record other data than what was linted: {changes.error}",
            path=changes.output.path,
        )
        return
    if not changes:
        return
    parts = []
    for kind, paths in sorted(changes.changed.items()):
        more = f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
        parts.append(f"{kind}: {', '.join(paths[:SHOWN])}{more}")
    target = dvcsupport.pull_target(ds.root, ds.dvc_file)
    if changes.output.in_dvc_yaml:
        mend = f"run `dvc commit {target}` (or `dvc repro`) and stage dvc.lock"
    else:
        mend = f"run `dvc add {dvcsupport.display(changes.output.path)}` and stage {target}"
    yield Finding(
        f"the workspace differs from what {target} records ({'; '.join(parts)}): a commit "
        f"would record other data than what was linted: {mend}",
        path=changes.output.path,
    )
