"""DVC-tracked datasets: find them, tell a stale workspace, read them without pulling.

Finding what DVC tracks reads `.dvc` files, `dvc.yaml`/`dvc.lock` and the `.dir` manifests of
the local cache as plain YAML/JSON, so linting a plain folder never pays dvc's import time
(~0.4 s). Only the stale-workspace check (PL108) and `--no-pull` import dvc, lazily, and
both go through DVC's own API (`Repo.data_status`, its data index), never a copy of its logic.
"""

from __future__ import annotations

import configparser
import contextlib
import hashlib
import os
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
import yaml

from poselint import console
from poselint.fsutil import Refused, inside, read_regular_file
from poselint.load.imageindex import FileInfo, ImageIndex
from poselint.load.layout import ANNOTATIONS, IMAGES, Entry

DVC_DIR = ".dvc"
WALK_SKIP = {".git", ".dvc", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".cache"}
WALK_DEPTH = 8  # .dvc files and dvc.yaml sit near the top of a repo; bounded, outputs pruned

# posix path under a tracked output -> md5 of the file's content, as DVC's `.dir` lists them
Manifest = dict[str, str]
# A `.dir` manifest lists ~100 bytes per file: this bound is ~5 million files. It keeps a
# hostile cache object (a link to /dev/zero, a huge file) from eating all memory.
MAX_MANIFEST_BYTES = 512 << 20


class DvcError(Exception):
    """DVC could not answer (not installed, no remote, object missing); the message says why."""


@dataclass(frozen=True)
class TrackedOutput:
    path: Path  # absolute path of the output in the workspace
    declared_in: Path  # the .dvc file or dvc.yaml that declares it
    md5: str | None  # the recorded hash, "<md5>.dir" for a folder; None: never committed
    hash_name: str = "md5"  # "md5-dos2unix": written by DVC 2 (no `hash: md5` line)
    remote: str | None = None  # the output's own `remote:`, else the default remote
    # DVC's name for it: the posix path from the DVC root to the output as declared, before
    # symlinks (`data/pose`); "" outside a DVC repo. What `dvc data status` and the data
    # index take, even when the folder is a link elsewhere.
    key: str = ""

    @property
    def is_dir(self) -> bool:
        return bool(self.md5 and self.md5.endswith(".dir"))

    @property
    def in_dvc_yaml(self) -> bool:
        return self.declared_in.name in ("dvc.yaml", "dvc.yml")


note = console.note  # one place decides whether a note is said (-q: never)


# --- reading DVC's files, without dvc -------------------------------------------------------


# A .dvc file, dvc.yaml or dvc.lock lists outputs and stages, not files: far below this.
MAX_DVC_FILE_BYTES = 16 << 20
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# A quoted piece of the file in a YAML error ('<scalar>' names a token kind: kept).
_QUOTED = re.compile(r"'(?!<[a-z ]+>')[^']*'|\"[^\"]*\"")


def parse_yaml(data: bytes) -> Any:
    """A DVC file's YAML; ValueError saying why it does not parse, by line and column, never
    with the file's content (a DVC file can be a link to a credentials file)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        return yaml.load(text, Loader=_LOADER)  # a safe loader: libyaml's when built
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = _QUOTED.sub("'...'", exc.problem or "")
        raise ValueError(f"not valid YAML{where}" + (f": {problem}" if problem else "")) from None
    except yaml.YAMLError:
        raise ValueError("not valid YAML") from None
    except RecursionError:
        raise ValueError("not valid YAML: nested too deeply") from None


def _load_yaml(path: Path) -> Any:
    """A DVC file, read where it is (a symlinked one too), only when its real path is inside
    the repository holding it: a hostile repo's `dvc.yaml -> ~/.aws/credentials` is not read."""
    from poselint.discovery import DiscoveryError

    path = Path(os.path.abspath(path))
    repo = find_repo_root(path.parent) or path.parent
    try:
        data = read_regular_file(path, MAX_DVC_FILE_BYTES, os.path.realpath(repo))
    except Refused as exc:
        raise DiscoveryError(f"{path}: cannot read this DVC file: {exc}") from exc
    except OSError as exc:
        raise DiscoveryError(f"{path}: cannot read this DVC file: {exc.strerror}") from exc
    try:
        return parse_yaml(data)
    except ValueError as exc:
        raise DiscoveryError(f"{path}: cannot read this DVC file: {exc}") from exc


