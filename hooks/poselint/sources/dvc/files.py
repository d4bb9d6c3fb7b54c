"""DVC's own files: `.dvc` files, `dvc.yaml` and `dvc.lock`, read as plain YAML without dvc.

The one parser of them (the workspace, discovery, `--fix` hints and `poselint diff` at a
revision alike): every read is bounded and stays in the repository, every output path is
checked to stay in it, every recorded hash is checked before it can name a cache object.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poselint.diagnostics import display_path
from poselint.fsutil import Refused, inside, read_regular_file
from poselint.sources.dvc.config import find_dvc_root, find_repo_root
from poselint.sources.errors import DiscoveryError

# A .dvc file, dvc.yaml or dvc.lock lists outputs and stages, not files: far below this.
MAX_DVC_FILE_BYTES = 16 << 20
PIPELINE_FILES = ("dvc.yaml", "dvc.yml")
# A quoted piece of the file in a YAML error ('<scalar>' names a token kind: kept).
_QUOTED = re.compile(r"'(?!<[a-z ]+>')[^']*'|\"[^\"]*\"")


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
        return self.declared_in.name in PIPELINE_FILES


def parse_yaml(data: bytes) -> Any:
    """A DVC file's YAML; ValueError saying why it does not parse, by line and column, never
    with the file's content (a DVC file can be a link to a credentials file)."""
    import yaml  # only where DVC files are read: keeps `poselint` start-up light

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        # a safe loader: libyaml's when built
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = _QUOTED.sub("'...'", exc.problem or "")
        raise ValueError(f"not valid YAML{where}" + (f": {problem}" if problem else "")) from None
    except yaml.YAMLError:
        raise ValueError("not valid YAML") from None
    except RecursionError:
        raise ValueError("not valid YAML: nested too deeply") from None


def load_yaml(path: Path) -> Any:
    """A DVC file, read where it is (a symlinked one too), only when its real path is inside
    the repository holding it: a hostile repo's `dvc.yaml -> ~/.aws/credentials` is not read."""
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


def _recorded_md5(out: dict[str, Any], declared_in: Path) -> str | None:
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
    return outputs_of_dvc_data(load_yaml(dvc_file), dvc_file)


def outputs_of_pipeline(data: Any, lock: Any, dvc_yaml: Path) -> list[TrackedOutput]:
    """Stage `outs` of a parsed dvc.yaml, with the hashes its parsed dvc.lock records.

    A stage's outs, and the paths dvc.lock records for them, are relative to the stage's
    `wdir` (default: dvc.yaml's folder)."""
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
    data = load_yaml(dvc_yaml)
    lock_path = dvc_yaml.with_name("dvc.lock")
    lock = load_yaml(lock_path) if lock_path.is_file() else None
    return outputs_of_pipeline(data, lock, dvc_yaml)


def outputs_declared_in(path: Path) -> list[TrackedOutput]:
    """The outputs a .dvc file, a dvc.yaml or (through its dvc.yaml) a dvc.lock declares."""
    if path.name in ("dvc.lock",):
        path = path.with_name("dvc.yaml")
        if not path.is_file():
            return []
    if path.name in PIPELINE_FILES:
        return outputs_of_dvc_yaml(path)
    return outputs_of_dvc_file(path)


def output_holding(root: Path, outputs: list[TrackedOutput]) -> TrackedOutput | None:
    """The output that is root or holds it."""
    for out in outputs:
        if root == out.path or out.path in root.parents:
            return out
    return None


def output_of(root: Path, declared_in: Path) -> TrackedOutput | None:
    """The output of declared_in that is root or holds it."""
    return output_holding(root, outputs_declared_in(declared_in))


# --- what to type: the commands a diagnostic names ------------------------------------------


def display(path: Path) -> str:
    """A path as a command to type in the cwd would name it, in the form diagnostics use
    (relative when below the cwd, else absolute)."""
    return display_path(path, Path.cwd())


def pull_target(root: Path, declared_in: Path, outputs: list[TrackedOutput] | None = None) -> str:
    """What to name in `dvc pull X`: the .dvc file, or a dvc.yaml output (outputs: what
    declared_in declares, when already parsed)."""
    if declared_in.name in PIPELINE_FILES:
        if outputs is None:
            outputs = outputs_declared_in(declared_in)
        out = output_holding(root, outputs)
        return display(out.path if out else root)
    return display(declared_in)


def not_pulled_hint(root: Path, declared_in: Path, error: str | None) -> str:
    """PL100's advice for a tracked root that is not there; error: why --no-pull could not
    read it through DVC, if it tried."""
    target = pull_target(root, declared_in)
    if error:
        return (
            f"--no-pull could not read it through DVC ({error}): run `dvc pull {target}` "
            "or check the DVC remote"
        )
    return f"run `dvc pull {target}`, or lint it from the DVC cache or remote with --no-pull"
