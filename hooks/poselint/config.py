"""[tool.poselint] in pyproject.toml (or a poselint.toml): load, validate, default."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from poselint.contract import Contract, ContractError, load_contracts
from poselint.diagnostics import Severity

DEFAULT_SPLITS = ("train", "val", "test")
DEFAULT_REQUIRED_SPLITS = ("train", "val")
SEVERITIES = ("error", "warning")


class ConfigError(Exception):
    """The configuration cannot be used: the CLI exits 2 with this message."""


@dataclass(frozen=True)
class Config:
    source: Path | None = None  # the file it came from; None for built-in defaults
    datasets: tuple[Path, ...] = ()
    splits: tuple[str, ...] = DEFAULT_SPLITS
    required_splits: tuple[str, ...] = DEFAULT_REQUIRED_SPLITS
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    # Outside (v=0) points must sit at x=y=0. Teams that round-trip through CVAT
    # may keep the drawn coordinates: set false to turn PL601 into a no-op.
    zero_outside_keypoints: bool = True
    # Largest annotation file we read into memory (bytes): a clear error beats swapping.
    max_annotation_bytes: int = 2 * 1024**3
    # Duplicate JSON keys need a second (stdlib) parse; do it for files up to this size.
    duplicate_key_check_bytes: int = 64 * 1024**2
    # Diagnostics kept per rule and file; the rest become one "... and N more" diagnostic.
    # Bounds time and memory on a raw CVAT export with millions of stale points.
    max_findings_per_file: int = 10_000
    # Diagnostics printed per rule and file in text/github output; the rest are counted.
    max_per_rule: int = 20
    image_size: bool = True
    # PL413 split leakage uses the md5s DVC already recorded. Without DVC it needs to hash
    # the images (only files whose sizes collide across splits): opt in with true.
    leakage_hash_images: bool = False
    # Pose checks (PL7xx): the skeleton contract, by category name (contract.py), and the
    # thresholds of the duplicate-person and limb-length checks.
    skeleton: dict[str, Contract] = field(default_factory=dict)
    duplicate_oks: float = 0.95
    limb_factor: float = 1.6
    # A baseline file (`check --write-baseline`): its findings are accepted, new ones fail.
    baseline: Path | None = None


_KEYS = {f.name for f in fields(Config)} - {"source"}


def _str_list(where: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}'{key}' must be a list of strings")
    return tuple(value)


def _selectors(where: str, key: str, value: Any) -> tuple[str, ...]:
    # "" is a prefix of every code: as an ignore it switched every rule off, unseen.
    found = _str_list(where, key, list(value) if isinstance(value, dict) else value)
    if any(not v.strip() for v in found):
        what = "a rule code" if key == "severity" else "a rule code or prefix"
        raise ConfigError(f"{where}'{key}' holds an empty rule selector: give {what}")
    return found


def _dataset_path(where: str, base: Path, value: str) -> Path:
    if "\0" in value:
        raise ConfigError(f"{where}'datasets': {value!r} is not a path (it holds a NUL byte)")
    try:
        return (base / value).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
        raise ConfigError(f"{where}'datasets': {value!r}: {exc}") from exc


# --- pose checks (PL7xx): [tool.poselint.skeleton] and their thresholds ---
_POSE_KEYS = ("skeleton", "duplicate_oks", "limb_factor")


def _pose_setting(where: str, key: str, value: Any, base: Path) -> Any:
    if key == "skeleton":  # a table, or the name of a TOML file holding one
        if isinstance(value, str):  # [skeleton] (or top-level) tables of that file
            path = (base / value).resolve()
            if not path.is_file():
                raise ConfigError(f"{where}skeleton = {value!r}: no such file {path}")
            data = _read_toml(path)
            value = data.get("tool", {}).get("poselint", data).get("skeleton", data)
        try:
            return load_contracts(value)
        except ContractError as exc:  # name the file, as every other config error does
            raise ConfigError(f"{where}{exc}") from None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ConfigError(f"{where}'{key}' must be a number")
    if key == "duplicate_oks" and not 0 < value <= 1:
        raise ConfigError(f"{where}'duplicate_oks' must be in (0, 1]")
    if key == "limb_factor" and not value > 1:
        raise ConfigError(f"{where}'limb_factor' must be greater than 1")
    return float(value)


def parse_config(table: dict[str, Any], source: Path | None) -> Config:
    # Every error names the file and the key: "pyproject.toml: 'splits' must be ..."
    where = f"{source}: [tool.poselint] " if source else "[tool.poselint] "
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(
            f"{where}unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
        )
    base = source.parent if source else Path.cwd()
    kwargs: dict[str, Any] = {"source": source}
    for key, value in table.items():
        if key == "datasets":
            kwargs[key] = tuple(_dataset_path(where, base, p) for p in _str_list(where, key, value))
        elif key in ("splits", "required_splits"):
            kwargs[key] = _str_list(where, key, value)
        elif key in ("select", "ignore"):
            kwargs[key] = _selectors(where, key, value)
        elif key == "severity":
            if not isinstance(value, dict) or any(v not in SEVERITIES for v in value.values()):
                raise ConfigError(
                    f'{where}\'severity\' must map rule codes to "error" or "warning"'
                )
            _selectors(where, key, value)
            kwargs[key] = {str(k).upper(): v for k, v in value.items()}
        elif key in _POSE_KEYS:
            kwargs[key] = _pose_setting(where, key, value, base)
        elif key == "baseline":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where}'baseline' must be a path (relative to the config file)")
            kwargs[key] = (base / value).resolve()
        elif key in ("zero_outside_keypoints", "image_size", "leakage_hash_images"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}'{key}' must be true or false")
            kwargs[key] = value
        else:  # integer settings
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{where}'{key}' must be a non-negative integer")
            kwargs[key] = value
    config = Config(**kwargs)
    bad_required = sorted(set(config.required_splits) - set(config.splits))
    if bad_required:
        raise ConfigError(
            f"{where}'required_splits' {bad_required} are not in 'splits' {list(config.splits)}"
        )
    bad_splits = [
        s for s in config.splits if s != s.lower() or s in ("", ".", "..") or "/" in s or "\0" in s
    ]
    if bad_splits:
        raise ConfigError(f"{where}'splits' must be lowercase folder names: {bad_splits}")
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except UnicodeDecodeError as exc:  # tomllib decodes the bytes as UTF-8 itself
        raise ConfigError(f"cannot read {path}: TOML must be UTF-8 text ({exc})") from exc
    except RecursionError as exc:
        raise ConfigError(f"cannot read {path}: arrays or tables nested too deeply") from exc
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _tool_table(data: dict[str, Any], path: Path) -> dict[str, Any] | None:
    """The file's [tool.poselint] table, None when it has none."""
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: 'tool' must be a table ([tool.poselint]), not {tool!r:.40}")
    table = tool.get("poselint")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.poselint] must be a table")
    return table


def load_config_file(path: Path) -> Config:
    data = _read_toml(path)
    table = _tool_table(data, path)
    if table is None:  # poselint.toml holds the keys at top level; pyproject.toml: defaults
        table = {} if path.name == "pyproject.toml" else data
    return parse_config(table, path.resolve())


def find_config(start: Path) -> Config:
    """Nearest poselint.toml, or pyproject.toml with a [tool.poselint] table, from start upward."""
    for folder in [start, *start.parents]:
        candidate = folder / "poselint.toml"
        if candidate.is_file():
            return load_config_file(candidate)
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _tool_table(_read_toml(candidate), candidate) is not None:
            return load_config_file(candidate)
    return Config()


def load_config(path: Path | None) -> Config:
    """`--config FILE` when given, else the configuration found from the working directory."""
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        return load_config_file(path)
    return find_config(Path.cwd())
