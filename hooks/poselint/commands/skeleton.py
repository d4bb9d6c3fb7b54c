"""The skeleton contract: each keypoint category's names, order, edges and flip pairs, pinned
in the configuration ([tool.poselint.skeleton."<category>"]) and checked on every split (PL701,
PL702); `poselint skeleton init` writes it, `poselint skeleton export` turns it into a
framework's config (Ultralytics, MMPose, Detectron2)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poselint.config import Config, ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

COCO_KEYPOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
# COCO's per-keypoint OKS constants (cocoeval.py), for the layout above
COCO_SIGMAS = (
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107,
    0.107, 0.087, 0.087, 0.089, 0.089,
)  # fmt: skip
DEFAULT_SIGMA = 0.05  # layouts without COCO's names or contract sigmas: between face and body

Pair = tuple[str, str]


@dataclass(frozen=True)
class Contract:
    """One category's pinned skeleton (names, not indices: a diff reads as names)."""

    category: str
    keypoints: tuple[str, ...]
    edges: tuple[Pair, ...]
    flip_pairs: tuple[Pair, ...]
    sigmas: tuple[float, ...] | None = None

    def sigma_values(self) -> tuple[float, ...]:
        return sigmas_for(self.keypoints, self.sigmas)


def sigmas_for(names: Sequence[str], given: Sequence[float] | None = None) -> tuple[float, ...]:
    if given is not None and len(given) == len(names):
        return tuple(given)
    if tuple(names) == COCO_KEYPOINTS:
        return COCO_SIGMAS
    return (DEFAULT_SIGMA,) * len(names)


# ---- left/right names -------------------------------------------------------------------

_SEP = r"[ _.\-]"
_PATTERNS = (
    # left_hip, "Left hip", LeftHip (not "leftover": a separator or a capital must follow)
    (re.compile(rf"^([Ll]eft|[Rr]ight|LEFT|RIGHT)(?:{_SEP}|(?=[A-Z0-9]))(.+)$"), 1, 2),
    (re.compile(rf"^(.+?){_SEP}(left|right)$", re.I), 2, 1),  # hip_left
    (re.compile(r"^(.+?[a-z0-9])(Left|Right)$"), 2, 1),  # HipLeft
    (re.compile(rf"^([lr]){_SEP}(.+)$", re.I), 1, 2),  # l_hip, L_hip, "l hip"
    (re.compile(rf"^(.+?){_SEP}([lr])$", re.I), 2, 1),  # hip_l
    (re.compile(r"^([LR])([A-Z].*)$"), 1, 2),  # LHip (OpenPose)
)


def side_of(name: str) -> tuple[str, str] | None:
    """("left" | "right", the part's name without the side) when the name says a side."""
    for pattern, side_group, base_group in _PATTERNS:
        m = pattern.match(name)
        if m:
            side = m.group(side_group).lower()[0]
            base = re.sub(_SEP, "", m.group(base_group)).lower()
            return ("left" if side == "l" else "right"), base
    return None


def derive_flip_pairs(names: Sequence[str]) -> tuple[Pair, ...]:
    """(left, right) name pairs whose names differ only in the side, in keypoint order."""
    sides = {name: side_of(name) for name in names}
    right_of = {
        s[1]: name for name, s in sides.items() if s is not None and s[0] == "right"
    }  # base -> right name
    pairs: list[Pair] = []
    for name in names:
        s = sides[name]
        if s is not None and s[0] == "left" and s[1] in right_of:
            pairs.append((name, right_of.pop(s[1])))
    return tuple(pairs)


def flip_issues(contract: Contract) -> list[str]:
    """What is wrong with the contract's flip pairs, given its names (PL702)."""
    issues: list[str] = []
    sides = {name: side_of(name) for name in contract.keypoints}
    paired = {n for pair in contract.flip_pairs for n in pair}
    for left, right in contract.flip_pairs:
        a, b = sides.get(left), sides.get(right)
        if a is not None and b is not None and (a[1] != b[1] or a[0] == b[0]):
            issues.append(
                f"flip pair [{left!r}, {right!r}] pairs points whose names do not mirror each other"
            )
    for left, right in derive_flip_pairs(contract.keypoints):
        if left not in paired and right not in paired:
            issues.append(
                f"{left!r} and {right!r} mirror each other but are not a flip pair: a "
                "horizontal-flip augmentation would keep them on the wrong sides"
            )
    return issues