# The one place DVC hashes are checked. Every hash read from a .dvc file, dvc.lock or `.dir`
# manifest passes here before it names a cache object: a hostile `md5: xx/../../etc/passwd`
# (or `xx//etc/passwd`, which makes the object path absolute) is refused, never opened.
_MD5 = re.compile(r"[0-9a-f]{32}")
_DIR_MD5 = re.compile(r"[0-9a-f]{32}(?:\.dir)?")


def valid_md5(value: object, folder: bool = False) -> bool:
    """32 lowercase hex digits (plus `.dir` for a folder's manifest when folder is true)."""
    return isinstance(value, str) and bool((_DIR_MD5 if folder else _MD5).fullmatch(value))


def object_paths(cache: Path, md5: str) -> list[Path]:
    """Where the cache object of md5 can be (DVC 3 layout, then DVC 2); none for a value
    that is not a DVC hash, so no caller can build a path from one."""
    if not valid_md5(md5, folder=True):
        return []
    return [cache / "files" / "md5" / md5[:2] / md5[2:], cache / md5[:2] / md5[2:]]


def _recorded_md5(out: dict[str, Any], declared_in: Path) -> str | None:
    from poselint.discovery import DiscoveryError

    md5 = out.get("md5")
    if md5 is None:
        return None
    if not valid_md5(md5, folder=True):
        raise DiscoveryError(
            f"{declared_in}: output {out.get('path')!r} records md5 {md5!r}, which is not a DVC "
            "hash (32 lowercase hex digits, '.dir' for a folder): refusing to read the DVC cache"
        )
    return str(md5)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _hash_name(out: dict[str, Any]) -> str:
    return "md5" if out.get("hash") == "md5" else "md5-dos2unix"


def _output_path(declared_in: Path, path: str, folder: Path | None = None) -> tuple[Path, str]:
    """Where an output is, and its DVC key (TrackedOutput.key), path taken relative to folder
    (default: the declaring file's own folder). A path that leads out of the repository
    holding the declaring file (`/home/me/x`, `../../x`; DVC refuses such outputs) is
    refused, so a hostile `.dvc` file cannot make poselint lint, and echo, a folder outside
    the repository; so is a link to a folder outside it."""
    from poselint.discovery import DiscoveryError

    folder = folder or declared_in.parent
    repo = find_repo_root(declared_in.parent) or declared_in.parent
    if "\0" in os.fspath(folder / path):  # no path holds one: os calls would raise
        raise DiscoveryError(f"{declared_in}: output path {path!r} is not a path (it holds a NUL)")
    lexical = os.path.normpath(folder / path)
    if not inside(lexical, os.path.normpath(repo)):
        raise DiscoveryError(
            f"{declared_in}: output path {path!r} leads outside the repository ({repo}): "
            "refusing to read it"
        )
    real = Path(lexical).resolve()
    if real.is_dir() and not inside(os.fspath(real), os.path.realpath(repo)):
        # DVC links files, never folders, and refuses to add a symlinked folder: such a link
        # is not DVC's doing, and following it would lint (and --fix) a folder elsewhere.
        raise DiscoveryError(
            f"{declared_in}: output path {path!r} is a symlink to a folder outside the "
            f"repository ({real}), which DVC cannot track: refusing to read it"
        )
    dvc_root = find_dvc_root(declared_in.parent)
    key = "" if dvc_root is None else Path(os.path.relpath(lexical, dvc_root)).as_posix()
    return real, key


