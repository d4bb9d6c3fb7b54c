"""`poselint diff`: what changed in the labels between two versions of a dataset root.

Per split (matched by name): images added and removed by `file_name`; people matched by
annotation id on the same image, then, for what is left (ids renumbered by a re-export),
by keypoint similarity on the same image; for matched people, keypoints moved further than
a threshold and visibility flags changed; category, keypoint-name and skeleton changes.
Findings introduced and fixed are compared by baseline fingerprints (baseline.py), so a
reordered file does not turn every finding into a new one.

The matching works on the split's numpy tables (tables.py), built once for the rules too.
"""

from __future__ import annotations

import argparse
import html
import io
import itertools
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from poselint.config import Config, load_config
from poselint.diagnostics import EXIT_CANNOT_RUN, Diagnostic, display_path, displayable
from poselint.discovery import Target, targets_of
from poselint.engine import lint_dataset, select_rules
from poselint.load.dataset import Dataset, Split
from poselint.load.document import gc_paused
from poselint.load.tables import column, entries
from poselint.report.baseline import Fingerprint, fingerprints
from poselint.rules import Rule
from poselint.sources.base import DataSource
from poselint.sources.dvc.remote import open_remote
from poselint.sources.dvc.session import DvcSession
from poselint.sources.errors import DvcError

# COCO's per-keypoint sigmas for its 17 body points; another skeleton gets their mean.
COCO_SIGMAS = np.array(
    [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]
) / 10.0  # fmt: skip
# An id match on the same image is trusted unless the two poses are unrelated (similarity
# below this): a re-export that renumbers ids can hand an old id to another person.
ID_MATCH_MIN = 0.1
# Unmatched people on the same image are paired by similarity at or above this.
SIMILAR_MIN = 0.5
# Changed people drawn before/after in an HTML diff; the page counts the rest.
MAX_DRAWN = 100


@dataclass(frozen=True)
class Person:
    image: str
    id: Any  # the annotation's id as written (None when it has none)

    def label(self) -> str:
        return (
            f"person {self.id!r} on {self.image}"
            if self.id is not None
            else f"a person on {self.image}"
        )


@dataclass(frozen=True)
class PointChange:
    image: str
    id_a: Any
    id_b: Any
    keypoint: int
    name: str | None  # the category's name for this keypoint
    before: tuple[float, float, float]
    after: tuple[float, float, float]

    @property
    def distance(self) -> float:
        return float(np.hypot(self.after[0] - self.before[0], self.after[1] - self.before[1]))


@dataclass(frozen=True)
class PoseAt:
    """One version of a person, as plain data to draw once the documents are let go."""

    id: Any
    keypoints: list[float]  # flat x, y, v triplets
    bbox: tuple[float, float, float, float] | None
    skeleton: Any  # the category's skeleton as written
    size: tuple[Any, Any]  # the image's declared (width, height)


@dataclass(frozen=True)
class Drawn:
    kind: str  # "edited", "added" or "removed"
    image: str
    before: PoseAt | None
    after: PoseAt | None
    keypoints: frozenset[int]  # the keypoints that moved or changed flag


@dataclass
class SplitDiff:
    split: str
    images_added: list[str] = field(default_factory=list)
    images_removed: list[str] = field(default_factory=list)
    people_added: list[Person] = field(default_factory=list)
    people_removed: list[Person] = field(default_factory=list)
    renumbered: int = 0  # people matched by keypoints whose id changed
    moved: list[PointChange] = field(default_factory=list)
    flags: list[PointChange] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    # a person's id after -> before, as fingerprints write them, where a re-export changed it
    renamed: dict[str, str] = field(default_factory=dict)
    # the first changed people, to draw (--format html); `changed_people` counts them all
    drawn: list[Drawn] = field(default_factory=list)
    changed_people: int = 0

    @property
    def shown(self) -> str:
        """The split's name as output shows it: a non-UTF-8 byte of its file name as \\xff."""
        return displayable(self.split)

    def __bool__(self) -> bool:
        return bool(
            self.images_added or self.images_removed or self.people_added
            or self.people_removed or self.moved or self.flags or self.categories
        )  # fmt: skip