# ---- the contract in the configuration ---------------------------------------------------


def _names(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{what} must be a list of strings")
    return tuple(value)


def _pairs(value: Any, what: str, names: tuple[str, ...]) -> tuple[Pair, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{what} must be a list of [name, name] pairs")
    out: list[Pair] = []
    for pair in value:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(n, str) for n in pair)
        ):
            raise ConfigError(f"{what}: {pair!r} is not a [name, name] pair")
        unknown = [n for n in pair if n not in names]
        if unknown:
            raise ConfigError(f"{what}: {pair!r} names {unknown[0]!r}, which is not a keypoint")
        if pair[0] == pair[1]:
            raise ConfigError(f"{what}: {pair!r} pairs a keypoint with itself")
        out.append((pair[0], pair[1]))
    return tuple(out)


def parse_contract(category: str, table: Any) -> Contract:
    where = f"skeleton contract {category!r}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - {"keypoints", "edges", "flip_pairs", "sigmas"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}")
    keypoints = _names(table.get("keypoints"), f"{where}: 'keypoints'")
    if len(set(keypoints)) != len(keypoints):
        raise ConfigError(f"{where}: 'keypoints' names a keypoint twice")
    edges = _pairs(table.get("edges", []), f"{where}: 'edges'", keypoints)
    flips = _pairs(table.get("flip_pairs", []), f"{where}: 'flip_pairs'", keypoints)
    seen = [n for pair in flips for n in pair]
    twice = sorted({n for n in seen if seen.count(n) > 1})
    if twice:
        raise ConfigError(f"{where}: 'flip_pairs' puts {twice[0]!r} in two pairs")
    sigmas = table.get("sigmas")
    if sigmas is not None and (
        not isinstance(sigmas, list)
        or len(sigmas) != len(keypoints)
        or not all(
            isinstance(s, (int, float)) and not isinstance(s, bool) and s > 0 for s in sigmas
        )
    ):
        raise ConfigError(f"{where}: 'sigmas' must be {len(keypoints)} positive numbers")
    return Contract(
        category, keypoints, edges, flips, tuple(float(s) for s in sigmas) if sigmas else None
    )


def load_contracts(value: Any, base: Path) -> dict[str, Contract]:
    """[tool.poselint.skeleton]: category name -> table, or the name of a TOML file whose
    [skeleton] (or top-level) tables are that."""
    if isinstance(value, str):
        from poselint.config import _read_toml

        path = (base / value).resolve()
        if not path.is_file():
            raise ConfigError(f"skeleton = {value!r}: no such file {path}")
        data = _read_toml(path)
        value = data.get("tool", {}).get("poselint", data).get("skeleton", data)
    if not isinstance(value, dict):
        raise ConfigError("'skeleton' must be a table of categories or a file name")
    return {str(name): parse_contract(str(name), table) for name, table in value.items()}


# ---- what a split's categories say -------------------------------------------------------


def category_edges(names: Sequence[str], skeleton: Any) -> tuple[list[Pair], list[Any]]:
    """The category's 1-based `skeleton` as name pairs, and the entries that name no keypoint."""
    edges: list[Pair] = []
    bad: list[Any] = []
    for edge in skeleton if isinstance(skeleton, list) else []:
        if (
            isinstance(edge, list)
            and len(edge) == 2
            and all(type(i) is int and 1 <= i <= len(names) for i in edge)
        ):
            edges.append((names[edge[0] - 1], names[edge[1] - 1]))
        else:
            bad.append(edge)
    return edges, bad