def outputs_of_dvc_data(data: Any, dvc_file: Path) -> list[TrackedOutput]:
    """The `outs` of a .dvc file's parsed YAML, resolved against its folder: the one place a
    .dvc file's outputs and hashes are checked (the workspace and `poselint diff` alike)."""
    from poselint.discovery import DiscoveryError

    outs = data.get("outs") if isinstance(data, dict) else None
    if not isinstance(outs, list):
        raise DiscoveryError(f"{dvc_file}: not a .dvc file (no 'outs' list)")
    found = []
    for out in outs:
        if isinstance(out, dict) and isinstance(out.get("path"), str):
            path, key = _output_path(dvc_file, out["path"])
            remote = out.get("remote") if isinstance(out.get("remote"), str) else None
            found.append(
                TrackedOutput(
                    path, dvc_file, _recorded_md5(out, dvc_file), _hash_name(out), remote, key
                )
            )
    return found


def outputs_of_dvc_file(dvc_file: Path) -> list[TrackedOutput]:
    """The `outs` a .dvc file tracks, resolved against its folder."""
    return outputs_of_dvc_data(_load_yaml(dvc_file), dvc_file)


def outputs_of_pipeline(data: Any, lock: Any, dvc_yaml: Path) -> list[TrackedOutput]:
    """Stage `outs` of a parsed dvc.yaml, with the hashes its parsed dvc.lock records.

    A stage's outs, and the paths dvc.lock records for them, are relative to the stage's
    `wdir` (default: dvc.yaml's folder)."""
    from poselint.discovery import DiscoveryError

    stages = data.get("stages") if isinstance(data, dict) else None
    if not isinstance(stages, dict):
        return []
    lock_path = dvc_yaml.with_name("dvc.lock")
    locked = lock.get("stages") if isinstance(lock, dict) else None
    found: list[TrackedOutput] = []
    for name, stage in stages.items():
        if not isinstance(stage, dict) or "foreach" in stage or "matrix" in stage:
            continue  # templated stages need dvc's own resolver; list them in `datasets`
        wdir = stage.get("wdir", ".")
        if not isinstance(wdir, str) or "${" in wdir:
            raise DiscoveryError(
                f"{dvc_yaml}: stage {name!r} has a wdir that is not a plain path: "
                "list its outputs in the `datasets` setting"
            )
        folder = dvc_yaml.parent / wdir
        hashes: dict[str, tuple[str, str]] = {}
        locked_stage = locked.get(name) if isinstance(locked, dict) else None
        if isinstance(locked_stage, dict):
            for out in _list(locked_stage.get("outs")):
                md5 = _recorded_md5(out, lock_path) if isinstance(out, dict) else None
                if md5 and isinstance(out.get("path"), str):
                    hashes[os.path.normpath(out["path"])] = (md5, _hash_name(out))
        for out in _list(stage.get("outs")):
            # `- path` or `- path: {cache: false, ...}`
            path = out if isinstance(out, str) else None
            if isinstance(out, dict) and len(out) == 1:
                path = next(iter(out))
            if isinstance(path, str) and "${" not in path:
                resolved, key = _output_path(dvc_yaml, path, folder)
                md5, hash_name = hashes.get(os.path.normpath(path), (None, "md5"))
                found.append(TrackedOutput(resolved, dvc_yaml, md5, hash_name, key=key))
    return found


def outputs_of_dvc_yaml(dvc_yaml: Path) -> list[TrackedOutput]:
    """Stage `outs` of a dvc.yaml, with the hashes its dvc.lock records (metrics/plots: no)."""
    data = _load_yaml(dvc_yaml)
    lock_path = dvc_yaml.with_name("dvc.lock")
    lock = _load_yaml(lock_path) if lock_path.is_file() else None
    return outputs_of_pipeline(data, lock, dvc_yaml)


def outputs_declared_in(path: Path) -> list[TrackedOutput]:
    if path.name in ("dvc.lock",):
        path = path.with_name("dvc.yaml")
        if not path.is_file():
            return []
    if path.name in ("dvc.yaml", "dvc.yml"):
        return outputs_of_dvc_yaml(path)
    return outputs_of_dvc_file(path)


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
                and entry.name not in WALK_SKIP
                and not entry.name.startswith(".")
                and Path(entry.path) not in outputs
            ):
                visit(Path(entry.path), depth - 1)

    visit(top.resolve(), WALK_DEPTH)
    return found


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