@dataclass
class _View:
    """What the diff needs of one version of a split."""

    images: list[Any]  # file_name per image row
    ids: list[Any]  # annotation id per row
    image_row: NDArray[np.int64]  # row of each annotation's image, -1 when it has none
    kp: NDArray[np.float64]  # (M, 3)
    start: NDArray[np.int64]  # first triplet row of each annotation
    count: NDArray[np.int64]  # triplets of each annotation (0: unusable keypoints)
    bbox: NDArray[np.float64]  # (N, 4)
    category: list[Any]  # category id per annotation
    categories: dict[Any, dict[str, Any]]
    sizes: list[tuple[Any, Any]] = field(default_factory=list)  # (width, height) per image row

    @property
    def uniform(self) -> int:
        """k when every annotation has k usable triplets (the usual case), else 0."""
        k = int(self.count[0]) if len(self.count) else 0
        return k if k > 0 and bool((self.count == k).all()) else 0

    def image_of(self, j: int) -> str:
        row = int(self.image_row[j])
        name = self.images[row] if row >= 0 else None
        return name if isinstance(name, str) else "(no image)"


def _empty() -> _View:
    return _View(
        [], [], np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros((0, 4)), [], {},
    )  # fmt: skip


def view(split: Split | None) -> _View:
    if split is None or split.document is None or split.keypoint_store is None:
        return _empty()
    doc = split.document
    t = split.tables
    images_rows = entries(doc, "images")
    images = column(images_rows, "file_name")
    annotations = entries(doc, "annotations")
    ends = np.append(t.kp_start[1:], len(t.kp)) if len(t.kp_start) else t.kp_start
    count = np.where(t.keypoints_ok, ends - t.kp_start, 0).astype(np.int64)
    cats: dict[Any, dict[str, Any]] = {}
    for cat in entries(doc, "categories"):
        if isinstance(cat, dict) and isinstance(cat.get("id"), int | str):
            cats.setdefault(cat["id"], cat)
    return _View(
        images,
        column(annotations, "id"),
        t.ann_image_row.astype(np.int64),
        t.kp,
        t.kp_start.astype(np.int64),
        count,
        t.bbox,
        column(annotations, "category_id"),
        cats,
        list(zip(column(images_rows, "width"), column(images_rows, "height"), strict=True)),
    )


def _gather(v: _View, rows: NDArray[np.int64], k: int) -> NDArray[np.float64]:
    """(P, k, 3): the triplets of annotations `rows`, each of which has k of them."""
    if v.uniform == k:  # every annotation has k triplets: whole 3k-float rows, no index math
        return v.kp.reshape(-1, k, 3)[rows]
    triplets: NDArray[np.float64] = v.kp[v.start[rows][:, None] + np.arange(k)]
    return triplets


def _similarity(
    a: NDArray[np.float64], b: NDArray[np.float64], area: NDArray[np.float64]
) -> NDArray[np.float64]:
    """OKS-like similarity of pose pairs (P, k, 3), over the points labelled in both."""
    k = a.shape[1]
    sigmas = COCO_SIGMAS if k == len(COCO_SIGMAS) else np.full(k, COCO_SIGMAS.mean())
    both = (a[..., 2] > 0) & (b[..., 2] > 0)
    d2 = ((a[..., :2] - b[..., :2]) ** 2).sum(-1)
    e = d2 / ((2 * sigmas) ** 2 * 2 * np.maximum(area, 1.0)[:, None])
    n = both.sum(1)
    s = np.where(both, np.exp(-e), 0.0).sum(1)
    return np.where(n > 0, s / np.maximum(n, 1), np.nan)  # NaN: no point labelled in both


