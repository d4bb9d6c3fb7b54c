"""The skeleton contract: each keypoint category's names, order, edges and flip pairs, pinned
in the configuration ([tool.poselint.skeleton."<category>"]) and checked on every split (PL701,
PL702). Written by `poselint skeleton init` (commands/skeleton.py)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover - exercised on 3.10 only
    pass


class ContractError(ValueError):
    """A contract the configuration cannot hold; config.py names the file."""


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
        raise ContractError(f"{what} must be a list of strings")
    return tuple(value)


def _pairs(value: Any, what: str, names: tuple[str, ...]) -> tuple[Pair, ...]:
    if not isinstance(value, list):
        raise ContractError(f"{what} must be a list of [name, name] pairs")
    out: list[Pair] = []
    for pair in value:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(n, str) for n in pair)
        ):
            raise ContractError(f"{what}: {pair!r} is not a [name, name] pair")
        unknown = [n for n in pair if n not in names]
        if unknown:
            raise ContractError(f"{what}: {pair!r} names {unknown[0]!r}, which is not a keypoint")
        if pair[0] == pair[1]:
            raise ContractError(f"{what}: {pair!r} pairs a keypoint with itself")
        out.append((pair[0], pair[1]))
    return tuple(out)


def parse_contract(category: str, table: Any) -> Contract:
    where = f"skeleton contract {category!r}"
    if not isinstance(table, dict):
        raise ContractError(f"{where} must be a table")
    unknown = sorted(set(table) - {"keypoints", "edges", "flip_pairs", "sigmas"})
    if unknown:
        raise ContractError(f"{where}: unknown key {unknown[0]!r}")
    keypoints = _names(table.get("keypoints"), f"{where}: 'keypoints'")
    if len(set(keypoints)) != len(keypoints):
        raise ContractError(f"{where}: 'keypoints' names a keypoint twice")
    edges = _pairs(table.get("edges", []), f"{where}: 'edges'", keypoints)
    flips = _pairs(table.get("flip_pairs", []), f"{where}: 'flip_pairs'", keypoints)
    seen = [n for pair in flips for n in pair]
    twice = sorted({n for n in seen if seen.count(n) > 1})
    if twice:
        raise ContractError(f"{where}: 'flip_pairs' puts {twice[0]!r} in two pairs")
    sigmas = table.get("sigmas")
    if sigmas is not None and (
        not isinstance(sigmas, list)
        or len(sigmas) != len(keypoints)
        or not all(
            isinstance(s, (int, float)) and not isinstance(s, bool) and s > 0 for s in sigmas
        )
    ):
        raise ContractError(f"{where}: 'sigmas' must be {len(keypoints)} positive numbers")
    return Contract(
        category, keypoints, edges, flips, tuple(float(s) for s in sigmas) if sigmas else None
    )


def load_contracts(value: Any) -> dict[str, Contract]:
    """[tool.poselint.skeleton]: category name -> table (config.py reads a named file)."""
    if not isinstance(value, dict):
        raise ContractError("'skeleton' must be a table of categories or a file name")
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