# DVC's config files are a few lines; the bound keeps a link to /dev/zero from a read that
# never ends.
MAX_CONFIG_BYTES = 1 << 20


def _config_cache_dir(path: Path, within: str | None) -> str | None:
    """`cache.dir` from one DVC config file, None when it does not set it. The file must be
    a regular file of at most MAX_CONFIG_BYTES, inside `within` (the repo's own config
    files: a hostile repo's `.dvc/config -> /dev/zero` is not read); else a note, skipped."""
    try:
        data = read_regular_file(path, MAX_CONFIG_BYTES, within)
    except Refused as exc:
        note(f"skipped a DVC config file: {exc}")
        return None
    except OSError:
        return None  # missing or unreadable: DVC ignores it too
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(data.decode("utf-8"), source=os.fspath(path))
    except (configparser.Error, UnicodeDecodeError):
        return None
    if not parser.has_option("cache", "dir"):
        return None
    value = parser.get("cache", "dir").strip()
    if "\0" in value:
        note(f"skipped {path}: its cache.dir is not a path (it holds a NUL)")
        return None
    return value


def _cache_dir(dvc_root: Path) -> Path:
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


def cache_dirs(root: Path) -> list[Path]:
    """The DVC cache a dataset root's symlinks may point into (none outside a DVC repo)."""
    dvc_root = find_dvc_root(root)
    return [] if dvc_root is None else [_cache_dir(dvc_root)]


def _safe_relpath(rel: str) -> bool:
    """A plain posix path inside the folder, as DVC writes them: no absolute path, no `..`,
    `.` or empty segment, no NUL (no file name holds one) and no backslash (DVC writes `/`
    on every OS; on Windows `\\` would be a separator)."""
    parts = rel.split("/")
    return (
        bool(rel)
        and not rel.startswith("/")
        and not {"", ".", ".."} & set(parts)
        and "\0" not in rel
        and "\\" not in rel
    )


def checked_manifest(files: Manifest, where: str) -> Manifest:
    """The manifest, once every md5 is a DVC hash and every relpath a plain relative path;
    else DiscoveryError naming the manifest and the entry (nothing is read with it)."""
    from poselint.discovery import DiscoveryError

    for rel, md5 in files.items():
        if md5 and not valid_md5(md5):  # "": DVC did not say (a remote without md5s)
            raise DiscoveryError(
                f"{where} lists md5 {md5!r} for {rel!r}, which is not a DVC hash "
                "(32 lowercase hex digits): the manifest is corrupt or hostile; nothing was read"
            )
        if not _safe_relpath(rel):
            raise DiscoveryError(
                f"{where} lists the path {rel!r}, which is not a relative path inside the "
                "folder: the manifest is corrupt or hostile; nothing was read"
            )
    return files


def _parse_manifest(data: bytes, where: str) -> Manifest | None:
    try:
        entries = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(entries, list):
        return None
    return checked_manifest(
        {
            e["relpath"]: e["md5"]
            for e in entries
            if isinstance(e, dict)
            and isinstance(e.get("relpath"), str)
            and isinstance(e.get("md5"), str)
        },
        where,
    )


def _manifest_name(output: TrackedOutput) -> str:
    return f"{output.declared_in}: the .dir manifest {output.md5}"


def cached_manifest(output: TrackedOutput) -> Manifest | None:
    """The folder's `.dir` manifest from the local cache (DVC 3 or DVC 2 layout), or None."""
    dvc_root = find_dvc_root(output.declared_in)
    if dvc_root is None or not output.is_dir or output.md5 is None:
        return None
    from poselint.discovery import DiscoveryError

    data = read_cache_object(_cache_dir(dvc_root), output.md5, MAX_MANIFEST_BYTES)
    if isinstance(data, Refused):
        raise DiscoveryError(
            f"{_manifest_name(output)} in the DVC cache: {data}; the cache is corrupt or hostile"
        )
    return None if data is None else _parse_manifest(data, _manifest_name(output))


