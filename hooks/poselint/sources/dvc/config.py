"""Where a DVC repository is, and what its config says: the local cache folder, and so where
a dataset root's reads may go (fsutil.Confinement: the root and that cache)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from poselint import console
from poselint.fsutil import Confinement, Refused, read_regular_file
from poselint.sources.errors import DvcError

DVC_DIR = ".dvc"
# DVC's config files are a few lines; the bound keeps a link to /dev/zero from a read that
# never ends.
MAX_CONFIG_BYTES = 1 << 20


def find_dvc_root(start: Path) -> Path | None:
    """The DVC repo (the folder holding .dvc/) that contains start."""
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.parents]:
        if (candidate / DVC_DIR).is_dir():
            return candidate
    return None


def find_repo_root(start: Path) -> Path | None:
    """Where to search for tracked datasets: the DVC repo, else the git repo, holding start."""
    dvc_root = find_dvc_root(start)
    if dvc_root is not None:
        return dvc_root
    for candidate in [start, *start.parents]:
        if (candidate / ".git").exists():
            return candidate
    return None


def _config_folders(dvc_root: Path) -> list[Path]:
    """DVC's config folders, lowest precedence first: system, global, the repo's .dvc/."""
    home = Path(os.path.expanduser("~"))  # Path.home() raises when there is no home
    system = os.environ.get("DVC_SYSTEM_CONFIG_DIR") or (
        "/Library/Application Support/dvc" if sys.platform == "darwin" else "/etc/xdg/dvc"
    )
    user = os.environ.get("DVC_GLOBAL_CONFIG_DIR") or os.fspath(
        home / "Library" / "Application Support" / "dvc"
        if sys.platform == "darwin"
        else Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "dvc"
    )
    return [Path(system), Path(user), dvc_root / DVC_DIR]


def _config_cache_dir(path: Path, within: str | None) -> str | None:
    """`cache.dir` from one DVC config file, None when it does not set it. The file must be
    a regular file of at most MAX_CONFIG_BYTES, inside `within` (the repo's own config
    files: a hostile repo's `.dvc/config -> /dev/zero` is not read); else a note, skipped."""
    try:
        data = read_regular_file(path, MAX_CONFIG_BYTES, within)
    except Refused as exc:
        console.note(f"skipped a DVC config file: {exc}")
        return None
    except OSError:
        return None  # missing or unreadable: DVC ignores it too
    import configparser  # only in a DVC repo: not at `poselint` start-up

    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(data.decode("utf-8"), source=os.fspath(path))
    except (configparser.Error, UnicodeDecodeError):
        return None
    if not parser.has_option("cache", "dir"):
        return None
    value = parser.get("cache", "dir").strip()
    if "\0" in value:
        console.note(f"skipped {path}: its cache.dir is not a path (it holds a NUL)")
        return None
    return value


def cache_dir(dvc_root: Path) -> Path:
    """The local cache: .dvc/cache, or `cache.dir` from DVC's config (system, global, the
    repo's config and config.local; a relative dir is relative to its config's folder)."""
    cache = dvc_root / DVC_DIR / "cache"
    repo = os.path.realpath(dvc_root)
    for folder in _config_folders(dvc_root):
        own = folder.name == DVC_DIR
        for name in ("config", "config.local") if own else ("config",):
            value = _config_cache_dir(folder / name, repo if own else None)
            if value is not None:
                cache = (folder / value).resolve()
    return cache


def confinement(root: Path, cache_of: Callable[[Path], Path] = cache_dir) -> Confinement:
    """Where reads under root may go: the root and, for files, the DVC cache its repository
    configures (cache_of: how to find it; DvcSession.cache_dir knows it once per run)."""
    dvc_root = find_dvc_root(root)
    caches = () if dvc_root is None else (os.path.realpath(cache_of(dvc_root)),)
    return Confinement(os.path.realpath(root), caches)


def check_config_files(dvc_root: Path) -> None:
    """DvcError unless the repo's own config files are bounded regular files inside it: dvc
    reads them with no bound, and a link to /dev/zero would eat all memory."""
    for name in ("config", "config.local"):
        try:
            read_regular_file(
                dvc_root / DVC_DIR / name, MAX_CONFIG_BYTES, os.path.realpath(dvc_root)
            )
        except Refused as exc:
            raise DvcError(f"DVC's config is not opened: {exc}") from exc
        except OSError:
            pass
