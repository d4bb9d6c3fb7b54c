"""PL4xx geometry: boxes, areas and polygons against their image and their keypoints.

Array expressions over the shared numpy tables (Split.tables) and the polygon table; a
malformed value is NaN there and compares False, so PL310's cases are skipped, not repeated.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from poselint.diagnostics import json_pointer
from poselint.lazy import np
from poselint.load.dataset import Split
from poselint.load.keypoints import offsets_from_counts
from poselint.load.polygons import PolygonTable, polygon_table
from poselint.load.tables import entries
from poselint.rules.base import Finding, rule

if TYPE_CHECKING:
    from numpy.typing import NDArray


@rule(
    "PL410",
    "bbox-outside-image",
    what="An annotation's `bbox` reaches outside its image by more than 1 px. Its shape "
    "(4 numbers, w, h >= 0), `area` >= 0 and `iscrowd` in {0, 1} are PL310's; that the numbers "
    "are finite is PL303's (the strict parser rejects NaN, Infinity and 1e999).",
    why="Training crops and OKS scale come from the box: a box off the frame means a wrong "
    "crop and a wrong evaluation scale.",
    scope="document",
)
def bbox_outside_image(split: Split) -> Iterator[Finding]:
    t = split.tables  # NaN where a bbox or a size is malformed: NaN compares False, skipped
    rows = np.flatnonzero(t.ann_image_row >= 0)
    image = t.ann_image_row[rows]
    x, y, w, h = t.bbox[rows].T
    width, height = t.width[image], t.height[image]
    with np.errstate(over="ignore"):  # a 1e308 bbox: x + w is inf, not a warning
        outside = (x < -1) | (y < -1) | (x + w > width + 1) | (y + h > height + 1)
    for j in np.flatnonzero(outside).tolist():
        i = int(rows[j])
        bx, by, bw, bh = t.bbox[i].tolist()
        yield Finding(
            f"bbox [{bx:g}, {by:g}, {bw:g}, {bh:g}] reaches outside its {width[j]:g}x"
            f"{height[j]:g} image by more than 1 px (x {bx:g} .. {bx + bw:g}, "
            f"y {by:g} .. {by + bh:g})",
            pointer=json_pointer("annotations", i, "bbox"),
        )


def _labelled(split: Split) -> NDArray[np.bool_]:
    """Per annotation: a person (iscrowd 0) with at least one labelled keypoint (v > 0)."""
    t = split.tables
    labelled: NDArray[np.bool_] = (t.iscrowd == 0) & (t.labelled_counts > 0)
    return labelled


@rule(
    "PL415",
    "zero-area",
    what="A labelled annotation (iscrowd 0, a keypoint with v > 0) has `area` 0 (a negative "
    "area is PL310's).",
    why="COCOeval's OKS divides each keypoint's distance by the area: with area 0 no prediction "
    "matches this person (AP 0 on it, reported in mmpose's issues as AP = 0).",
    scope="document",
)
def zero_area(split: Split) -> Iterator[Finding]:
    anns = np.flatnonzero(_labelled(split) & (split.tables.area == 0))
    for i in anns.tolist():
        yield Finding(
            "area is 0 on an annotation with labelled keypoints; use the segmentation's area "
            "(or the bbox's w x h)",
            pointer=json_pointer("annotations", i, "area"),
        )


@rule(
    "PL416",
    "degenerate-bbox",
    what="A labelled annotation (iscrowd 0, a keypoint with v > 0) has a `bbox` of zero width "
    "or height, as CVAT writes for a skeleton with one point or points on a line.",
    why="Top-down training crops the person by the box: mmpose drops a box with w or h <= 0 "
    "without a word, other loaders divide by it.",
    scope="document",
)
def degenerate_bbox(split: Split) -> Iterator[Finding]:
    t = split.tables
    anns = np.flatnonzero(_labelled(split) & ((t.bbox[:, 2] == 0) | (t.bbox[:, 3] == 0)))
    for i in anns.tolist():
        x, y, w, h = t.bbox[i].tolist()
        yield Finding(
            f"bbox [{x:g}, {y:g}, {w:g}, {h:g}] has zero {'width' if w == 0 else 'height'} "
            f"but the annotation has {int(t.labelled_counts[i])} labelled keypoints; draw the "
            "person's box",
            pointer=json_pointer("annotations", i, "bbox"),
        )


@rule(
    "PL417",
    "invalid-polygon",
    what="A polygon of a `segmentation` has fewer than 3 points or an odd number of values, or "
    "reaches outside its image by more than 1 px (as PL410 for the bbox).",
    why="pycocotools reads a 4-value polygon as a box and drops a trailing value; COCOeval's "
    "segm scores, crowd ignore masks and copy-paste augmentation draw these masks.",
    scope="document",
)
def invalid_polygon(split: Split) -> Iterator[Finding]:
    loaded = split.loaded
    assert loaded is not None
    table = polygon_table(entries(split.document, "annotations"), loaded.polygons)
    if not len(table.length):
        return
    t = split.tables
    bad_shape = (table.length < 6) | (table.length % 2 == 1)
    image = t.ann_image_row[table.ann]  # NaN sizes where the image does not resolve
    width = np.where(image >= 0, t.width[np.maximum(image, 0)], np.nan)
    height = np.where(image >= 0, t.height[np.maximum(image, 0)], np.nan)
    x_lo, x_hi, y_lo, y_hi = _polygon_extents(table, ~bad_shape)
    with np.errstate(invalid="ignore"):  # NaN compares False: nothing to compare with
        outside = (x_lo < -1) | (y_lo < -1) | (x_hi > width + 1) | (y_hi > height + 1)
    first_of_ann = _first_of_annotation(table.ann)
    for p in np.flatnonzero(bad_shape | (outside & ~bad_shape)).tolist():
        a = int(table.ann[p])
        pointer = json_pointer("annotations", a, "segmentation", p - int(first_of_ann[p]))
        n = int(table.length[p])
        if bad_shape[p]:
            problem = "an odd number of values" if n % 2 else f"{n // 2} points"
            message = f"polygon has {n} values ({problem}); a polygon needs 3 or more x, y pairs"
        else:
            message = (
                f"polygon reaches outside its {width[p]:g}x{height[p]:g} image by more than 1 px "
                f"(x {x_lo[p]:g} .. {x_hi[p]:g}, y {y_lo[p]:g} .. {y_hi[p]:g})"
            )
        yield Finding(message, pointer=pointer)


def _polygon_extents(table: PolygonTable, usable: NDArray[np.bool_]) -> list[NDArray[np.float64]]:
    """Per polygon: min x, max x, min y, max y (NaN unless usable: even length >= 6). When
    every polygon has an even length, x and y are every other value of the whole table: two
    views and four reductions, no per-value temporaries."""
    values, start = table.values, table.start
    if (table.length % 2).any():  # rare: copy out the usable polygons' values, evenly aligned
        keep = np.repeat(usable, table.length)
        length = np.where(usable, table.length, 0)
        values, start = values[keep], offsets_from_counts(length)
        usable = usable & (length > 0)
    xs, ys = values[0::2], values[1::2]
    rows = np.flatnonzero(np.diff(start) > 0)  # every non-empty polygon bounds a segment
    out = [np.full(len(table.length), np.nan) for _ in range(4)]
    if len(rows):
        at = start[rows] // 2
        out[0][rows] = np.minimum.reduceat(xs, at)
        out[1][rows] = np.maximum.reduceat(xs, at)
        out[2][rows] = np.minimum.reduceat(ys, at)
        out[3][rows] = np.maximum.reduceat(ys, at)
    for extent in out:
        extent[~usable] = np.nan
    return out


def _first_of_annotation(ann: NDArray[np.int64]) -> NDArray[np.intp]:
    """For each polygon, the index of the first polygon of its annotation (they are in order)."""
    index = np.arange(len(ann))
    new = np.ones(len(ann), dtype=np.bool_)
    new[1:] = ann[1:] != ann[:-1]
    return np.maximum.accumulate(np.where(new, index, 0))