def read_cache_object(cache: Path, md5: str, max_bytes: int) -> bytes | Refused | None:
    """The bytes of the cache object of md5 (DVC 3 layout, then DVC 2); None when the cache
    does not have it; Refused saying why it was not read. Every cache read goes through here:
    the hash is checked (object_paths), the object must be a regular file of at most
    max_bytes whose real path stays in the cache (no link to /dev/zero or out of it)."""
    within = os.path.realpath(cache)
    for path in object_paths(cache, md5):
        try:
            return read_regular_file(path, max_bytes, within)
        except Refused as exc:
            return exc
        except OSError:
            continue
    return None


def roots_in_listing(relpaths: Iterator[str] | list[str]) -> list[str]:
    """Dataset roots inside a tracked folder, from its file list: the posix prefixes that hold
    images/ or annotations/ ("" is the folder itself). A model folder yields none."""
    roots: set[str] = set()
    for rel in relpaths:
        parts = rel.split("/")
        for i, part in enumerate(parts[:-1]):
            if part.lower() in (IMAGES, ANNOTATIONS):
                roots.add("/".join(parts[:i]))
                break
    outer = sorted(roots, key=len)
    kept: list[str] = []
    for root in outer:
        if not any(root == k or root.startswith(k + "/") or k == "" for k in kept):
            kept.append(root)
    return sorted(kept)


# --- what a dataset's .dvc file says ----------------------------------------------------------


def output_of(root: Path, declared_in: Path) -> TrackedOutput | None:
    """The output of declared_in that is root or holds it."""
    for out in outputs_declared_in(declared_in):
        if root == out.path or out.path in root.parents:
            return out
    return None


def display(path: Path) -> str:
    """A path as a command to type in the cwd would name it, in the form diagnostics use
    (relative when below the cwd, else absolute)."""
    from poselint.diagnostics import display_path

    return display_path(path, Path.cwd())


def pull_target(root: Path, declared_in: Path) -> str:
    """What to name in `dvc pull X`: the .dvc file, or a dvc.yaml output."""
    if declared_in.name in ("dvc.yaml", "dvc.yml"):
        out = output_of(root, declared_in)
        return display(out.path if out else root)
    return display(declared_in)


def not_pulled_hint(root: Path, declared_in: Path, remote: Any) -> str:
    target = pull_target(root, declared_in)
    error = getattr(remote, "error", None)
    if error:
        return (
            f"--no-pull could not read it through DVC ({error}): run `dvc pull {target}` "
            "or check the DVC remote"
        )
    return f"run `dvc pull {target}`, or lint it from the DVC cache or remote with --no-pull"


# --- dvc's API (imported lazily) ------------------------------------------------------------


def _open_repo(dvc_root: Path) -> Any:
    for name in ("config", "config.local"):
        # dvc reads these with no bound: a link to /dev/zero would eat all memory
        try:
            read_regular_file(
                dvc_root / DVC_DIR / name, MAX_CONFIG_BYTES, os.path.realpath(dvc_root)
            )
        except Refused as exc:
            raise DvcError(f"DVC's config is not opened: {exc}") from exc
        except OSError:
            pass
    try:
        from dvc.repo import Repo
    except ImportError as exc:
        from poselint.report.hints import dvc_install

        raise DvcError(f"dvc is not installed where poselint runs: {dvc_install()}") from exc
    return Repo(os.fspath(dvc_root))


_repos: dict[Path, Any] = {}


def repo(dvc_root: Path) -> Any:
    """One dvc Repo per DVC root per process."""
    if dvc_root not in _repos:
        _repos[dvc_root] = _open_repo(dvc_root)
    return _repos[dvc_root]


