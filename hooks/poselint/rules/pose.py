"""PL7xx: pose plausibility. The skeleton contract (PL701, PL702), duplicate people (PL703),
left/right swaps (PL704) and implausible limb lengths (PL705).

The content checks share one (3, K, n) float32 array per keypoint category of a split (x, y,
v of keypoint k of every person in row k), built once from `Split.tables.kp`; each skeleton
edge or flip pair is one array expression over all people, and only the people flagged are
looped over, lazily, to format their findings. Method and figures: docs/pose-checks.md.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from poselint.contract import (
    Contract,
    category_edges,
    derive_flip_pairs,
    edge_changes,
    flip_issues,
    keypoint_changes,
    side_of,
    sigmas_for,
)
from poselint.diagnostics import json_pointer
from poselint.load.dataset import Dataset, Split
from poselint.load.tables import _numbers, column, entries
from poselint.rules.base import Finding, FindingBatch, rule

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# PL704: a left/right pair looks swapped when it runs against the direction its person's other
# pairs agree on (their summed directions keep this fraction of their summed lengths), spans
# enough of its usual width, and exchanging its two points shortens the limbs through them
# (to under SWAP_RATIO of their summed length). Tuned on the real samples: docs/pose-checks.md.
FACING_AGREEMENT = 0.3
MIN_PAIR_SPAN = 0.5  # of the pair's median span in the split
MIN_OTHER_PAIRS = 1  # labelled pairs besides this one that give the facing
MIN_PAIR_SPAN_FALLBACK = 0.1  # of the person's scale, with fewer than MIN_LIMB_SAMPLES people
SWAP_RATIO = 1.0
# PL705: per-edge statistics need this many people with the edge labelled in the split.
MIN_LIMB_SAMPLES = 8
MIN_PERSON_EDGES = 3  # a person's own scale comes from the median of its other limbs
# An edge with fewer people in the split takes COCO's typical proportion instead: the median
# log(limb length / sqrt(area)) of the dev set's COCO 2017 people, left and right averaged.
# Keyed by the parts' names without the side: same-side limbs by their two parts, limbs across
# the body by the part twice. The person's median removes any offset against the split's own.
COCO_PROPORTIONS: dict[tuple[str, str], float] = {
    ("ankle", "knee"): -0.71,
    ("hip", "knee"): -0.68,
    ("elbow", "shoulder"): -0.99,
    ("elbow", "wrist"): -1.21,
    ("hip", "shoulder"): -0.38,
    ("ear", "shoulder"): -1.17,
    ("ear", "eye"): -1.92,
    ("eye", "nose"): -2.57,
    ("eye", "eye"): -2.28,
    ("hip", "hip"): -1.30,
    ("shoulder", "shoulder"): -0.84,
}
_PART_SYNONYMS = {"foot": "ankle"}  # Human3.6M's "foot" is the ankle joint
# PL703 compares the people of each image pairwise; a bigger crowd is skipped. A person with
# fewer labelled points is a duplicate only of one labelling exactly the same points.
MIN_OKS_POINTS = 3
MAX_PEOPLE_PER_IMAGE = 200
_EPS = np.spacing(1)


@dataclass(eq=False)
class _Group:
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
    across the grain and costs twice as much."""
    n = len(kp)
    out = np.empty((3, kp.shape[1], n), dtype=np.float32)
    for lo in range(0, n, 8192):
        out[:, :, lo : lo + 8192] = kp[lo : lo + 8192].transpose(2, 1, 0)
    return out


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
        groups.append(_Group(name, names, edges, flips, sigmas, anns, x, y, lab, scale[anns]))
    _GROUPS[split] = groups
    return groups


