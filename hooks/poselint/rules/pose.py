"""PL7xx: pose plausibility. The skeleton contract (PL701, PL702), duplicate people (PL703),
left/right swaps (PL704) and implausible limb lengths (PL705).

The content checks work on one (n, K, 3) array per keypoint category of a split (a view of
`Split.tables.kp` when every annotation has K keypoints, as at COCO scale), with one array
expression per skeleton edge or flip pair; only the people they flag are looped over.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from poselint.dataset import Dataset, Split
from poselint.diagnostics import json_pointer
from poselint.keypoints import as_float
from poselint.rules.base import Finding, FindingBatch, rule
from poselint.skeleton import (
    Contract,
    category_edges,
    derive_flip_pairs,
    edge_changes,
    flip_issues,
    keypoint_changes,
    sigmas_for,
)
from poselint.tables import column, entries

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# PL704: a mirrored limb pair votes "swapped" when its two limbs cross and uncrossing them
# (swapping one end) shortens them to at most this fraction of their summed length.
SWAP_RATIO = 0.8
# PL705: per-edge statistics need this many people with the edge labelled in the split.
MIN_LIMB_SAMPLES = 10
MIN_PERSON_EDGES = 3  # a person's own scale comes from the median of its other limbs
_EPS = np.spacing(1)


@dataclass(eq=False)
class _Group:
    """The people of one keypoint category in a split."""

    cat_row: int  # its position in `categories`
    name: str
    names: tuple[str, ...]
    edges: list[tuple[int, int]]
    flips: list[tuple[int, int]]  # (left, right) keypoint indices
    sigmas: FloatArray
    anns: IntArray  # annotation rows
    kp: FloatArray  # (len(anns), K, 3)

    @property
    def labelled(self) -> BoolArray:
        return self.kp[:, :, 2] > 0


_GROUPS: weakref.WeakKeyDictionary[Split, list[_Group]] = weakref.WeakKeyDictionary()


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


def _groups(split: Split) -> list[_Group]:
    """Built once per split for PL703-PL705."""
    cached = _GROUPS.get(split)
    if cached is not None:
        return cached
    t = split.tables
    contracts = split.dataset.config.skeleton
    counts = np.diff(np.append(t.kp_start, len(t.kp)))
    person = t.keypoints_ok & t.category_id_ok & (t.iscrowd != 1)
    groups: list[_Group] = []
    seen: set[int] = set()
    for row, cat in enumerate(entries(split.document, "categories")):
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
            kp = t.kp.reshape(len(anns), k, 3)  # the common case: a view, no copy
        else:
            kp = t.kp[t.kp_start[anns][:, None] + np.arange(k)]
        groups.append(_Group(row, str(cat.get("name")), names, edges, flips, sigmas, anns, kp))
    _GROUPS[split] = groups
    return groups


def _scale2(split: Split) -> FloatArray:
    """Each annotation's area (scale squared): `area`, else the bbox's; NaN when neither."""
    t = split.tables
    area = np.fromiter(
        map(as_float, column(entries(split.document, "annotations"), "area")),
        dtype=np.float64,
        count=t.n_annotations,
    )
    box = t.bbox[:, 2] * t.bbox[:, 3]
    with np.errstate(invalid="ignore"):
        area = np.where(area > 0, area, np.where(box > 0, box, np.nan))
    return area


def _batch(findings: list[Finding]) -> Iterator[FindingBatch]:
    if findings:
        yield FindingBatch(len(findings), iter(findings))


def _kp_pointer(ann: int, k: int) -> str:
    return json_pointer("annotations", ann, "keypoints", 3 * k)


# ---- PL701, PL702: the skeleton contract ----------------------------------------------


@rule(
    "PL701",
    "skeleton-contract",
    what="A category's keypoints (names, order) or skeleton edges differ from the pinned "
    "contract ([tool.poselint.skeleton], `poselint skeleton init`); or a pinned category is "
    "missing.",
    why="A renamed, reordered, added or removed keypoint silently remaps every label for the "
    "model (CVAT exports reorder points); the message names exactly what changed.",
    scope="document",
)
def skeleton_contract(split: Split) -> Iterator[Finding]:
    contracts: dict[str, Contract] = split.dataset.config.skeleton
    if not contracts:
        return
    categories = entries(split.document, "categories")
    by_name: dict[str, int] = {}
    for row, cat in enumerate(categories):
        if isinstance(cat, dict) and isinstance(cat.get("name"), str):
            by_name.setdefault(cat["name"], row)
    for name, contract in contracts.items():
        if name not in by_name:
            yield Finding(
                f"category {name!r} of the skeleton contract is not in this split's categories",
                pointer="/categories",
            )
            continue
        row = by_name[name]
        cat = categories[row]
        names = cat.get("keypoints")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            continue  # the schema rule reports it
        changes = keypoint_changes(contract.keypoints, names)
        for change in changes:
            yield Finding(
                f"category {name!r}: {change}",
                pointer=json_pointer("categories", row, "keypoints"),
            )
        if changes:
            continue  # edges by name would only repeat the renames
        edges, bad = category_edges(names, cat.get("skeleton"))
        for change in edge_changes(contract.edges, edges):
            yield Finding(
                f"category {name!r}: {change}", pointer=json_pointer("categories", row, "skeleton")
            )
        for edge in bad:
            yield Finding(
                f"category {name!r}: skeleton entry {edge!r} names no keypoint (1-based)",
                pointer=json_pointer("categories", row, "skeleton"),
            )


@rule(
    "PL702",
    "flip-pairs-inconsistent",
    what="The contract's flip pairs disagree with the keypoint names: a pair whose names do not "
    "mirror (`left_eye`/`right_ear`), or a `left_*`/`right_*` mirror left unpaired.",
    why="Flip augmentation swaps exactly these pairs: a missing or wrong pair teaches the model "
    "left for right on every flipped sample (rf-detr #1358).",
    scope="dataset",
)
def flip_pairs_inconsistent(ds: Dataset) -> Iterator[Finding]:
    contracts: dict[str, Contract] = ds.config.skeleton
    for name, contract in contracts.items():
        for issue in flip_issues(contract):
            yield Finding(f"skeleton contract {name!r}: {issue}", path=ds.config.source)


# ---- PL703: duplicate people ----------------------------------------------------------


def _same_image_pairs(image: IntArray) -> tuple[IntArray, IntArray]:
    """Every pair (i, j), i < j, of positions whose `image` values are equal: by offset in
    the sorted order, so the work is the number of pairs, not n squared."""
    order = np.argsort(image, kind="stable")
    keys = image[order]
    left: list[IntArray] = []
    right: list[IntArray] = []
    d = 1
    while d < len(keys):
        same = np.flatnonzero(keys[:-d] == keys[d:])
        if len(same) == 0:
            break
        left.append(order[same])
        right.append(order[same + d])
        d += 1
    if not left:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(left), np.concatenate(right)


def _oks(g: _Group, gt: IntArray, dt: IntArray, area: FloatArray) -> FloatArray:
    """COCO's OKS of dt against gt (people positions in g), over gt's labelled points;
    NaN when gt has fewer than 3."""
    a, b = g.kp[gt], g.kp[dt]
    vis = a[:, :, 2] > 0
    d2 = (a[:, :, 0] - b[:, :, 0]) ** 2 + (a[:, :, 1] - b[:, :, 1]) ** 2
    var = (2 * g.sigmas) ** 2
    e = d2 / var / (area[:, None] + _EPS) / 2
    n = vis.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        oks = (np.exp(-e) * vis).sum(axis=1) / n
    return np.where(n >= 3, oks, np.nan)


@rule(
    "PL703",
    "duplicate-person",
    what="Two annotations on one image whose keypoints match: OKS (COCO's sigmas, or the "
    "contract's) at least `duplicate_oks` (default 0.95) either way round.",
    why="The same person annotated twice (cocoapi #424) is trained on twice and, in the "
    "validation split, counts as a missed detection for every model.",
    scope="document",
)
def duplicate_person(split: Split) -> Iterator[FindingBatch]:
    t = split.tables
    threshold = split.dataset.config.duplicate_oks
    scale2 = _scale2(split)
    findings: list[Finding] = []
    ids = column(entries(split.document, "annotations"), "id")
    for g in _groups(split):
        ok = t.ann_image_id_ok[g.anns]
        people = np.flatnonzero(ok)
        i, j = _same_image_pairs(t.ann_image_id[g.anns[people]])
        i, j = people[i], people[j]
        chunk = 1 << 16  # pairs per pass: bounded temporaries
        for lo in range(0, len(i), chunk):
            pi, pj = i[lo : lo + chunk], j[lo : lo + chunk]
            ai, aj = g.anns[pi], g.anns[pj]
            both = np.fmax(_oks(g, pi, pj, scale2[ai]), _oks(g, pj, pi, scale2[aj]))
            with np.errstate(invalid="ignore"):
                hits = np.flatnonzero(both >= threshold)
            for h in hits.tolist():
                first, second = sorted((int(ai[h]), int(aj[h])))
                findings.append(
                    Finding(
                        f"annotation duplicates annotations/{first} (id {ids[first]!r}) on "
                        f"the same image: OKS {float(both[h]):.3f} >= duplicate_oks "
                        f"{threshold:g}; delete one of them",
                        pointer=json_pointer("annotations", second),
                    )
                )
    findings.sort(key=lambda f: f.pointer or "")
    yield from _batch(findings)


# ---- PL704: left/right swaps ----------------------------------------------------------


def _mirrored_edges(g: _Group) -> list[tuple[int, int, int, int, int, int]]:
    """(a, b, a', b', flip pair of a, flip pair of b) for each pair of edges that mirror each
    other, both ends having a mirror (left_shoulder-left_elbow / right_shoulder-right_elbow)."""
    mirror: dict[int, tuple[int, int]] = {}
    for f, (left, right) in enumerate(g.flips):
        mirror[left], mirror[right] = (right, f), (left, f)
    edges = {frozenset(e) for e in g.edges}
    out = []
    done: set[frozenset[frozenset[int]]] = set()
    for a, b in g.edges:
        if a not in mirror or b not in mirror:
            continue
        (ma, fa), (mb, fb) = mirror[a], mirror[b]
        if fa == fb or frozenset((ma, mb)) not in edges:
            continue  # the edge joins a pair (hip to hip), or its mirror is no edge
        key = frozenset((frozenset((a, b)), frozenset((ma, mb))))
        if key not in done:
            done.add(key)
            out.append((a, b, ma, mb, fa, fb))
    return out


def _cross(o: FloatArray, p: FloatArray, q: FloatArray) -> FloatArray:
    result: FloatArray = (p[:, 0] - o[:, 0]) * (q[:, 1] - o[:, 1]) - (p[:, 1] - o[:, 1]) * (
        q[:, 0] - o[:, 0]
    )
    return result


def _dist(p: FloatArray, q: FloatArray) -> FloatArray:
    result: FloatArray = np.hypot(p[:, 0] - q[:, 0], p[:, 1] - q[:, 1])
    return result


@rule(
    "PL704",
    "left-right-swap",
    what="A labelled left/right pair looks swapped: its limbs cross the mirrored limbs, and "
    "swapping the pair uncrosses them and makes them shorter (at most 0.8 of their length).",
    why="Swapped sides (OpenPose #2119, HRNet #65) teach the model to confuse left and right; "
    "flip augmentation then doubles the damage.",
    scope="document",
    severity="warning",
)
def left_right_swap(split: Split) -> Iterator[FindingBatch]:
    findings: list[Finding] = []
    for g in _groups(split):
        medges = _mirrored_edges(g)
        if not medges:
            continue
        n, nf = len(g.anns), len(g.flips)
        votes = np.zeros((n, nf), dtype=np.int64)
        against = np.zeros((n, nf), dtype=np.int64)
        voted: list[BoolArray] = []
        lab = g.labelled
        for a, b, ma, mb, fa, fb in medges:
            pa, pb, qa, qb = g.kp[:, a, :2], g.kp[:, b, :2], g.kp[:, ma, :2], g.kp[:, mb, :2]
            seen = lab[:, a] & lab[:, b] & lab[:, ma] & lab[:, mb]
            # the limbs a-b and a'-b' cross: each one's ends lie on both sides of the other
            crossing = (_cross(pa, pb, qa) * _cross(pa, pb, qb) < 0) & (
                _cross(qa, qb, pa) * _cross(qa, qb, pb) < 0
            )
            shorter = _dist(pa, qb) + _dist(qa, pb) < SWAP_RATIO * (_dist(pa, pb) + _dist(qa, qb))
            vote = seen & crossing & shorter
            voted.append(vote)
            for f in (fa, fb):
                votes[:, f] += vote
                against[:, f] += seen & ~vote
        score = votes - against
        suspects = np.flatnonzero(np.any(np.stack(voted), axis=0))
        for p in suspects.tolist():
            blamed: set[int] = set()
            for (_a, _b, _ma, _mb, fa, fb), vote in zip(medges, voted, strict=True):
                if vote[p]:
                    sa, sb = score[p, fa], score[p, fb]
                    blamed.update([fa] if sa > sb else [fb] if sb > sa else [fa, fb])
            ann = int(g.anns[p])
            for f in sorted(blamed):
                left, right = g.flips[f]
                findings.append(
                    Finding(
                        f"{g.names[left]!r} and {g.names[right]!r} look swapped: the limbs "
                        "through them cross their mirror images, and swapping the two points "
                        "uncrosses them",
                        pointer=_kp_pointer(ann, left),
                    )
                )
    yield from _batch(findings)


# ---- PL705: implausible limb lengths ----------------------------------------------------


def _row_median(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """The median of each row's finite values (NaN when none), and their count."""
    s = np.sort(values, axis=1)  # NaN sorts last
    count = np.isfinite(values).sum(axis=1)
    rows = np.arange(len(values))
    lo = s[rows, np.maximum(count - 1, 0) // 2]
    hi = s[rows, np.maximum(count, 1) // 2 * (count > 0)]
    med = np.where(count > 0, (lo + np.where(count % 2 == 0, hi, lo)) / 2, np.nan)
    return med, count


@rule(
    "PL705",
    "implausible-limb",
    what="A labelled limb (skeleton edge) is more than `limb_factor` (default 2) times the "
    "length that its edge's typical proportion and the person's other limbs predict.",
    why="A stretched limb is a point on the wrong body part or the wrong person; it trains the "
    "model on an impossible pose.",
    scope="document",
    severity="warning",
)
def implausible_limb(split: Split) -> Iterator[FindingBatch]:
    factor = math.log(split.dataset.config.limb_factor)
    scale2 = _scale2(split)
    findings: list[Finding] = []
    for g in _groups(split):
        if not g.edges:
            continue
        lab = g.labelled
        a = np.array([e[0] for e in g.edges])
        b = np.array([e[1] for e in g.edges])
        seen = lab[:, a] & lab[:, b]
        with np.errstate(divide="ignore", invalid="ignore"):
            length = np.hypot(g.kp[:, a, 0] - g.kp[:, b, 0], g.kp[:, a, 1] - g.kp[:, b, 1])
            # log of each limb relative to the person's size: the edge's typical proportion
            rel = np.where(seen & (length > 0), np.log(length), np.nan)
            rel -= 0.5 * np.log(scale2[g.anns])[:, None]
        usable = np.isfinite(rel).sum(axis=0) >= MIN_LIMB_SAMPLES
        if not usable.any():
            continue
        rel[:, ~usable] = np.nan
        typical = np.nanmedian(rel[:, usable], axis=0)
        dev = np.full_like(rel, np.nan)
        dev[:, usable] = rel[:, usable] - typical
        # the person's own scale: how its limbs run against the typical ones (median: one
        # wrong limb does not move it)
        person, count = _row_median(dev)
        with np.errstate(invalid="ignore"):
            excess = dev - person[:, None]
            flagged = (excess > factor) & (count >= MIN_PERSON_EDGES)[:, None]
        for p, e in zip(*np.nonzero(flagged), strict=True):
            ann, (ea, eb) = int(g.anns[p]), g.edges[int(e)]
            findings.append(
                Finding(
                    f"limb {g.names[ea]!r}-{g.names[eb]!r} is {math.exp(excess[p, e]):.1f}x "
                    "the length this person's other limbs predict (limb_factor "
                    f"{split.dataset.config.limb_factor:g}); a point is misplaced",
                    pointer=_kp_pointer(ann, eb),
                )
            )
    yield from _batch(findings)
