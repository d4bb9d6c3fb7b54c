"""PL6xx: visibility flags and keypoint coordinates, as array expressions over every triplet.

Each rule computes one boolean mask over `Split.tables.kp` (all triplets of the split at
once) and only loops over the rows it flags, to build their JSON pointers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from poselint.diagnostics import json_pointer
from poselint.lazy import np
from poselint.load.dataset import Split
from poselint.load.jsonvalues import is_int_id
from poselint.load.tables import Tables
from poselint.rules.base import Finding, FindingBatch, Fix, rule

if TYPE_CHECKING:
    from numpy.typing import NDArray

    BoolArray = NDArray[np.bool_]


def _keypoint_names(split: Split) -> dict[int, list[str]]:
    """category id -> keypoint names, for messages; tolerant of malformed categories."""
    names: dict[int, list[str]] = {}
    categories = (split.document or {}).get("categories")
    for cat in categories if isinstance(categories, list) else []:
        # is_int_id, not is_id (1.0): names are looked up by the tables' int64 category_id
        if isinstance(cat, dict) and is_int_id(cat.get("id")):
            kps = cat.get("keypoints")
            if isinstance(kps, list):
                names.setdefault(cat["id"], [str(k) for k in kps])
    return names


class _Points:
    """Flagged triplets -> findings, naming the keypoint when its category says which it is."""

    def __init__(self, split: Split) -> None:
        self.t: Tables = split.tables
        self._names: dict[int, list[str]] | None = None
        self._split = split

    def label(self, ann: int, k: int) -> str:
        if self._names is None:
            self._names = _keypoint_names(self._split)
        t = self.t
        names = self._names.get(int(t.category_id[ann])) if t.category_id_ok[ann] else None
        return f"keypoint {k} ({names[k]})" if names and k < len(names) else f"keypoint {k}"

    def rows(
        self, flagged: BoolArray | NDArray[np.intp]
    ) -> Iterator[tuple[int, int, int, float, float, float]]:
        """(triplet row, annotation row, keypoint index, x, y, v) of each flagged triplet.

        flagged: a mask over all triplets, or the triplet rows themselves.
        """
        t = self.t
        rows = np.flatnonzero(flagged) if flagged.dtype == np.bool_ else flagged
        for row in rows.tolist():
            x, y, v = t.kp[row].tolist()
            yield row, int(t.kp_ann[row]), t.keypoint_index(row), x, y, v


_BLOCK = 1 << 17  # triplets per numpy pass: temporaries of ~1 MB, reused, in the CPU cache


def _flagged(t: Tables, test: Callable[[slice], BoolArray]) -> NDArray[np.intp]:
    """Rows of t.kp for which test(block) holds, block by block: at COCO scale one pass over
    all 4.5 M triplets would allocate ~150 MB of fresh temporaries per rule."""
    parts = [
        np.flatnonzero(test(slice(lo, lo + _BLOCK))) + lo for lo in range(0, len(t.kp), _BLOCK)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)


def _num(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else repr(value)


def _pointer(ann: int, value_index: int) -> str:
    return json_pointer("annotations", ann, "keypoints", value_index)


def _batch(count: int, findings: Iterator[Finding]) -> Iterator[FindingBatch]:
    """One lazy batch: the engine formats only the findings it keeps (a raw CVAT export at
    COCO scale has two million stale outside points)."""
    if count:
        yield FindingBatch(count, findings)


Findings = Iterator[FindingBatch]


@rule(
    "PL601",
    "outside-point-not-zeroed",
    what="A keypoint marked outside/absent (v=0) keeps non-zero x or y. Off with "
    "`zero_outside_keypoints = false`.",
    why="Raw CVAT exports keep the drawn position of outside points; training code that ignores "
    "v (or a flip/crop augmentation) then learns from stale coordinates.",
    scope="document",
    fix=Fix(
        "unsafe",
        "poselint.fix.document:fix_outside_points",
        why="Zeroing discards the positions CVAT drew, which someone may want back by marking "
        "the point visible again; nothing else keeps them. `ingest` applies it anyway (the "
        "export it read still holds them).",
    ),
)
def outside_point_not_zeroed(split: Split) -> Findings:
    if not split.dataset.config.zero_outside_keypoints:
        return
    points = _Points(split)
    kp = points.t.kp
    rows = _flagged(points.t, lambda b: (kp[b, 2] == 0) & ((kp[b, 0] != 0) | (kp[b, 1] != 0)))
    yield from _batch(
        len(rows),
        (
            Finding(
                f"{points.label(ann, k)} is outside (v=0) but keeps coordinates "
                f"({_num(x)}, {_num(y)}); set x=y=0",
                pointer=_pointer(ann, 3 * k),
            )
            for _, ann, k, x, y, _v in points.rows(rows)
        ),
    )


@rule(
    "PL602",
    "invalid-visibility-flag",
    what="A keypoint's visibility v is not one of the integers 0, 1, 2.",
    why="COCO defines only 0 (not labelled), 1 (labelled, hidden), 2 (visible); any other value "
    "is read as labelled by some tools and ignored by others.",
    scope="document",
)
def invalid_visibility_flag(split: Split) -> Findings:
    points = _Points(split)
    kp = points.t.kp
    rows = _flagged(points.t, lambda b: (kp[b, 2] != 0) & (kp[b, 2] != 1) & (kp[b, 2] != 2))
    yield from _batch(
        len(rows),
        (
            Finding(
                f"{points.label(ann, k)} has visibility {_num(flag)}; it must be 0, 1 or 2",
                pointer=_pointer(ann, 3 * k + 2),
            )
            for _, ann, k, _x, _y, flag in points.rows(rows)
        ),
    )


@rule(
    "PL603",
    "num-keypoints-mismatch",
    what="`num_keypoints` differs from the number of keypoints with v > 0.",
    why="COCOeval ignores annotations with num_keypoints 0 and samplers filter on it: a stale "
    "count drops or keeps the wrong people.",
    scope="document",
    fix=Fix(
        "safe",
        "poselint.fix.document:fix_num_keypoints",
        why="The count is derived from the flags, which stay as they are; only an annotation "
        "whose flags are all numbers is recounted.",
    ),
)
def num_keypoints_mismatch(split: Split) -> Findings:
    t = split.tables
    counts = t.labelled_counts
    given = t.num_keypoints
    anns = np.flatnonzero(t.keypoints_ok & ~np.isnan(given) & (given != counts))
    yield from _batch(
        len(anns),
        (
            Finding(
                f"num_keypoints is {_num(float(given[ann]))} but {int(counts[ann])} keypoints "
                "have v > 0",
                pointer=json_pointer("annotations", ann, "num_keypoints"),
            )
            for ann in anns.tolist()
        ),
    )


_SLACK = 1.0  # px a labelled point may pass the frame by: the same slack as PL410's bbox


@rule(
    "PL604",
    "labelled-point-outside-image",
    what="A labelled keypoint (v > 0) lies outside the image by more than 1 px: not "
    "-1 <= x <= width + 1 and -1 <= y <= height + 1 (COCO coordinates are continuous, so a point "
    "on the right or bottom edge, x = width, is inside; the 1 px is PL410's slack).",
    why="A point outside the frame should have been marked outside (v=0); heatmap targets "
    "clip or crash on it.",
    scope="document",
)
def labelled_point_outside_image(split: Split) -> Findings:
    points = _Points(split)
    t = points.t
    # each annotation's image size (NaN when its image does not resolve: nothing to compare)
    resolved = np.flatnonzero(t.ann_image_row >= 0)
    width, height = np.full(t.n_annotations, np.nan), np.full(t.n_annotations, np.nan)
    width[resolved] = t.width[t.ann_image_row[resolved]]
    height[resolved] = t.height[t.ann_image_row[resolved]]

    def outside(block: slice) -> BoolArray:
        kp, ann = t.kp[block], t.kp_ann[block]
        w, h = width[ann], height[ann]
        x, y = kp[:, 0], kp[:, 1]
        with np.errstate(invalid="ignore"):  # NaN sizes compare False: the schema reports them
            out = (x < -_SLACK) | (x > w + _SLACK) | (y < -_SLACK) | (y > h + _SLACK)
            return out & (kp[:, 2] > 0) & (w > 0) & (h > 0)

    rows = _flagged(t, outside)

    def finding(ann: int, k: int, px: float, py: float) -> Finding:
        w, h = float(width[ann]), float(height[ann])
        return Finding(
            f"{points.label(ann, k)} is labelled at ({_num(px)}, {_num(py)}), outside the "
            f"{_num(w)}x{_num(h)} image; mark it outside (v=0) or move it inside",
            pointer=_pointer(ann, 3 * k if not -_SLACK <= px <= w + _SLACK else 3 * k + 1),
        )

    yield from _batch(
        len(rows),
        (finding(ann, k, px, py) for _, ann, k, px, py, _v in points.rows(rows)),
    )


@rule(
    "PL605",
    "labelled-point-at-origin",
    what="A labelled keypoint (v > 0) sits at exactly (0, 0).",
    why="(0, 0) is what missing points default to in many tools: almost always a point that "
    "should be v=0, not a real corner pixel.",
    scope="document",
    severity="warning",
)
def labelled_point_at_origin(split: Split) -> Findings:
    points = _Points(split)
    kp = points.t.kp
    rows = _flagged(
        points.t,
        lambda b: (kp[b, 0] == 0) & (kp[b, 1] == 0) & (kp[b, 2] > 0),
    )
    yield from _batch(
        len(rows),
        (
            Finding(
                f"{points.label(ann, k)} is labelled (v={_num(v)}) at exactly (0, 0); "
                "if it is not in the image, mark it outside (v=0)",
                pointer=_pointer(ann, 3 * k),
            )
            for _, ann, k, _x, _y, v in points.rows(rows)
        ),
    )


@rule(
    "PL606",
    "empty-annotation",
    what="An annotation with `num_keypoints` 0 and `iscrowd` 0 (opt-in: select PL606 to list "
    "them).",
    why="COCOeval makes such a person an ignore region: detections on it are neither true nor "
    "false positives. COCO keeps tens of thousands on purpose, so it is off by default; in a "
    "CVAT export it can be a skeleton whose points were all marked outside by mistake, which "
    "then silently stops counting.",
    scope="document",
    severity="warning",
    opt_in=True,
)
def empty_annotation(split: Split) -> Findings:
    t = split.tables
    anns = np.flatnonzero((t.num_keypoints == 0) & (t.iscrowd == 0))
    yield from _batch(
        len(anns),
        (
            Finding(
                "annotation has num_keypoints 0 and iscrowd 0: COCOeval treats this person "
                "as an ignore region",
                pointer=json_pointer("annotations", ann),
            )
            for ann in anns.tolist()
        ),
    )


@rule(
    "PL607",
    "point-far-outside-bbox",
    what="A labelled keypoint lies farther outside its annotation's bbox than the bbox's larger "
    "side (at least 1 px): beyond [x - s, x + w + s] or [y - s, y + h + s], s = max(w, h, 1).",
    why="Either the point belongs to another person or the bbox is stale; both corrupt the "
    "crop that top-down pose models train on.",
    scope="document",
    severity="warning",
)
def point_far_outside_bbox(split: Split) -> Findings:
    points = _Points(split)
    t = points.t
    bx, by, bw, bh = t.bbox.T
    with np.errstate(invalid="ignore", over="ignore"):  # a 1e308 bbox: inf, not a warning
        usable = np.isfinite(t.bbox).all(axis=1) & (bw >= 0) & (bh >= 0)
        slack = np.maximum(np.maximum(bw, bh), 1.0)
        # per annotation, the window a labelled point must stay in (infinite when no bbox)
        x_lo = np.where(usable, bx - slack, -np.inf)
        x_hi = np.where(usable, bx + bw + slack, np.inf)
        y_lo = np.where(usable, by - slack, -np.inf)
        y_hi = np.where(usable, by + bh + slack, np.inf)

    def far(block: slice) -> BoolArray:
        kp, ann = t.kp[block], t.kp_ann[block]
        x, y = kp[:, 0], kp[:, 1]
        out = (x < x_lo[ann]) | (x > x_hi[ann]) | (y < y_lo[ann]) | (y > y_hi[ann])
        return out & (kp[:, 2] > 0)

    rows = _flagged(t, far)

    def box(a: int) -> str:
        return ", ".join(_num(v) for v in t.bbox[a].tolist())

    yield from _batch(
        len(rows),
        (
            Finding(
                f"{points.label(a, k)} at ({_num(px)}, {_num(py)}) is far outside the bbox "
                f"[{box(a)}]: the point or the bbox is wrong",
                pointer=_pointer(a, 3 * k),
            )
            for _, a, k, px, py, _v in points.rows(rows)
        ),
    )


@rule(
    "PL608",
    "no-labelled-people",
    what="No annotation of the split is a person with a labelled keypoint (v > 0, iscrowd 0): "
    "no annotations at all, or only crowds and people with every point unlabelled.",
    why="Training on it sees nobody and evaluation on it scores nothing (COCOeval: -1), yet "
    "loaders accept it silently. CVAT exports this when the task's labels are Points, not a "
    "Skeleton: one category per point, no keypoint names, no keypoint annotations.",
    scope="document",
)
def no_labelled_people(split: Split) -> Iterator[Finding]:
    annotations = (split.document or {}).get("annotations")
    if not isinstance(annotations, list):  # missing or mistyped: PL310's
        return
    t = split.tables
    if not t.keypoints_ok.all():  # keypoints that are no triplets: PL310/PL407 say why
        return
    if np.any((t.iscrowd != 1) & (t.labelled_counts > 0)):  # NaN (no iscrowd) is PL310's
        return
    found = (
        f"none of its {len(annotations)} annotations is a person with a labelled keypoint"
        if annotations
        else "the split has no annotations"
    )
    if not any(_keypoint_names(split).values()):
        found += "; no category names a keypoint (CVAT Points labels? export a Skeleton)"
    yield Finding(f"{found}: nobody to train or evaluate on in this split", pointer="/annotations")