def _area(v: _View, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    box = v.bbox[rows]
    area = box[:, 2] * box[:, 3]
    return np.where(np.isfinite(area) & (area > 0), area, 1.0)


def _pair_similarity(
    a: _View, b: _View, ja: NDArray[np.int64], jb: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Similarity of each pair; NaN when there is nothing to compare: no point labelled in
    both, or keypoint lists of different lengths (or unusable ones)."""
    sims = np.full(len(ja), np.nan)
    ka, kb = a.count[ja], b.count[jb]
    for k, sel in _blocks(ka, kb):
        sims[sel] = _similarity(_gather(a, ja[sel], k), _gather(b, jb[sel], k), _area(a, ja[sel]))
    return sims


# Pairs compared per block: the (block, k, 3) temporaries stay small, reused from the heap,
# instead of fresh pages for all 262k pairs at once.
BLOCK = 1 << 14


def _blocks(
    ka: NDArray[np.int64], kb: NDArray[np.int64]
) -> Iterator[tuple[int, NDArray[np.int64]]]:
    """(k, positions) of the pairs whose both sides have k usable triplets, in blocks."""
    for k in np.unique(ka[(ka == kb) & (ka > 0)]).tolist():
        sel = np.flatnonzero((ka == k) & (kb == k))
        for lo in range(0, len(sel), BLOCK):
            yield k, sel[lo : lo + BLOCK]


def _key(value: Any) -> Any:
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def _codes(values: list[Any], codes: dict[Any, int]) -> NDArray[np.int64]:
    """A small integer per distinct id or file name, shared by both versions (-1: none)."""
    try:  # the fast path: every value hashable; unequal values keep distinct codes
        found = list(map(codes.setdefault, values, itertools.count(len(codes))))
        return np.array(found, dtype=np.int64).reshape(len(values))
    except TypeError:  # a list or an object where an id or a name belongs
        return np.fromiter(
            (codes.setdefault(v, len(codes)) if _key(v) is not None else -1 for v in values),
            dtype=np.int64,
            count=len(values),
        )


def _id_codes(a: list[Any], b: list[Any]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Codes for the annotation ids of both versions: equal codes, equal ids (-1: no id)."""
    if set(map(type, a)) | set(map(type, b)) <= {int}:
        try:
            ia, ib = np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)
        except OverflowError:
            pass
        else:
            both = np.concatenate([ia, ib])
            if len(both) == 0 or (both.min() >= 0 and both.max() < 2**31):
                return ia, ib  # small enough to be their own codes
            known = np.unique(both)
            return np.searchsorted(known, ia), np.searchsorted(known, ib)
    ids: dict[Any, int] = {}
    keyed = [[v if _key(v) is not None else None for v in side] for side in (a, b)]
    ca, cb = (np.fromiter(
        (ids.setdefault(v, len(ids)) if v is not None else -1 for v in side),
        dtype=np.int64, count=len(side),
    ) for side in keyed)  # fmt: skip
    return ca, cb


def _image_codes(v: _View, image_codes: NDArray[np.int64]) -> NDArray[np.int64]:
    codes = np.full(len(v.image_row), -1, dtype=np.int64)
    has = v.image_row >= 0
    codes[has] = image_codes[v.image_row[has]]
    return codes


def _first_rows(keys: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Sorted distinct keys >= 0 and the first row holding each."""
    rows = np.flatnonzero(keys >= 0)
    unique, first = np.unique(keys[rows], return_index=True)
    return unique, rows[first]


def _same_image_pairs(
    code_a: NDArray[np.int64], rows_a: NDArray[np.int64],
    code_b: NDArray[np.int64], rows_b: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:  # fmt: skip
    """Every (a, b) of rows_a x rows_b on the same image (code), without a Python loop."""
    order = np.argsort(code_b[rows_b], kind="stable")
    sorted_rows, sorted_codes = rows_b[order], code_b[rows_b][order]
    codes = code_a[rows_a]
    lo = np.searchsorted(sorted_codes, codes, "left")
    n = np.searchsorted(sorted_codes, codes, "right") - lo
    cand_a = np.repeat(rows_a, n)
    offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    return cand_a, sorted_rows[np.repeat(lo, n) + offsets]


def match_people(
    a: _View, b: _View
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Rows (in a, in b) of the same person, by id on the same image, then by similarity;
    and whether each pair kept its id."""
    names: dict[Any, int] = {}
    image_a, image_b = _codes(a.images, names), _codes(b.images, names)
    code_a, code_b = _image_codes(a, image_a), _image_codes(b, image_b)
    id_a, id_b = _id_codes(a.ids, b.ids)
    width = int(max(id_a.max(initial=0), id_b.max(initial=0))) + 1
    key_a = np.where((code_a >= 0) & (id_a >= 0), code_a * width + id_a, -1)
    key_b = np.where((code_b >= 0) & (id_b >= 0), code_b * width + id_b, -1)
    unique_a, first_a = _first_rows(key_a)
    unique_b, first_b = _first_rows(key_b)
    pos = np.minimum(np.searchsorted(unique_b, unique_a), max(len(unique_b) - 1, 0))
    found = (unique_b[pos] == unique_a) if len(unique_b) else np.zeros(len(unique_a), bool)
    ja, jb = first_a[found], first_b[pos[found]]
    # a pair whose shared points are all far apart is a renumbered id, not an edit; with no
    # point to compare (all hidden on one side) or changed keypoint lists, the id decides
    trusted = ~(_pair_similarity(a, b, ja, jb) < ID_MATCH_MIN)
    ja, jb = ja[trusted], jb[trusted]
    used_a = np.zeros(len(a.ids), dtype=bool)
    used_b = np.zeros(len(b.ids), dtype=bool)
    used_a[ja] = used_b[jb] = True
    # What is left: pair by similarity on the same image, greedily from the most similar.
    left_a = np.flatnonzero(~used_a & (code_a >= 0))
    left_b = np.flatnonzero(~used_b & (code_b >= 0))
    cand_a, cand_b = _same_image_pairs(code_a, left_a, code_b, left_b)
    # boxes that do not touch are not the same person: skip their similarity (a crowded
    # image makes n x m candidates; a NaN box is kept, the similarity decides)
    box_a, box_b = a.bbox[cand_a], b.bbox[cand_b]
    apart = (
        (np.minimum(box_a[:, 0] + box_a[:, 2], box_b[:, 0] + box_b[:, 2])
         < np.maximum(box_a[:, 0], box_b[:, 0]))
        | (np.minimum(box_a[:, 1] + box_a[:, 3], box_b[:, 1] + box_b[:, 3])
           < np.maximum(box_a[:, 1], box_b[:, 1]))
    )  # fmt: skip
    cand_a, cand_b = cand_a[~apart], cand_b[~apart]
    sims = np.nan_to_num(_pair_similarity(a, b, cand_a, cand_b), nan=0.0)
    keep = np.flatnonzero(sims >= SIMILAR_MIN)
    # a person in a single similar pair on both sides needs no greedy choice
    alone = (np.bincount(cand_a[keep], minlength=len(a.ids))[cand_a[keep]] == 1) & (
        np.bincount(cand_b[keep], minlength=len(b.ids))[cand_b[keep]] == 1
    )
    extra_a, extra_b = cand_a[keep[alone]].tolist(), cand_b[keep[alone]].tolist()
    keep = keep[~alone]
    keep = keep[np.argsort(-sims[keep], kind="stable")]
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    for x, y in zip(cand_a[keep].tolist(), cand_b[keep].tolist(), strict=True):
        if x not in taken_a and y not in taken_b:
            taken_a.add(x)
            taken_b.add(y)
            extra_a.append(x)
            extra_b.append(y)
    ja = np.concatenate([ja, np.array(extra_a, dtype=np.int64)])
    jb = np.concatenate([jb, np.array(extra_b, dtype=np.int64)])
    order = np.argsort(jb, kind="stable")
    ja, jb = ja[order], jb[order]
    return ja, jb, id_a[ja] == id_b[jb]


def _names(v: _View, j: int) -> list[Any]:
    cat = v.categories.get(_key(v.category[j])) if j < len(v.category) else None
    names = cat.get("keypoints") if cat else None
    return names if isinstance(names, list) else []


def _point_changes(
    a: _View, b: _View, ja: NDArray[np.int64], jb: NDArray[np.int64], threshold: float,
    out: SplitDiff,
) -> dict[tuple[int, int], set[int]]:  # fmt: skip
    """Appends the moved points and changed flags to `out`; returns the changed keypoints
    of each changed pair of rows."""
    changed: dict[tuple[int, int], set[int]] = {}
    for k, sel in _blocks(a.count[ja], b.count[jb]):
        pa, pb = _gather(a, ja[sel], k), _gather(b, jb[sel], k)
        dist = np.hypot(pa[..., 0] - pb[..., 0], pa[..., 1] - pb[..., 1])
        moved = (pa[..., 2] > 0) & (pb[..., 2] > 0) & (dist > threshold)
        flipped = pa[..., 2] != pb[..., 2]
        for kind, mask in (("moved", moved), ("flags", flipped)):
            p, kp = np.nonzero(mask)
            rows = zip(
                ja[sel[p]].tolist(), jb[sel[p]].tolist(), kp.tolist(),
                pa[p, kp].tolist(), pb[p, kp].tolist(), strict=True,
            )  # fmt: skip
            found: list[PointChange] = getattr(out, kind)
            for x, y, k_, before, after in rows:
                changed.setdefault((x, y), set()).add(k_)
                names = _names(b, y)
                found.append(
                    PointChange(
                        b.image_of(y), a.ids[x], b.ids[y], k_,
                        str(names[k_]) if k_ < len(names) else None,
                        tuple(before), tuple(after),
                    )
                )  # fmt: skip
    return changed


def _category_changes(a: _View, b: _View) -> list[str]:
    lines: list[str] = []
    for cid in sorted(set(a.categories) | set(b.categories), key=str):
        ca, cb = a.categories.get(cid), b.categories.get(cid)
        if ca is None or cb is None:
            cat = cb if cb is not None else ca or {}
            verb = "added" if ca is None else "removed"
            lines.append(f"category {cid!r} ({cat.get('name')!r}) {verb}")
            continue
        for key in ("name", "keypoints", "skeleton"):
            before, after = ca.get(key), cb.get(key)
            if key == "skeleton":
                before, after = _edges(before), _edges(after)
            if before != after:
                lines.append(f"category {cid!r} ({cb.get('name')!r}): {key} {before} -> {after}")
    return lines


def _edges(skeleton: Any) -> Any:
    """A skeleton as sorted undirected edges: [2, 4] and [4, 2] draw the same bone."""
    if not isinstance(skeleton, list):
        return skeleton
    try:
        return sorted(sorted(e) for e in skeleton)
    except TypeError:
        return skeleton


def _pose_at(v: _View, j: int) -> PoseAt:
    n = int(v.count[j])
    start = int(v.start[j]) if n else 0
    box = v.bbox[j].tolist() if j < len(v.bbox) else []
    row = int(v.image_row[j])
    cat = v.categories.get(_key(v.category[j])) if j < len(v.category) else None
    return PoseAt(
        v.ids[j],
        v.kp[start : start + n].ravel().tolist(),
        (box[0], box[1], box[2], box[3]) if len(box) == 4 else None,
        cat.get("skeleton") if cat else None,
        v.sizes[row] if 0 <= row < len(v.sizes) else (None, None),
    )


def diff_split(name: str, a: _View, b: _View, threshold: float, draw: int = 0) -> SplitDiff:
    """The split's changes; the first `draw` changed people are kept to draw (PoseAt)."""
    out = SplitDiff(name)
    names_a = {n for n in a.images if isinstance(n, str)}
    names_b = {n for n in b.images if isinstance(n, str)}
    out.images_added = sorted(names_b - names_a)
    out.images_removed = sorted(names_a - names_b)
    ja, jb, same_id = match_people(a, b)
    changed = np.flatnonzero(~same_id)
    out.renumbered = len(changed)
    for x, y in zip(ja[changed].tolist(), jb[changed].tolist(), strict=True):
        if _key(a.ids[x]) is not None and _key(b.ids[y]) is not None:
            out.renamed[repr(b.ids[y])] = repr(a.ids[x])
    matched_a = np.zeros(len(a.ids), dtype=bool)
    matched_b = np.zeros(len(b.ids), dtype=bool)
    matched_a[ja] = matched_b[jb] = True
    out.people_added = sorted(
        (Person(b.image_of(j), b.ids[j]) for j in np.flatnonzero(~matched_b).tolist()),
        key=_person_key,
    )
    out.people_removed = sorted(
        (Person(a.image_of(j), a.ids[j]) for j in np.flatnonzero(~matched_a).tolist()),
        key=_person_key,
    )
    edited = _point_changes(a, b, ja, jb, threshold, out)
    out.changed_people = len(edited) + len(out.people_added) + len(out.people_removed)
    if draw > 0:
        out.drawn = _to_draw(a, b, edited, matched_a, matched_b, draw)
    out.moved.sort(key=_change_key)
    out.flags.sort(key=_change_key)
    out.categories = _category_changes(a, b)
    return out


def _to_draw(
    a: _View, b: _View, edited: dict[tuple[int, int], set[int]],
    matched_a: NDArray[np.bool_], matched_b: NDArray[np.bool_], limit: int,
) -> list[Drawn]:  # fmt: skip
    """The first `limit` changed people (edited, then added, then removed), by image."""
    people = [
        Drawn("edited", b.image_of(y), _pose_at(a, x), _pose_at(b, y), frozenset(kps))
        for (x, y), kps in sorted(edited.items(), key=lambda e: (b.image_of(e[0][1]), e[0][1]))
    ][:limit]
    for j in np.flatnonzero(~matched_b).tolist()[: limit - len(people)]:
        people.append(Drawn("added", b.image_of(j), None, _pose_at(b, j), frozenset()))
    for j in np.flatnonzero(~matched_a).tolist()[: limit - len(people)]:
        people.append(Drawn("removed", a.image_of(j), _pose_at(a, j), None, frozenset()))
    return people


def _person_key(p: Person) -> tuple[str, str]:
    return (p.image, str(p.id))


def _change_key(c: PointChange) -> tuple[str, str, int]:
    return (c.image, str(c.id_b), c.keypoint)


# --- the command ------------------------------------------------------------------------------


@dataclass
class RootDiff:
    root: Path
    missing: dict[str, str]  # "before"/"after" -> why that side has no dataset
    splits: list[SplitDiff]
    introduced: list[Diagnostic]
    fixed: list[Diagnostic]


def _split_key(split: Split) -> str:
    return split.canonical or split.name


def _findings(ds: Dataset, rules: list[Rule], base: Path) -> list[tuple[Diagnostic, Fingerprint]]:
    if not ds.exists:
        return []
    found = lint_dataset(ds, rules)
    return list(zip(found, fingerprints(found, ds, base), strict=True))


def _read_side(
    ds: Dataset, rules: list[Rule], base: Path
) -> tuple[list[tuple[Diagnostic, Fingerprint]], dict[str, _View]]:
    """One version: its findings (fingerprinted) and a view of each split; then its parsed
    documents are let go, so the two versions never hold two sets of Python objects at once
    (the views keep only arrays and columns)."""
    found = _findings(ds, rules, base)
    views = {_split_key(s): view(s) for s in ds.splits} if ds.exists else {}
    for split in ds.splits:
        for cached in ("loaded", "tables", "images", "file_names", "schema_valid", "image_headers"):
            split.__dict__.pop(cached, None)  # functools.cached_property keeps them here
    return found, views


def _changed_findings(
    before: list[tuple[Diagnostic, Fingerprint]], after: list[tuple[Diagnostic, Fingerprint]]
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """(introduced, fixed): findings of one side whose fingerprint the other has fewer of."""

    def extra(
        side: list[tuple[Diagnostic, Fingerprint]], other: list[tuple[Diagnostic, Fingerprint]]
    ) -> list[Diagnostic]:
        left = Counter(fp for _, fp in other)
        out = []
        for d, fp in side:
            if left[fp] > 0:
                left[fp] -= 1
            else:
                out.append(d)
        return out

    return extra(after, before), extra(before, after)


def _renamed(fp: Fingerprint, ids: dict[str, str] | None) -> Fingerprint:
    if not ids or fp[5] is None or fp[5] not in ids:
        return fp
    return (*fp[:5], ids[fp[5]], *fp[6:])


def diff_root(
    target: Target, before: Dataset, after: Dataset, rules: list[Rule], threshold: float,
    draw: int = 0,
) -> RootDiff:  # fmt: skip
    missing = {
        side: ds.source.error or "no such folder"
        for side, ds in (("before", before), ("after", after))
        if not ds.exists
    }
    base = Path.cwd()
    found_a, views_a = _read_side(before, rules, base)
    found_b, views_b = _read_side(after, rules, base)
    empty = _empty()
    splits = []
    for key in sorted(set(views_a) | set(views_b)):
        split = diff_split(key, views_a.get(key, empty), views_b.get(key, empty), threshold, draw)
        draw -= len(split.drawn)
        splits.append(split)
    # findings about a person the re-export renumbered keep the id it had before
    names_b = {_split_key(s): s.name for s in after.splits} if after.exists else {}
    renamed = {names_b[d.split]: d.renamed for d in splits if d.renamed and d.split in names_b}
    found_b = [(d, _renamed(fp, renamed.get(fp[2] or ""))) for d, fp in found_b]
    introduced, fixed = _changed_findings(found_a, found_b)
    return RootDiff(target.root, missing, splits, introduced, fixed)


# Findings whose answer depends on where the data is read from, not on the data: the
# workspace-vs-.dvc comparison (PL108) and the image md5s (PL413) a git tree does not have.
SOURCE_DEPENDENT = ("PL108", "PL413")


def run(args: argparse.Namespace) -> int:
    """`poselint diff REV_A [REV_B] [PATH...]`."""
    from poselint.sources.git import GitError

    if args.output_format == "html" and args.output is None:
        print("poselint: error: --format html needs --output FILE", file=sys.stderr)
        return EXIT_CANNOT_RUN
    config = load_config(args.config)
    try:
        with gc_paused(), DvcSession() as dvc:
            return _diff(args, config, dvc)
    except (GitError, DvcError) as exc:
        print(f"poselint: error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN


def _diff(args: argparse.Namespace, config: Config, dvc: DvcSession) -> int:
    from dataclasses import replace

    from poselint.sources.git import git_repo, open_at

    git = git_repo(Path.cwd())
    commit_a = git.commit(args.rev_a)
    rest = list(args.rest)
    commit_b = None
    rev_b = "working tree"
    if rest and rest[0] != "--" and not Path(rest[0]).exists():
        commit_b = git.commit(rest[0])
        rev_b = rest.pop(0)
    paths = [Path(p) for p in rest if p != "--"]
    # the same checks on both sides: image headers are not in a git tree or DVC's manifest
    config = replace(config, image_size=False, max_findings_per_file=0)
    rules = [r for r in select_rules(config) if r.code not in SOURCE_DEPENDENT]
    roots: list[RootDiff] = []
    sides: list[tuple[Dataset, Dataset]] = []  # to read the images drawn (--format html)
    fmt = args.output_format
    draw = MAX_DRAWN if fmt == "html" else 0
    for target in targets_of(paths, config.datasets):
        before = Dataset(
            target.root, config, dvc_file=target.dvc_file,
            source=open_at(dvc, target.root, target.dvc_file, git, commit_a),
        )  # fmt: skip
        source: DataSource | None = None  # the working tree
        if commit_b is not None:
            source = open_at(dvc, target.root, target.dvc_file, git, commit_b)
        elif target.dvc_file is not None and not target.root.is_dir():
            source = open_remote(dvc, target.root, target.dvc_file)  # not pulled
        after = Dataset(target.root, config, dvc_file=target.dvc_file, source=source)
        roots.append(diff_root(target, before, after, rules, args.threshold, draw))
        draw -= sum(len(s.drawn) for s in roots[-1].splits)
        sides.append((before, after))
    header = {
        "from": args.rev_a,
        "from_commit": commit_a,
        "to": rev_b,
        "to_commit": commit_b,
        "threshold": args.threshold,
    }
    cwd = Path.cwd()
    if fmt == "html":
        from poselint.commands.diff_html import render_diff_html

        text = render_diff_html(header, roots, sides, cwd, args.limit)
    else:
        text = (
            to_json(header, roots, cwd) if fmt == "json"
            else to_markdown(header, roots, cwd, args.limit) if fmt == "github"
            else to_text(header, roots, cwd, args.limit)
        )  # fmt: skip
    if args.output is not None:
        from poselint.fsutil import atomic_write_bytes

        atomic_write_bytes(args.output, text.encode())
    else:
        sys.stdout.write(text)
    return 0


# --- output ------------------------------------------------------------------------------------


def _num(v: float) -> str:
    return f"{v:g}"


def _person(p: Person) -> dict[str, Any]:
    return {"image": p.image, "id": p.id}


def _change(c: PointChange) -> dict[str, Any]:
    record: dict[str, Any] = {"image": c.image, "id": c.id_b}
    if c.id_a != c.id_b:
        record["id_before"] = c.id_a
    record.update(
        keypoint=c.keypoint, name=c.name, before=list(c.before), after=list(c.after),
        distance=round(c.distance, 3),
    )  # fmt: skip
    return record


def _display(root: Path, cwd: Path) -> str:
    return display_path(root, cwd)


def to_json(header: dict[str, Any], roots: list[RootDiff], cwd: Path) -> str:
    import orjson

    from poselint.report.text import as_json_records

    data = dict(header)
    data["roots"] = [
        {
            "root": _display(r.root, cwd),
            "missing": r.missing,
            "splits": [
                {
                    "split": s.shown,
                    "images_added": s.images_added,
                    "images_removed": s.images_removed,
                    "people_added": [_person(p) for p in s.people_added],
                    "people_removed": [_person(p) for p in s.people_removed],
                    "people_renumbered": s.renumbered,
                    "keypoints_moved": [_change(c) for c in s.moved],
                    "visibility_changed": [_change(c) for c in s.flags],
                    "categories": s.categories,
                }
                for s in r.splits
            ],
            "findings_introduced": as_json_records(r.introduced, cwd),
            "findings_fixed": as_json_records(r.fixed, cwd),
        }
        for r in roots
    ]
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"


def _who(c: PointChange) -> str:
    was = f" (was {c.id_a!r})" if c.id_a != c.id_b else ""
    name = f" ({c.name})" if c.name else ""
    return f"{c.image} person {c.id_b!r}{was} keypoint {c.keypoint}{name}"


def _xy(t: tuple[float, float, float]) -> str:
    return f"({_num(t[0])}, {_num(t[1])})"


def _lines(s: SplitDiff) -> list[str]:
    """One line per change, in a stable order."""
    out = [f"+ image {n}" for n in s.images_added]
    out += [f"- image {n}" for n in s.images_removed]
    out += [f"+ {p.label()}" for p in s.people_added]
    out += [f"- {p.label()}" for p in s.people_removed]
    out += [
        f"~ {_who(c)} moved {c.distance:.1f} px: {_xy(c.before)} -> {_xy(c.after)}" for c in s.moved
    ]
    out += [f"~ {_who(c)} visibility {_num(c.before[2])} -> {_num(c.after[2])}" for c in s.flags]
    out += [f"~ {line}" for line in s.categories]
    return out


def _summary(s: SplitDiff) -> str:
    def n(count: int, what: str, plural: str | None = None) -> str:
        return f"{count} {what if count == 1 else plural or what + 's'}"

    parts = [
        f"images +{len(s.images_added)} -{len(s.images_removed)}",
        f"people +{len(s.people_added)} -{len(s.people_removed)}",
        n(len(s.moved), "keypoint") + " moved",
        n(len(s.flags), "visibility flag") + " changed",
    ]
    if s.renumbered:
        parts.append(n(s.renumbered, "person", "people") + " matched by keypoints (id changed)")
    if s.categories:
        parts.append(n(len(s.categories), "category change"))
    return ", ".join(parts)


def _capped(lines: list[str], limit: int) -> list[str]:
    if limit and len(lines) > limit:
        return [*lines[:limit], f"... and {len(lines) - limit} more (--format json lists all)"]
    return lines


def to_text(header: dict[str, Any], roots: list[RootDiff], cwd: Path, limit: int) -> str:
    from poselint.report.text import write_report

    out = io.StringIO()
    out.write(f"poselint diff {header['from']} -> {header['to']}\n")
    for r in roots:
        out.write(f"{_display(r.root, cwd)}\n")
        for side, why in r.missing.items():
            out.write(f"  not there {side}: {why}\n")
        for s in r.splits:
            if not s:
                out.write(f"  {s.shown}: no label changes\n")
                continue
            out.write(f"  {s.shown}: {_summary(s)}\n")
            for line in _capped(_lines(s), limit):
                out.write(f"    {line}\n")
        for title, found in (("introduced", r.introduced), ("fixed", r.fixed)):
            if found:
                out.write(f"  findings {title} ({len(found)}):\n")
                inner = io.StringIO()
                write_report(found, "text", inner, cwd=cwd, limit=limit, quiet=True)
                out.writelines(f"    {line}\n" for line in inner.getvalue().splitlines())
    return out.getvalue()


def _md(text: str) -> str:
    """Plain text in a markdown table cell or list item: no markup, no HTML."""
    return html.escape(text).replace("|", "\\|").replace("`", "'").replace("\n", " ")


def to_markdown(header: dict[str, Any], roots: list[RootDiff], cwd: Path, limit: int) -> str:
    """A pull-request comment: a table per root and split, the details folded below."""
    out = io.StringIO()
    to = header["to"]
    out.write(f"### poselint diff: {_md(header['from'])} → {_md(to)}\n\n")
    out.write(
        "| dataset | split | images | people | keypoints moved | visibility changed "
        "| findings |\n|---|---|---|---|---|---|---|\n"
    )
    for r in roots:
        name = _md(_display(r.root, cwd))
        findings = f"+{len(r.introduced)} -{len(r.fixed)}"
        for s in r.splits or [SplitDiff("—")]:
            out.write(
                f"| {name} | {_md(s.shown)} | +{len(s.images_added)} -{len(s.images_removed)} "
                f"| +{len(s.people_added)} -{len(s.people_removed)} | {len(s.moved)} "
                f"| {len(s.flags)} | {findings} |\n"
            )
    for r in roots:
        name = _md(_display(r.root, cwd))
        for side, why in r.missing.items():
            out.write(f"\n**{name}** is not there {side}: {_md(why)}\n")
        for s in r.splits:
            if not s:
                continue
            out.write(
                f"\n<details><summary>{name} {_md(s.shown)}: {_md(_summary(s))}</summary>\n\n"
            )
            out.writelines(f"- {_md(line)}\n" for line in _capped(_lines(s), limit))
            out.write("\n</details>\n")
        for title, found in (("introduced", r.introduced), ("fixed", r.fixed)):
            if not found:
                continue
            out.write(f"\n<details><summary>{name}: {len(found)} findings {title}</summary>\n\n")
            rows = [
                f"{d.code} {d.display_path(cwd)}{':' + d.pointer if d.pointer else ''} {d.message}"
                for d in found
            ]
            out.writelines(f"- {_md(row)}\n" for row in _capped(rows, limit))
            out.write("\n</details>\n")
    return out.getvalue()