def contracts_from_document(document: dict[str, Any]) -> dict[str, Contract]:
    """A contract for every category with keypoints, as the document defines it."""
    out: dict[str, Contract] = {}
    categories = document.get("categories")
    for cat in categories if isinstance(categories, list) else []:
        if not isinstance(cat, dict) or not isinstance(cat.get("name"), str):
            continue
        names = cat.get("keypoints")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            continue
        edges, _ = category_edges(names, cat.get("skeleton"))
        sigmas = COCO_SIGMAS if tuple(names) == COCO_KEYPOINTS else None
        out[cat["name"]] = Contract(
            cat["name"], tuple(names), tuple(edges), derive_flip_pairs(names), sigmas
        )
    return out


def _order_changes(contract: Sequence[str], found: Sequence[str]) -> list[str]:
    pos = {n: i for i, n in enumerate(contract)}
    return [f"{n!r} is keypoint {i}, not {pos[n]}" for i, n in enumerate(found) if pos[n] != i]


def keypoint_changes(contract: Sequence[str], found: Sequence[str]) -> list[str]:
    """What changed from the contract's keypoint list to `found`, each change named."""
    if list(contract) == list(found):
        return []
    out: list[str] = []
    kept, now = set(contract), set(found)
    renamed = set()
    for i in range(min(len(contract), len(found))):
        if contract[i] != found[i] and contract[i] not in now and found[i] not in kept:
            out.append(f"keypoint {i} renamed: {contract[i]!r} in the contract, {found[i]!r} here")
            renamed.add(i)
    for i, n in enumerate(found):
        if n not in kept and i not in renamed:
            out.append(f"keypoint {i} {n!r} added (not in the contract)")
    for i, n in enumerate(contract):
        if n not in now and i not in renamed:
            out.append(f"keypoint {i} {n!r} of the contract removed")
    common_contract = [n for n in contract if n in now]
    common_found = [n for n in found if n in kept]
    if common_contract != common_found:
        out.append("keypoints reordered: " + "; ".join(_order_changes(contract, found)))
    elif kept == now and not out:  # same names, same relative order: cannot happen
        out.append("keypoints differ from the contract")
    return out


def edge_changes(contract: Iterable[Pair], found: Iterable[Pair]) -> list[str]:
    """Edges are unordered pairs: [a, b] and [b, a] are one limb."""
    contract, found = list(contract), list(found)
    want = {frozenset(e) for e in contract}
    have = {frozenset(e) for e in found}
    out = [
        f"edge [{a!r}, {b!r}] added (not in the contract)"
        for a, b in found
        if frozenset((a, b)) not in want
    ]
    out += [
        f"edge [{a!r}, {b!r}] of the contract removed"
        for a, b in contract
        if frozenset((a, b)) not in have
    ]
    return out


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
    from poselint.fsutil import atomic_write_bytes

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
    got = load_contracts(table.get("skeleton", {}), path.parent)
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


def add_skeleton_parser(sub: Any) -> None:
    p = sub.add_parser("skeleton", help="pin the keypoint layout (init) and export it")
    verbs = p.add_subparsers(dest="verb", required=True, parser_class=type(p))
    init = verbs.add_parser("init", help="write the dataset's skeleton contract into the config")
    init.add_argument("root", type=Path, nargs="?", metavar="ROOT", help="the dataset root")
    init.add_argument("--config", type=Path, help="a pyproject.toml or poselint.toml to use")
    init.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help='write the contract to this TOML file instead (point `skeleton = "FILE"` at it)',
    )
    export = verbs.add_parser("export", help="print the contract as a framework's config")
    export.add_argument("--format", choices=sorted(EXPORTS), required=True, dest="export_format")
    export.add_argument("--category", help="the category to export (default: the only one)")
    export.add_argument("--config", type=Path, help="a pyproject.toml or poselint.toml to use")


def _dataset_contracts(root: Path, config: Config) -> dict[str, Contract]:
    """The contract every split agrees on; a ConfigError naming the first disagreement."""
    from poselint.discovery import discover
    from poselint.load.dataset import Dataset

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


def run_skeleton(args: argparse.Namespace, config: Config) -> int:
    from poselint.diagnostics import display_path

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
