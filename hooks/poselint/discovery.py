"""PATHs on the command line -> the dataset roots to lint, each once."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from poselint.fsutil import inside
from poselint.load.layout import ANNOTATIONS, IMAGES
from poselint.sources.dvc.cache import (
    ManifestSource,
    cached_manifest,
    relative_key,
    roots_in_listing,
)
from poselint.sources.dvc.config import find_repo_root
from poselint.sources.dvc.files import (
    TrackedOutput,
    outputs_declared_in,
    outputs_of_dvc_file,
    outputs_of_dvc_yaml,
)
from poselint.sources.errors import DiscoveryError as DiscoveryError  # raised here and by sources

SKIP_DIRS = {".git", ".dvc", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".cache"}
SEARCH_DEPTH = 4
# .dvc files and dvc.yaml sit near the top of a repo; the walk for them is bounded, outputs pruned
DVC_SEARCH_DEPTH = 8
DVC_PIPELINE_FILES = ("dvc.yaml", "dvc.yml", "dvc.lock")


@dataclass(frozen=True)
class Target:
    root: Path
    dvc_file: Path | None = None  # the .dvc file (or dvc.yaml) tracking this root, when known


@dataclass
class Discovered:
    targets: list[Target] = field(default_factory=list)

    def add(self, target: Target) -> None:
        for i, known in enumerate(self.targets):
            if known.root == target.root:
                if known.dvc_file is None and target.dvc_file is not None:
                    self.targets[i] = target
                return
        self.targets.append(target)


def looks_like_root(folder: Path) -> bool:
    """A folder holding images/ or annotations/ (any case: Images/ is a finding, not a miss)."""
    try:
        with os.scandir(folder) as it:
            return any(e.name.lower() in (IMAGES, ANNOTATIONS) and e.is_dir() for e in it)
    except OSError:
        return False


def enclosing_root(path: Path) -> Path | None:
    folder = path if path.is_dir() else path.parent
    for candidate in [folder, *folder.parents]:
        if looks_like_root(candidate):
            return candidate
        if (candidate / ".git").exists():
            return None
    return None


def roots_below(folder: Path, depth: int = SEARCH_DEPTH, within: str | None = None) -> list[Path]:
    """Dataset roots in folder or below it. A symlinked folder is searched only while its
    real path stays inside the folder the search started from (`within`): a cloned repo's
    `ds -> ~/other-dataset` link does not make `poselint check --fix` rewrite that dataset."""
    within = within or os.path.realpath(folder)
    if looks_like_root(folder):
        return [folder]
    if depth == 0:
        return []
    found: list[Path] = []
    try:
        children = sorted(
            e.path
            for e in os.scandir(folder)
            if e.is_dir()
            and e.name not in SKIP_DIRS
            and not e.name.startswith(".")
            and (not e.is_symlink() or inside(os.path.realpath(e.path), within))
        )
    except OSError:
        return []
    for child in children:
        found.extend(roots_below(Path(child), depth - 1, within))
    return found


def tracked_outputs(top: Path) -> list[TrackedOutput]:
    """Every output declared by a .dvc file or dvc.yaml below top, in path order.

    One walk; it does not descend into outputs (a dataset can hold 100k+ images), hidden
    folders or virtualenvs.
    """
    found: list[TrackedOutput] = []

    def visit(folder: Path, depth: int) -> None:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return
        here: list[TrackedOutput] = []
        for entry in entries:
            if entry.name.endswith(".dvc") and entry.is_file():
                here.extend(outputs_of_dvc_file(Path(entry.path)))
            elif entry.name in ("dvc.yaml", "dvc.yml") and entry.is_file():
                here.extend(outputs_of_dvc_yaml(Path(entry.path)))
        found.extend(here)
        if depth == 0:
            return
        outputs = {o.path for o in here}
        for entry in entries:
            if (
                entry.is_dir(follow_symlinks=False)
                and entry.name not in SKIP_DIRS
                and not entry.name.startswith(".")
                and Path(entry.path) not in outputs
            ):
                visit(Path(entry.path), depth - 1)

    visit(top.resolve(), DVC_SEARCH_DEPTH)
    return found


def tracked_roots(out: TrackedOutput, manifests: ManifestSource | None = None) -> list[Path]:
    """Dataset roots inside a DVC output: from the workspace, else from its `.dir` manifest.

    manifests=None reads the workspace, then the local cache; --no-pull passes a reader that
    asks DVC (cache, else remote) and ignores the workspace. A file output (a model) or a
    folder without images/ or annotations/ is not a dataset. A folder whose manifest nobody
    has is reported as not pulled rather than passed.
    """
    if manifests is None and out.path.exists():
        return roots_below(out.path) if out.path.is_dir() else []
    if not out.is_dir:
        return []
    manifest = (manifests or cached_manifest)(out)
    if manifest is None:
        return [out.path]
    roots = [out.path / r if r else out.path for r in roots_in_listing(list(manifest))]
    for root in roots:  # manifests are checked (cache.checked_manifest): a second line
        if relative_key(Path(os.path.normpath(root)), out.path) is None:
            raise DiscoveryError(
                f"{out.declared_in}: DVC's listing of {out.path} puts a dataset root at "
                f"{root}, outside it: the manifest is corrupt or hostile; nothing was read"
            )
    return roots


def _declares_outputs(path: Path) -> bool:
    return path.is_file() and (path.suffix == ".dvc" or path.name in DVC_PIPELINE_FILES)


def discover_tracked(start: Path, manifests: ManifestSource | None = None) -> list[Target]:
    """Every dataset root a .dvc file or dvc.yaml output tracks in the repo holding start."""
    top = find_repo_root(start.resolve())
    if top is None:
        return []
    found = Discovered()
    for out in tracked_outputs(top):
        for root in tracked_roots(out, manifests):
            found.add(Target(root, out.declared_in))
    return found.targets


def discover(paths: list[Path], manifests: ManifestSource | None = None) -> Discovered:
    result = Discovered()
    for raw in paths:
        path = Path(os.path.abspath(raw))
        if not _declares_outputs(path):
            # A DVC file is read where it is, not where a link leads: its outs are relative to
            # its own folder, and dvc.files refuses one whose real path leaves the repo.
            path = raw.resolve()
        if not path.exists() and not path.is_symlink():
            tracked_by = path.with_name(path.name + ".dvc")  # data/pose, not pulled
            if not tracked_by.is_file():
                raise DiscoveryError(f"{raw}: no such file or folder")
            path = tracked_by
        if _declares_outputs(path):
            for out in outputs_declared_in(path):
                for root in tracked_roots(out, manifests):
                    result.add(Target(root, out.declared_in))
            continue
        enclosing = enclosing_root(path)
        if enclosing is not None:
            # data/pose tracked by data/pose.dvc: lint it as tracked (PL108 compares it)
            tracked_by = enclosing.with_name(enclosing.name + ".dvc")
            result.add(Target(enclosing, tracked_by if tracked_by.is_file() else None))
        elif path.is_dir():
            below = roots_below(path)
            if not below:
                raise DiscoveryError(
                    f"{raw}: no dataset root here (a folder holding images/ and annotations/)"
                )
            for found in below:
                result.add(Target(found))
        else:  # not "All checks passed!" for a file nothing was checked in
            raise DiscoveryError(
                f"{raw}: not inside a dataset root (no folder holding images/ and annotations/ "
                "at or above it)"
            )
    return result


# --- --staged: the roots a commit touches (what the pre-commit hooks lint) -------------------


def _git(args: list[str], cwd: Path) -> list[str]:
    """NUL-separated output of a git command, as strings."""
    import subprocess  # --staged only: not at `poselint` start-up

    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise DiscoveryError(f"--staged needs git: {exc}") from exc
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise DiscoveryError(f"--staged: `git {' '.join(args)}` failed: {message}")
    return [p for p in os.fsdecode(proc.stdout).split("\0") if p]


def changed_paths(cwd: Path) -> tuple[Path, list[str]]:
    """(repo top, paths relative to it) that the commit under way touches.

    Staged changes including deletions, and both sides of a rename (pre-commit's own file list
    leaves deletions out). Under `pre-commit run --from-ref A --to-ref B` (pre-push), the
    paths changed between the refs. With nothing staged (`pre-commit run --all-files`, CI),
    every file git tracks: then every dataset in the repository is linted.
    """
    [top] = _git(["rev-parse", "--show-toplevel"], cwd) or [""]
    top_path = Path(top.rstrip("\n"))
    base = ["-c", "core.quotePath=false", "diff", "--name-only", "--no-renames", "-z"]
    from_ref = os.environ.get("PRE_COMMIT_FROM_REF")
    to_ref = os.environ.get("PRE_COMMIT_TO_REF")
    if from_ref and to_ref:
        paths = _git([*base, f"{from_ref}...{to_ref}"], top_path)
    else:
        paths = _git([*base, "--cached"], top_path)
    if not paths:
        paths = _git(["ls-files", "-z"], top_path)
    return top_path, paths


def _nearest_folder(path: Path, top: Path) -> Path:
    """The deepest folder of path that still exists: a `git rm`'d image's split folder, or
    for a renamed-away split, images/."""
    folder = path.parent
    while folder != top and not folder.is_dir() and top in folder.parents:
        folder = folder.parent
    return folder


def roots_of_changes(top: Path, paths: list[str]) -> Discovered:
    """Each changed path -> the dataset root it is in (deleted paths through their nearest
    existing folder), or the roots a changed .dvc / dvc.yaml / dvc.lock tracks; each root once.
    Paths outside any dataset are ignored."""
    result = Discovered()
    top = top.resolve()
    folders: set[str] = set()
    for rel in paths:
        name = rel.rsplit("/", 1)[-1]
        if name.endswith(".dvc") or name in DVC_PIPELINE_FILES:
            declared = top / rel
            if _declares_outputs(declared):  # a deleted .dvc file tracks nothing any more
                for out in outputs_declared_in(declared):
                    for root in tracked_roots(out):
                        result.add(Target(root, out.declared_in))
            continue
        folders.add(rel.rpartition("/")[0])
    seen: dict[Path, Path | None] = {}
    for folder in sorted(folders):
        existing = _nearest_folder(top / folder / "_", top)
        if existing not in seen:
            seen[existing] = enclosing_root(existing)
        found = seen[existing]
        if found is not None:
            tracked_by = found.with_name(found.name + ".dvc")
            result.add(Target(found, tracked_by if tracked_by.is_file() else None))
    return result


def targets_of(
    paths: Sequence[Path],
    datasets: Sequence[Path],
    staged: bool = False,
    manifests: ManifestSource | None = None,
) -> list[Target]:
    """The roots a run lints: those the PATHs name; with `staged`, also those the staged
    changes touch; with no PATH, every dataset DVC tracks in this repo plus the configured
    `datasets`. manifests (--no-pull: dvc.remote.remote_manifests): roots inside tracked
    folders come from DVC's manifest, not the disk."""
    if staged:
        found = roots_of_changes(*changed_paths(Path.cwd()))
        for target in discover(list(paths), manifests).targets if paths else []:
            found.add(target)
        return found.targets  # none: the commit touches no dataset
    if paths:
        return discover(list(paths), manifests).targets
    found = Discovered()
    for target in discover_tracked(Path.cwd(), manifests):
        found.add(target)
    for path in datasets:
        if any(t.root == path for t in found.targets):
            continue
        if path.exists() or path.with_name(path.name + ".dvc").is_file():
            for target in discover([path], manifests).targets:
                found.add(target)
        else:
            found.add(Target(path))  # PL100 names it
    return found.targets or discover([Path.cwd()], manifests).targets
