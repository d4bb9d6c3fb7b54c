"""PATHs on the command line -> the dataset roots to lint, each once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from poselint.layout import ANNOTATIONS, IMAGES

SKIP_DIRS = {".git", ".dvc", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".cache"}
SEARCH_DEPTH = 4


class DiscoveryError(Exception):
    """A PATH cannot be linted at all: the CLI exits 2 with this message."""


@dataclass(frozen=True)
class Target:
    root: Path
    dvc_file: Path | None = None  # the .dvc file that tracks this root, when known


@dataclass
class Discovered:
    targets: list[Target] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # given files outside any dataset

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


def roots_below(folder: Path, depth: int = SEARCH_DEPTH) -> list[Path]:
    if looks_like_root(folder):
        return [folder]
    if depth == 0:
        return []
    found: list[Path] = []
    try:
        children = sorted(
            e.path
            for e in os.scandir(folder)
            if e.is_dir() and e.name not in SKIP_DIRS and not e.name.startswith(".")
        )
    except OSError:
        return []
    for child in children:
        found.extend(roots_below(Path(child), depth - 1))
    return found


def dvc_outputs(dvc_file: Path) -> list[Path]:
    """The `outs` paths a .dvc file tracks, resolved against its folder."""
    try:
        data = yaml.safe_load(dvc_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DiscoveryError(f"{dvc_file}: cannot read this .dvc file: {exc}") from exc
    outs = data.get("outs") if isinstance(data, dict) else None
    if not isinstance(outs, list):
        raise DiscoveryError(f"{dvc_file}: not a .dvc file (no 'outs' list)")
    return [
        (dvc_file.parent / out["path"]).resolve()
        for out in outs
        if isinstance(out, dict) and isinstance(out.get("path"), str)
    ]


def discover(paths: list[Path]) -> Discovered:
    result = Discovered()
    for raw in paths:
        path = raw.resolve()
        if not path.exists() and not path.is_symlink():
            raise DiscoveryError(f"{raw}: no such file or folder")
        if path.suffix == ".dvc" and path.is_file():
            for out in dvc_outputs(path):
                if out.is_dir():
                    for root in roots_below(out):
                        result.add(Target(root, path))
                else:
                    # Not in the workspace: the dataset is linted as "not pulled".
                    result.add(Target(out, path))
            continue
        enclosing = enclosing_root(path)
        if enclosing is not None:
            result.add(Target(enclosing))
        elif path.is_dir():
            below = roots_below(path)
            if not below:
                raise DiscoveryError(
                    f"{raw}: no dataset root here (a folder holding images/ and annotations/)"
                )
            for found in below:
                result.add(Target(found))
        else:
            result.skipped.append(path)
    return result