@dataclass(frozen=True)
class WorkspaceChanges:
    """Files under an output that differ from what its .dvc file / dvc.lock records."""

    output: TrackedOutput
    changed: dict[str, list[str]]  # modified/added/deleted/unknown -> posix paths under output
    error: str | None = None  # DVC could not answer (not installed, its own error): why

    def __bool__(self) -> bool:
        return any(self.changed.values())

    def paths(self) -> set[str]:
        return {p for paths in self.changed.values() for p in paths}


_changes: dict[tuple[Path, Path], WorkspaceChanges | None] = {}


def workspace_changes(root: Path, declared_in: Path) -> WorkspaceChanges | None:
    """What `dvc data status` says about the output holding root; None when it cannot tell.

    DVC hashes only files whose inode/mtime/size changed since it last saw them (its state
    database, filled by `dvc add`), so this stays cheap on a large, unchanged dataset.
    """
    key = (root, declared_in)
    if key not in _changes:
        _changes[key] = _workspace_changes(root, declared_in)
    return _changes[key]


def relative_key(path: Path, base: Path) -> str | None:
    """posix path of path below base ("" for base itself), or None when it is not below:
    the one containment test before a path becomes a key into a manifest or DVC's index."""
    try:
        rel = path.relative_to(base).as_posix()
    except ValueError:
        return None
    return "" if rel == "." else rel


def _workspace_changes(root: Path, declared_in: Path) -> WorkspaceChanges | None:
    output = output_of(root, declared_in)
    dvc_root = find_dvc_root(declared_in)
    if output is None or dvc_root is None or not output.key:
        return None  # a .dvc file outside any DVC repo: nothing to compare with
    target = output.key
    real = os.path.realpath(output.path)
    if not inside(real, os.path.realpath(dvc_root)):
        # DVC refuses to add a symlinked folder ("Cannot add files inside symlinked
        # directories"), so it cannot vouch for what a link out of the repo holds.
        return WorkspaceChanges(
            output,
            {},
            error=f"{target} is a symlink to a folder outside the DVC repository ({real}), "
            "which DVC cannot track or compare",
        )
    try:
        status = repo(dvc_root).data_status(targets=[target], granular=True)
    except DvcError as exc:  # PL108 reports it: a check the repository needs did not run
        return WorkspaceChanges(output, {}, error=str(exc))
    except Exception as exc:  # dvc's own errors: say so, do not turn them into a crash
        return WorkspaceChanges(output, {}, error=f"dvc says: {exc}")
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
    return WorkspaceChanges(output, changed)


def md5_of_file(path: Path) -> str | None:
    """md5 of the content, as DVC computes it for a file; None if it cannot be read."""
    digest = hashlib.md5()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def workspace_md5s(root: Path, declared_in: Path) -> dict[str, str] | None:
    """md5 of each file under root (posix path under root) as DVC records it, for the files
    the workspace has not changed since; None when DVC cannot vouch for the workspace."""
    output = output_of(root, declared_in)
    if output is None:
        return None
    from poselint.discovery import DiscoveryError

    try:
        manifest = cached_manifest(output)
    except DiscoveryError as exc:
        note(f"skipped DVC's recorded md5s: {exc}")
        return None
    if manifest is None:
        return None
    changes = workspace_changes(root, declared_in)
    if changes is None or changes.error is not None:
        return None
    changed = changes.paths()
    prefix = relative_key(root, output.path)
    if prefix is None:
        return None
    prefix = prefix and prefix + "/"
    return {
        rel[len(prefix) :]: md5
        for rel, md5 in manifest.items()
        if rel.startswith(prefix) and rel not in changed
    }


# --- --no-pull: the dataset as DVC records it -----------------------------------------------