def _median(values: FloatArray) -> float:
    """Median of the finite values, from at most ~20,000 of them (a split-wide typical value,
    not a per-person one: the subsample changes it by far less than the thresholds' margin)."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return math.nan
    sample = finite[:: max(1, len(finite) // 20_000)]
    half = len(sample) // 2  # np.median would import numpy.ma on first use
    part = np.partition(sample, [half - 1, half] if len(sample) % 2 == 0 else [half])
    return float(part[half - 1 : half + 1].mean() if len(sample) % 2 == 0 else part[half])


def _column_median(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Per column, the median of its finite values (NaN when none), and their count."""
    s = np.sort(values, axis=0)  # NaN sorts last
    count = np.isfinite(values).sum(axis=0)
    cols = np.arange(values.shape[1])
    lo = s[np.maximum(count - 1, 0) // 2, cols]
    hi = s[count // 2 * (count > 0), cols]
    med: FloatArray = np.where(count > 0, (lo + np.where(count % 2 == 0, hi, lo)) / 2, np.nan)
    return med, count


def _quiet(check: Callable[[Split], Iterator[FindingBatch]]) -> Callable[[Split], Any]:
    """Run a content check under np.errstate(all="ignore"): hostile numbers (1e308, a bbox
    whose area overflows) become inf or NaN, which the checks already treat as unusable, and
    must not surface as RuntimeWarnings. The findings stay lazy: only their batches are built
    here."""

    @functools.wraps(check)
    def run(split: Split) -> Iterator[FindingBatch]:
        with np.errstate(all="ignore"):
            batches = list(check(split))
        return iter(batches)

    return run


def _batch(count: int, findings: Iterator[Finding]) -> Iterator[FindingBatch]:
    """One lazy batch: the engine formats only the findings it keeps."""
    if count:
        yield FindingBatch(count, findings)


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
    the sorted order, so the work is the number of pairs, not n squared. Images with more
    than MAX_PEOPLE_PER_IMAGE people are left out: a crowd that size is no pose data, and
    its pairs would grow with the square."""
    order = np.argsort(image, kind="stable")
    keys = image[order]
    starts = np.flatnonzero(np.diff(keys, prepend=keys[:1] - 1))  # keys are sorted
    sizes = np.diff(np.append(starts, len(keys)))
    crowded = np.repeat(sizes > MAX_PEOPLE_PER_IMAGE, sizes)
    order, keys = order[~crowded], keys[~crowded]
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


def _oks(g: _Group, gt: IntArray, dt: IntArray, threshold: float) -> FloatArray:
    """COCO's OKS of person dt against person gt (positions in g), over gt's labelled points;
    0 when it cannot reach `threshold`, or when gt has fewer than MIN_OKS_POINTS labelled
    points and dt does not label exactly the same ones (a copy does; a stranger whose one
    labelled point lands near gt's is no duplicate)."""
    count = g.lab.sum(axis=0)[gt]
    few = np.flatnonzero((count > 0) & (count < MIN_OKS_POINTS))
    if len(few):  # pairs whose gt has few points: a small (K, pairs) comparison
        same = (g.lab[:, gt[few]] == g.lab[:, dt[few]]).all(axis=0)
        count = count.copy()
        count[few[~same]] = 0
    first = np.argmax(g.lab, axis=0)[gt]  # gt's first labelled point
    var = (2 * g.sigmas) ** 2
    # Cheap test first: OKS >= threshold needs gt's first point to score at least
    # 1 - (1 - threshold) * count on its own, since each of the others scores at most 1.
    dx = g.x[first, gt] - g.x[first, dt]
    dy = g.y[first, gt] - g.y[first, dt]
    with np.errstate(invalid="ignore", over="ignore"):
        e = (dx * dx + dy * dy) / var[first] / (g.scale[gt] ** 2 + _EPS) / 2
        need = 1 - (1 - threshold) * count
        maybe = np.flatnonzero((count > 0) & ((need <= 0) | (np.exp(-e) >= need)))
    oks = np.zeros(len(gt))
    if len(maybe):
        a, b = gt[maybe], dt[maybe]
        vis = g.lab[:, a]
        dx2 = (g.x[:, a] - g.x[:, b]).astype(np.float64) ** 2
        dy2 = (g.y[:, a] - g.y[:, b]).astype(np.float64) ** 2
        with np.errstate(invalid="ignore", over="ignore"):
            e2 = (dx2 + dy2) / var[:, None] / (g.scale[a] ** 2 + _EPS) / 2
            oks[maybe] = (np.exp(-e2) * vis).sum(axis=0) / count[maybe]
    return oks


@rule(
    "PL703",
    "duplicate-person",
    what="Two annotations on one image whose keypoints match: OKS (COCO's sigmas, or the "
    "contract's) at least `duplicate_oks` (default 0.95) either way round.",
    why="The same person annotated twice (cocoapi #424) is trained on twice and, in the "
    "validation split, counts as a missed detection for every model.",
    scope="document",
)
@_quiet
def duplicate_person(split: Split) -> Iterator[FindingBatch]:
    t = split.tables
    threshold = split.dataset.config.duplicate_oks
    annotations = entries(split.document, "annotations")
    for g in _groups(split):
        people = np.flatnonzero(t.ann_image_id_ok[g.anns])
        i, j = _same_image_pairs(t.ann_image_id[g.anns[people]])
        i, j = people[i], people[j]
        oks = np.zeros(len(i))
        chunk = 1 << 18  # pairs per pass: bounded temporaries
        for lo in range(0, len(i), chunk):
            pi, pj = i[lo : lo + chunk], j[lo : lo + chunk]
            oks[lo : lo + chunk] = np.fmax(_oks(g, pi, pj, threshold), _oks(g, pj, pi, threshold))
        hit = np.flatnonzero(oks >= threshold)
        if not len(hit):
            continue
        first = np.minimum(g.anns[i[hit]], g.anns[j[hit]])
        second = np.maximum(g.anns[i[hit]], g.anns[j[hit]])
        order = np.lexsort((first, second))  # by the duplicate's position in the file
        first, second, found = first[order], second[order], oks[hit][order]

        def findings(
            first: IntArray = first, second: IntArray = second, found: FloatArray = found
        ) -> Iterator[Finding]:
            for h in range(len(first)):
                f, s = int(first[h]), int(second[h])
                other = annotations[f]
                yield Finding(
                    f"annotation duplicates annotations/{f} (id {other.get('id')!r}) on the same "
                    f"image: OKS {float(found[h]):.3f} >= duplicate_oks {threshold:g}; delete "
                    "one of them",
                    pointer=json_pointer("annotations", s),
                )

        yield from _batch(len(first), findings())


# ---- PL704: left/right swaps ----------------------------------------------------------


def _limbs_through_pairs(g: _Group) -> list[tuple[int, int, int, int]]:
    """(flip pair, u, u's mirror, w) for each skeleton edge u-w whose end u is in a flip pair
    and w is not u's mirror: exchanging the pair turns the limb u-w into mirror(u)-w."""
    mirror: dict[int, tuple[int, int]] = {}
    for f, (left, right) in enumerate(g.flips):
        mirror[left], mirror[right] = (right, f), (left, f)
    out = []
    for a, b in {(min(e), max(e)) for e in g.edges if e[0] != e[1]}:
        for u, w in ((a, b), (b, a)):
            if u in mirror and mirror[u][0] != w:
                out.append((mirror[u][1], u, mirror[u][0], w))
    return out


def _facing_against(g: _Group) -> tuple[IntArray, IntArray]:
    """(pair, person) positions whose pair's left-to-right direction opposes the one the
    person's other pairs agree on (a person facing the camera has every right point on the
    image's left), in row-major order."""
    left = np.array([f[0] for f in g.flips])
    right = np.array([f[1] for f in g.flips])
    valid = g.lab[left] & g.lab[right]
    zero = np.float32(0)
    dx = np.where(valid, g.x[right] - g.x[left], zero)
    dy = np.where(valid, g.y[right] - g.y[left], zero)
    size = np.sqrt(dx * dx + dy * dy)
    ox, oy = dx.sum(axis=0) - dx, dy.sum(axis=0) - dy  # the other pairs' directions, summed
    # the pair must span enough of its usual width (not a profile view, where the two sides
    # overlap): its median over the split's people, relative to their scale
    usual = np.full(len(left), np.nan)
    enough = np.zeros(len(left), dtype=bool)
    for f in range(len(left)):
        has = valid[f] & (size[f] > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            span = size[f, has] / g.scale[has]
        usual[f] = _median(span)
        enough[f] = np.isfinite(span).sum() >= MIN_LIMB_SAMPLES
    least = np.where(enough, MIN_PAIR_SPAN * usual, MIN_PAIR_SPAN_FALLBACK)
    # pointing against the others (cos < 0) is a negative dot product; the rest of the test
    # runs on those positions only
    with np.errstate(invalid="ignore"):
        pairs, people = np.nonzero(valid & (dx * ox + dy * oy < 0))
    own = size[pairs, people]
    agree = np.hypot(ox[pairs, people], oy[pairs, people])
    spread = size.sum(axis=0)[people] - own  # the other pairs' summed lengths
    count = valid.sum(axis=0)[people] - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        keep = (
            (count >= MIN_OTHER_PAIRS)
            & (agree >= FACING_AGREEMENT * spread)
            & (own / g.scale[people] >= least[pairs])
        )
    return pairs[keep], people[keep]


@rule(
    "PL704",
    "left-right-swap",
    what="A labelled left/right pair looks swapped: its left-to-right direction opposes the "
    "one the person's other pairs agree on, and exchanging its two points shortens the limbs "
    "through them.",
    why="Swapped sides (OpenPose #2119, HRNet #65) teach the model to confuse left and right; "
    "flip augmentation then doubles the damage.",
    scope="document",
    severity="warning",
    opt_in=True,  # not yet quiet on real clean data: docs/pose-checks.md
)
@_quiet
def left_right_swap(split: Split) -> Iterator[FindingBatch]:
    for g in _groups(split):
        through = _limbs_through_pairs(g)
        if not through or len(g.flips) < 3:
            continue
        pairs, people = _facing_against(g)
        now = np.zeros(len(pairs), dtype=np.float32)  # the limbs through the pair as labelled
        swapped = np.zeros(len(pairs), dtype=np.float32)  # and with its points exchanged
        for f, u, mu, w in through:
            at = np.flatnonzero(pairs == f)
            p = people[at]
            # one labelled limb and the mirror point: enough to say where the limb belongs
            seen = g.lab[u, p] & g.lab[w, p] & g.lab[mu, p]
            now[at] += np.where(seen, g.dist(u, w, p), 0)
            swapped[at] += np.where(seen, g.dist(mu, w, p), 0)
        # the limbs through the pair must confirm it: a head turned against the torso (eyes
        # without labelled ears) is a pose, not evidence
        blamed = swapped < SWAP_RATIO * now
        pairs, people = pairs[blamed], people[blamed]
        order = np.lexsort((pairs, people))
        pairs, people = pairs[order], people[order]

        def findings(
            g: _Group = g, people: IntArray = people, pairs: IntArray = pairs
        ) -> Iterator[Finding]:
            for p, f in zip(people.tolist(), pairs.tolist(), strict=True):
                left, right = g.flips[f]
                yield Finding(
                    f"{g.names[left]!r} and {g.names[right]!r} look swapped: they run "
                    "left-to-right against the person's other pairs, and exchanging them "
                    "shortens the limbs through them",
                    pointer=_kp_pointer(int(g.anns[p]), left),
                )

        yield from _batch(len(people), findings())


# ---- PL705: implausible limb lengths ----------------------------------------------------


def _mirror_edges(g: _Group) -> IntArray:
    """Per edge, the index of its mirror image (both ends flipped; an unpaired end stays),
    -1 when it has none."""
    flip = {a: b for a, b in g.flips} | {b: a for a, b in g.flips}
    index = {frozenset(e): i for i, e in enumerate(g.edges)}
    out = np.full(len(g.edges), -1, dtype=np.int64)
    for i, (a, b) in enumerate(g.edges):
        j = index.get(frozenset((flip.get(a, a), flip.get(b, b))), i)
        out[i] = j if j != i else -1
    return out


def _part(name: str) -> tuple[str, str]:
    """(side or "", the part's name): "Right-Shoulder" -> ("right", "shoulder")."""
    sided = side_of(name)
    side, base = sided if sided else ("", "".join(c for c in name.lower() if c.isalnum()))
    return side, _PART_SYNONYMS.get(base, base)


def _coco_proportions(g: _Group) -> FloatArray:
    """Per edge, COCO's typical log(length / scale) for the limb it names; NaN when none."""
    out = np.full(len(g.edges), np.nan)
    for i, (a, b) in enumerate(g.edges):
        (sa, pa), (sb, pb) = _part(g.names[a]), _part(g.names[b])
        if sa and sb and sa != sb and pa == pb:  # across the body: shoulder to shoulder
            out[i] = COCO_PROPORTIONS.get((pa, pa), np.nan)
        elif not (sa and sb and sa != sb) and pa != pb:  # one side's limb, or the nose's
            out[i] = COCO_PROPORTIONS.get((min(pa, pb), max(pa, pb)), np.nan)
    return out


def _typical_proportions(g: _Group, rel: FloatArray) -> FloatArray:
    """Per edge, the median of `rel` over the split's people; an edge with fewer than
    MIN_LIMB_SAMPLES of them takes COCO's proportion, shifted by how the split's own edges
    run against COCO's (0 when none can say), so that a small split is not skipped."""
    count = np.isfinite(rel).sum(axis=1)
    usable = count >= MIN_LIMB_SAMPLES
    typical = np.array(
        [_median(row) if ok else np.nan for row, ok in zip(rel, usable, strict=True)]
    )
    coco = _coco_proportions(g)
    both = usable & np.isfinite(coco)
    offset = _median(typical[both] - coco[both]) if both.any() else 0.0
    fallback = ~usable & (count > 0) & np.isfinite(coco)
    typical[fallback] = coco[fallback] + offset
    return typical


@rule(
    "PL705",
    "implausible-limb",
    what="A labelled limb (skeleton edge) is more than `limb_factor` (default 1.6) times the "
    "length that its edge's typical proportion and the person's other limbs predict (and, if "
    "its mirror limb is labelled, over sqrt(limb_factor) times that one). The typical "
    "proportion is the split's; for a limb fewer than 8 people label there, COCO's for the "
    "limb of that name (shoulder-elbow, knee-ankle, ...).",
    why="A stretched limb is a point on the wrong body part or the wrong person; it trains the "
    "model on an impossible pose.",
    scope="document",
    severity="warning",
    opt_in=True,  # not yet quiet on real clean data: docs/pose-checks.md
)
@_quiet
def implausible_limb(split: Split) -> Iterator[FindingBatch]:
    limit = split.dataset.config.limb_factor
    factor = math.log(limit)
    for g in _groups(split):
        if not g.edges:
            continue
        a = np.array([e[0] for e in g.edges])
        b = np.array([e[1] for e in g.edges])
        seen = g.lab[a] & g.lab[b]
        dx, dy = g.x[a] - g.x[b], g.y[a] - g.y[b]
        square = dx * dx + dy * dy  # squared lengths: the logs need no square root
        with np.errstate(divide="ignore", invalid="ignore"):
            # log of each limb relative to the person's size, then against the edge's
            # typical proportion in the split
            rel = np.where(seen & (square > 0), np.log(square) / 2, np.float32(np.nan))
            rel -= np.log(g.scale).astype(np.float32)
        typical = _typical_proportions(g, rel)
        if not np.isfinite(typical).any():
            continue
        dev = rel - typical.astype(np.float32)[:, None]
        # a limb whose mirror image (the other arm, the other side of the neck) is labelled
        # must also be clearly longer than it: a person can be broad, not lopsided
        mirror = _mirror_edges(g)
        has = mirror >= 0
        longer = np.ones_like(seen)
        longer[has] = ~seen[mirror[has]] | (square[has] > limit * square[mirror[has]])
        # the person's own scale: how its limbs run against the typical ones (a median: one
        # wrong limb does not move it)
        person, count = _column_median(dev)
        with np.errstate(invalid="ignore"):
            excess = dev - person
            flagged = (excess > factor) & (count >= MIN_PERSON_EDGES) & longer
        people, edges = np.nonzero(flagged.T)  # by person, then edge

        def findings(
            g: _Group = g, people: IntArray = people, edges: IntArray = edges, x: Any = excess
        ) -> Iterator[Finding]:
            for p, e in zip(people.tolist(), edges.tolist(), strict=True):
                ea, eb = g.edges[e]
                yield Finding(
                    f"limb {g.names[ea]!r}-{g.names[eb]!r} is {math.exp(x[e, p]):.1f}x the "
                    f"length this person's other limbs predict (limb_factor {limit:g}); a "
                    "point is misplaced",
                    pointer=_kp_pointer(int(g.anns[p]), eb),
                )

        yield from _batch(len(people), findings())
