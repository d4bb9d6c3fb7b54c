"""`poselint skeleton init` writes the dataset's skeleton contract (contract.py) into the
configuration; `poselint skeleton export` turns it into a framework's config (Ultralytics,
MMPose, Detectron2)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from poselint.config import Config, ConfigError, load_config
from poselint.contract import (
    Contract,
    contracts_from_document,
    edge_changes,
    keypoint_changes,
    load_contracts,
)
from poselint.diagnostics import display_path
from poselint.discovery import discover
from poselint.fsutil import atomic_write_bytes
from poselint.load.dataset import Dataset

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


# ---- writing the contract into a TOML file ------------------------------------------------


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def render_contracts(contracts: dict[str, Contract], prefix: str) -> str:
    """The TOML tables for `contracts`; prefix: "tool.poselint.skeleton" or "skeleton"."""
    blocks: list[str] = []
    for name, c in contracts.items():
        lines = [f"[{prefix}.{_toml_str(name)}]"]
        lines.append(f"keypoints = {_toml_list(c.keypoints)}")
        lines.append("edges = [" + ", ".join(_toml_list(e) for e in c.edges) + "]")
        lines.append("flip_pairs = [" + ", ".join(_toml_list(p) for p in c.flip_pairs) + "]")
        if c.sigmas is not None:
            lines.append("sigmas = [" + ", ".join(f"{s:g}" for s in c.sigmas) + "]")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _skeleton_header(prefix: str) -> re.Pattern[str]:
    dotted = r"\s*\.\s*".join(map(re.escape, prefix.split(".")))
    return re.compile(r"^\s*\[\s*" + dotted + r"\s*[\].]")


def replace_skeleton_tables(text: str, prefix: str, new_block: str) -> str:
    """`text` with every [prefix...] table replaced by new_block (at the first one's place,
    else appended); every other byte kept. The comments and blank lines just above the next
    table belong to it, not to the skeleton table before them."""
    head = _skeleton_header(prefix)
    out: list[str] = []
    skipped: list[str] = []
    at: int | None = None
    inside = False
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        if stripped.startswith("["):
            if inside:  # give the next table back its leading comments and blank lines
                keep = len(skipped)
                while keep and skipped[keep - 1].lstrip()[:1] in ("", "#"):
                    keep -= 1
                out.extend(skipped[keep:])
                skipped = []
            inside = bool(head.match(line))
        if inside:
            if at is None:
                at = len(out)
            skipped.append(line)
            continue
        out.append(line)
    if at is None:
        body = "".join(out)
        if body and not body.endswith("\n"):
            body += "\n"
        return body + ("\n" if body else "") + new_block
    tail = "".join(out[at:])
    block = new_block if not tail or tail.startswith("\n") else new_block + "\n"
    return "".join(out[:at]) + block + tail


def _without_skeleton(data: dict[str, Any], pyproject: bool) -> dict[str, Any]:
    data = json.loads(json.dumps(data, default=str))
    table = data.get("tool", {}).get("poselint") if pyproject else data
    if isinstance(table, dict):
        table.pop("skeleton", None)
    return data


def write_contracts(path: Path, contracts: dict[str, Contract]) -> str:
    """Write the contract into `path` (pyproject.toml: [tool.poselint.skeleton...]; any other
    file: [skeleton...]), leaving the rest of the file byte for byte; returns the prefix."""
    pyproject = path.name == "pyproject.toml"
    prefix = "tool.poselint.skeleton" if pyproject else "skeleton"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        before = tomllib.loads(old)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    new = replace_skeleton_tables(old, prefix, render_contracts(contracts, prefix))
    # the rewrite must change the skeleton and nothing else (an inline `skeleton = {...}` or
    # a header inside a multi-line string would defeat the line-based edit: refuse then)
    try:
        after = tomllib.loads(new)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: could not place the skeleton tables safely ({exc})") from exc
    if _without_skeleton(before, pyproject) != _without_skeleton(after, pyproject):
        raise ConfigError(f"{path}: could not place the skeleton tables safely; edit it by hand")
    table = after.get("tool", {}).get("poselint", {}) if pyproject else after
    got = load_contracts(table.get("skeleton", {}))
    if got != contracts:
        raise ConfigError(f"{path}: an existing 'skeleton' key defeats the rewrite; remove it")
    atomic_write_bytes(path, new.encode("utf-8"))
    return prefix


# ---- exports -----------------------------------------------------------------------------


def flip_index(c: Contract) -> list[int]:
    """For each keypoint, the index of its mirror (itself when unpaired): Ultralytics flip_idx."""
    idx = list(range(len(c.keypoints)))
    pos = {n: i for i, n in enumerate(c.keypoints)}
    for a, b in c.flip_pairs:
        idx[pos[a]], idx[pos[b]] = pos[b], pos[a]
    return idx


def export_ultralytics(c: Contract) -> str:
    lines = [
        f"# poselint skeleton export: category {c.category!r}",
        "names:",
        f"  0: {json.dumps(c.category)}",
        f"kpt_shape: [{len(c.keypoints)}, 3]",
        "flip_idx: [" + ", ".join(map(str, flip_index(c))) + "]",
        "kpt_names:",
        "  0:",
        *[f"    - {json.dumps(n)}" for n in c.keypoints],
    ]
    return "\n".join(lines) + "\n"


_LOWER = re.compile(r"hip|knee|ankle|foot|heel|toe", re.I)


def export_mmpose(c: Contract) -> str:
    mirror = {a: b for a, b in c.flip_pairs} | {b: a for a, b in c.flip_pairs}
    pos = {n: i for i, n in enumerate(c.keypoints)}
    out = [f"# poselint skeleton export: category {c.category!r}", "dataset_info = dict(",
           f"    dataset_name={c.category!r},", "    keypoint_info={"]  # fmt: skip
    for i, name in enumerate(c.keypoints):
        kind = "lower" if _LOWER.search(name) else "upper"  # for half-body augmentation
        out.append(
            f"        {i}: dict(name={name!r}, id={i}, color=[255, 128, 0], type={kind!r}, "
            f"swap={mirror.get(name, '')!r}),"
        )
    out.append("    },")
    out.append("    skeleton_info={")
    for i, (a, b) in enumerate(c.edges):
        out.append(f"        {i}: dict(link=({a!r}, {b!r}), id={i}, color=[0, 255, 0]),")
    out.append("    },")
    out.append("    joint_weights=[" + ", ".join("1.0" for _ in c.keypoints) + "],")
    out.append("    sigmas=[" + ", ".join(f"{s:g}" for s in c.sigma_values()) + "],")
    out.append(")")
    out.append(
        "flip_indices = [" + ", ".join(str(i) for i in flip_index(c)) + f"]  # {len(pos)} keypoints"
    )
    return "\n".join(out) + "\n"


def export_detectron2(c: Contract) -> str:
    lines = [
        f"# poselint skeleton export: category {c.category!r}",
        "# MetadataCatalog.get(name).set(**metadata); cfg.MODEL.ROI_KEYPOINT_HEAD.NUM_KEYPOINTS"
        f" = {len(c.keypoints)}",
        "metadata = dict(",
        "    keypoint_names=(" + ", ".join(repr(n) for n in c.keypoints) + ",),",
        "    keypoint_flip_map=(" + ", ".join(f"({a!r}, {b!r})" for a, b in c.flip_pairs) + ",),",
        "    keypoint_connection_rules=["
        + ", ".join(f"({a!r}, {b!r}, (255, 0, 0))" for a, b in c.edges)
        + "],",
        ")",
    ]
    return "\n".join(lines) + "\n"


EXPORTS = {
    "ultralytics": export_ultralytics,
    "mmpose": export_mmpose,
    "detectron2": export_detectron2,
}


# ---- the `skeleton` subcommand ----------------------------------------------------------


def _dataset_contracts(root: Path, config: Config) -> dict[str, Contract]:
    """The contract every split agrees on; a ConfigError naming the first disagreement."""
    targets = discover([root]).targets
    if len(targets) != 1:
        raise ConfigError(f"{root}: give one dataset root ({len(targets)} found)")
    dataset = Dataset(targets[0].root, config)
    found: dict[str, Contract] = {}
    first: dict[str, str] = {}
    for split in dataset.splits:
        if split.document is None:
            continue
        for name, c in contracts_from_document(split.document).items():
            if name not in found:
                found[name], first[name] = c, split.name
                continue
            changes = keypoint_changes(found[name].keypoints, c.keypoints) or edge_changes(
                found[name].edges, c.edges
            )
            if changes:
                raise ConfigError(
                    f"splits {first[name]} and {split.name} disagree on category {name!r}: "
                    f"{changes[0]}; make them agree first"
                )
    if not found:
        raise ConfigError(f"{root}: no split defines a category with keypoints")
    return found


def _config_file(args: argparse.Namespace, config: Config) -> Path:
    if args.config is not None:
        return Path(args.config)
    if config.source is not None:
        return config.source
    return (
        Path.cwd() / "pyproject.toml"
        if (Path.cwd() / "pyproject.toml").is_file()
        else (Path.cwd() / "poselint.toml")
    )


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.verb == "init":
        root = args.root or (config.datasets[0] if config.datasets else Path.cwd())
        contracts = _dataset_contracts(root, config)
        target = args.output or _config_file(args, config)
        prefix = write_contracts(target, contracts)
        for c in contracts.values():
            print(
                f"pinned {c.category!r}: {len(c.keypoints)} keypoints, {len(c.edges)} edges, "
                f"{len(c.flip_pairs)} flip pairs -> [{prefix}.{_toml_str(c.category)}] in "
                f"{display_path(target.absolute(), Path.cwd())}"
            )
        if args.output is not None:
            print(f'point the configuration at it: skeleton = "{args.output}"')
        return 0
    pinned: dict[str, Contract] = config.skeleton
    if not pinned:
        raise ConfigError("no skeleton contract configured: run `poselint skeleton init` first")
    if args.category is None and len(pinned) > 1:
        raise ConfigError(f"several categories pinned ({', '.join(pinned)}): pick --category")
    name = args.category or next(iter(pinned))
    if name not in pinned:
        raise ConfigError(f"no category {name!r} in the skeleton contract")
    sys.stdout.write(EXPORTS[args.export_format](pinned[name]))
    return 0