class DvcReader:
    """One DVC repo opened for --no-pull: listings and reads through DVC's data index.

    Reads come from the local cache when the object is there, else from the remote; the
    workspace is never used, and nothing is written to the cache.
    """

    def __init__(self, dvc_root: Path) -> None:
        self.dvc_root = dvc_root
        self._fs: Any = None
        self._manifests: dict[Path, Manifest] = {}

    @property
    def fs(self) -> Any:
        if self._fs is None:
            try:
                from dvc.fs.data import DataFileSystem
            except ImportError as exc:
                from poselint.report.hints import dvc_install

                raise DvcError(f"--no-pull needs dvc: {dvc_install()}") from exc
            self._fs = DataFileSystem(index=repo(self.dvc_root).index.data["repo"])
        return self._fs

    def key(self, path: Path, output: TrackedOutput) -> str:
        """DVC's name for path, a file or folder in output: through the output's own key, so
        a symlinked folder is named as DVC records it, never by where the link leads."""
        rel = relative_key(path, output.path)
        base = output.key or relative_key(output.path, self.dvc_root)
        if rel is None or not base:
            raise DvcError(f"{path} is not inside the DVC output {output.key or output.path}")
        return f"{base}/{rel}" if rel else base

    def manifest(self, output: TrackedOutput) -> Manifest:
        """posix path under the output -> md5, for every file in it (its `.dir` object)."""
        if output.path not in self._manifests:
            self._manifests[output.path] = (
                cached_manifest(output) or self._remote_manifest(output) or self._walk(output)
            )
        return self._manifests[output.path]

    def _remote_manifest(self, output: TrackedOutput) -> Manifest | None:
        """The `.dir` object, one small file, straight from the remote."""
        if not output.is_dir or output.md5 is None:
            return None
        try:
            odb = repo(self.dvc_root).cloud.get_remote_odb(
                name=output.remote, command="poselint --no-pull", hash_name=output.hash_name
            )
            with odb.fs.open(odb.oid_to_path(output.md5), mode="rb") as f:
                data = f.read(MAX_MANIFEST_BYTES + 1)  # bounded: a remote can be hostile too
        except DvcError:
            raise
        except Exception:  # e.g. a version-aware remote: fall back to DVC's own listing
            return None
        if not isinstance(data, bytes) or len(data) > MAX_MANIFEST_BYTES:
            return None
        return _parse_manifest(data, _manifest_name(output))

    def _walk(self, output: TrackedOutput) -> Manifest:
        """DVC's data index listing: any remote kind, ~60 us per file."""
        key = self.key(output.path, output)
        files: Manifest = {}
        for where, _dirs, entries in self.fs.walk(key, detail=True):
            prefix = where[len(key) :].strip("/")
            for name, info in entries.items():
                files[f"{prefix}/{name}" if prefix else name] = str(info.get("md5") or "")
        if not files:
            raise FileNotFoundError(f"DVC tracks no files under {key}")
        return checked_manifest(files, f"{output.declared_in}: DVC's listing of {key}")

    def read(self, path: Path, max_bytes: int, output: TrackedOutput, md5: str) -> bytes | str:
        """The file's bytes, or why they cannot be had: the object by its md5 from the cache,
        else the remote; through DVC's data index for remotes that are not md5-addressed."""
        data = self._read_object(output, md5, max_bytes)
        if isinstance(data, Refused):
            if data.oversize:
                return f"it is over the max_annotation_bytes bound of {max_bytes:,}"
            return f"its DVC cache object is refused: {data}"
        if data is None:
            try:
                with self.fs.open(self.key(path, output), mode="rb") as f:
                    data = f.read(max_bytes + 1)
            except Exception as exc:  # dvc raises many kinds; each is a reason, not a crash
                return f"cannot read it through DVC: {exc}"
        if not isinstance(data, bytes):
            return "DVC returned no bytes for it"
        if len(data) > max_bytes:
            return f"it is over the max_annotation_bytes bound of {max_bytes:,}"
        return data

    def _read_object(
        self, output: TrackedOutput, md5: str, max_bytes: int
    ) -> bytes | Refused | None:
        """The object's bytes (cache, else remote), None if neither has it, or why not."""
        if not valid_md5(md5):  # manifests are checked: this is a second line of defence
            return None
        data = read_cache_object(_cache_dir(self.dvc_root), md5, max_bytes)
        if data is not None:
            return data
        try:
            odb = repo(self.dvc_root).cloud.get_remote_odb(
                name=output.remote, command="poselint --no-pull", hash_name=output.hash_name
            )
            with odb.fs.open(odb.oid_to_path(md5), mode="rb") as f:
                data = f.read(max_bytes + 1)
        except Exception:
            return None
        return data if isinstance(data, bytes) else None


