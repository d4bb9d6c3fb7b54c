"""The people of each keypoint category of a split as (K, n) arrays, built once per split
and shared by PL703-PL705."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poselint.contract import Contract, category_edges, derive_flip_pairs, sigmas_for
from poselint.lazy import np
from poselint.load.dataset import Split
from poselint.load.tables import _numbers, column, entries

if TYPE_CHECKING:
    from poselint.rules.pose.common import BoolArray, Float32Array, FloatArray, IntArray


@dataclass(eq=False)
class Group:
    """The people of one keypoint category in a split, point by point: row k of x, y, lab is
    keypoint k of every person (contiguous, so a skeleton edge is two row reads)."""

    name: str
    names: tuple[str, ...]
    edges: list[tuple[int, int]]
    flips: list[tuple[int, int]]  # (left, right) keypoint indices
    sigmas: FloatArray
    anns: IntArray  # annotation rows, one per person
    x: Float32Array  # (K, n)
    y: Float32Array
    lab: BoolArray  # (K, n): labelled, v > 0
    scale: FloatArray  # (n,): sqrt of the area (or of the bbox's); NaN when neither

    def dist(
        self, i: int | IntArray, j: int | IntArray, people: IntArray | None = None
    ) -> Float32Array:
        """Keypoint i to keypoint j, of every person or of `people` only."""
        if people is None:
            dx, dy = self.x[i] - self.x[j], self.y[i] - self.y[j]
        else:
            dx, dy = self.x[i, people] - self.x[j, people], self.y[i, people] - self.y[j, people]
        result: Float32Array = np.sqrt(dx * dx + dy * dy)
        return result


_GROUPS: weakref.WeakKeyDictionary[Split, list[Group]] = weakref.WeakKeyDictionary()


def _layout(cat: dict[str, Any], contract: Contract | None) -> tuple[Any, ...] | None:
    names = cat.get("keypoints")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        return None
    names_t = tuple(names)
    pos = {n: i for i, n in enumerate(names_t)}
    if contract is not None and contract.keypoints == names_t:
        edges = [(pos[a], pos[b]) for a, b in contract.edges]
        flips = [(pos[a], pos[b]) for a, b in contract.flip_pairs]
        sigmas = contract.sigma_values()
    else:  # no contract, or PL701 says it does not hold: what the category itself says
        edges = [(pos[a], pos[b]) for a, b in category_edges(names_t, cat.get("skeleton"))[0]]
        flips = [(pos[a], pos[b]) for a, b in derive_flip_pairs(names_t)]
        sigmas = sigmas_for(names_t)
    return names_t, edges, flips, np.asarray(sigmas, dtype=np.float64)


def _scale(split: Split) -> FloatArray:
    """Each annotation's scale: sqrt of `area`, else of the bbox's area; NaN when neither."""
    t = split.tables
    area = _numbers(column(entries(split.document, "annotations"), "area"))
    with np.errstate(invalid="ignore", over="ignore"):  # a 1e308 bbox: inf, then no scale
        box = t.bbox[:, 2] * t.bbox[:, 3]
        area = np.where((area > 0) & np.isfinite(area), area, np.where(box > 0, box, np.nan))
        area[~np.isfinite(area)] = np.nan
        result: FloatArray = np.sqrt(area)
    return result


def _by_keypoint(kp: FloatArray) -> Float32Array:
    """(n, K, 3) -> (3, K, n) float32, block by block: a whole-array transpose walks memory
    across the grain, which is slower."""
    n = len(kp)
    out = np.empty((3, kp.shape[1], n), dtype=np.float32)
    for lo in range(0, n, 8192):
        out[:, :, lo : lo + 8192] = kp[lo : lo + 8192].transpose(2, 1, 0)
    return out


def groups_of(split: Split) -> list[Group]:
    """Built once per split for PL703-PL705."""
    cached = _GROUPS.get(split)
    if cached is not None:
        return cached
    t = split.tables
    contracts = split.dataset.config.skeleton
    counts = np.diff(np.append(t.kp_start, len(t.kp)))
    person = t.keypoints_ok & t.category_id_ok & (t.iscrowd != 1)
    groups: list[Group] = []
    seen: set[int] = set()
    scale: FloatArray | None = None
    for cat in entries(split.document, "categories"):
        if not isinstance(cat, dict) or type(cat.get("id")) is not int or cat["id"] in seen:
            continue
        seen.add(cat["id"])
        layout = _layout(cat, contracts.get(str(cat.get("name"))))
        if layout is None:
            continue
        names, edges, flips, sigmas = layout
        k = len(names)
        anns = np.flatnonzero(person & (t.category_id == cat["id"]) & (counts == k))
        if len(anns) == 0:
            continue
        if len(anns) == t.n_annotations and len(t.kp) == k * len(anns):
            kp = t.kp.reshape(len(anns), k, 3)  # the common case: a view, no gather
        else:
            kp = t.kp[t.kp_start[anns][:, None] + np.arange(k)]
        xyv = _by_keypoint(kp)
        x, y, lab = xyv[0], xyv[1], xyv[2] > 0
        if scale is None:
            scale = _scale(split)
        name = str(cat.get("name"))
        groups.append(Group(name, names, edges, flips, sigmas, anns, x, y, lab, scale[anns]))
    _GROUPS[split] = groups
    return groups