_readers: dict[Path, DvcReader] = {}


def forget() -> None:
    """Drop what one run learnt (open repos, statuses, notes): the next run starts afresh."""
    for opened in _repos.values():
        with contextlib.suppress(Exception):
            opened.close()
    _repos.clear()
    _changes.clear()
    _readers.clear()
    console.forget()


def reader_for(path: Path) -> DvcReader:
    dvc_root = find_dvc_root(path)
    if dvc_root is None:
        raise DvcError(f"{path} is not inside a DVC repository (no .dvc/ folder above it)")
    if dvc_root not in _readers:
        _readers[dvc_root] = DvcReader(dvc_root)
    return _readers[dvc_root]


def remote_manifest(output: TrackedOutput) -> Manifest | None:
    """The output's file list through DVC (local cache, else the remote); None if unknown."""
    try:
        return reader_for(output.declared_in).manifest(output)
    except Exception:  # reported when the dataset is opened (RemoteDataset.error)
        return None


@dataclass
class RemoteDataset:
    """A dataset root as DVC records it: what Dataset.remote holds under --no-pull.

    The layout and image listings come from the `.dir` manifest (md5 per file, nothing read);
    annotation files are read through DVC and parsed by the same loader as on disk.
    """

    root: Path
    reader: DvcReader | None = None
    output: TrackedOutput | None = None  # the output holding root
    files: Manifest = field(default_factory=dict)  # posix path under root -> md5
    error: str | None = None

    def _under(self, folder: Path) -> str | None:
        rel = relative_key(folder, self.root)
        return None if rel is None else rel and rel + "/"

    @cached_property
    def _tree(self) -> dict[str, dict[str, Any]]:
        """One pass over the manifest: folder prefix -> {child name: md5, or {} if a folder},
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

    def read(self, path: Path, max_bytes: int) -> bytes | str:
        """An annotation file's bytes through DVC, or why not (Split.loaded parses them)."""
        if self.reader is None or self.output is None:
            return self.error or "not readable through DVC"
        rel = relative_key(path, self.root)
        if rel is None:
            return f"it is not inside the dataset root {self.root}"
        md5 = self.files.get(rel, "")
        return self.reader.read(path, max_bytes, self.output, md5)

    def image_index(self, folder: Path) -> ImageIndex:
        index = ImageIndex(folder, source="dvc")
        prefix = self._under(folder)
        if not prefix:
            return index
        for rel, md5 in self._tree.get(prefix, {}).items():
            if not isinstance(md5, dict):
                index.files[rel] = FileInfo("file", md5=md5 or None)
        return index


def open_remote(root: Path, declared_in: Path) -> RemoteDataset:
    """The dataset root as the .dvc file / dvc.lock records it, listed through DVC."""
    output = output_of(root, declared_in)
    if output is None:
        return RemoteDataset(root, error=f"{declared_in.name} does not track {root}")
    try:
        reader = reader_for(declared_in)
        manifest = reader.manifest(output)
    except DvcError:
        raise
    except Exception as exc:  # no remote, unreachable remote, object missing, ...
        return RemoteDataset(root, error=str(exc) or type(exc).__name__)
    prefix = relative_key(root, output.path)
    if prefix is None:
        return RemoteDataset(root, error=f"{root} is not inside the DVC output {output.path}")
    prefix = prefix and prefix + "/"
    files = {rel[len(prefix) :]: md5 for rel, md5 in manifest.items() if rel.startswith(prefix)}
    return RemoteDataset(root, reader, output, files)


ManifestSource = Callable[[TrackedOutput], "Manifest | None"]
