"""PL4xx: the document agrees with itself, and the splits agree with each other.

PL310 (the schema) owns types, required keys and value ranges. These rules check what the
schema cannot express, and skip an entry whose shape is wrong (PL310 reports it) instead of
raising or reporting it twice. Speed: a C-speed set pass or the shared numpy tables decide the
common case (nothing to report) in 0.001-0.08 s per rule at COCO-2017 scale; the per-entry
loop that builds findings runs only when that says something may be wrong
(benchmarks/bench_integrity.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from poselint.diagnostics import json_pointer
from poselint.load.dataset import Dataset, Split
from poselint.load.keypoints import offsets_from_counts
from poselint.load.polygons import PolygonTable, polygon_table
from poselint.load.tables import column, entries
from poselint.rules.base import Finding, rule


def _all_distinct(values: list[Any]) -> bool:
    """True when no value repeats; False also when one is unhashable (the slow path decides)."""
    try:
        return len(set(values)) == len(values)
    except TypeError:
        return False


def _is_id(value: Any) -> bool:
    # bool is an int in Python but not an id; a float like 1.0 is an integer to JSON Schema.
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def _ids(document: dict[str, Any] | None, key: str) -> set[Any]:
    return {e["id"] for e in entries(document, key) if isinstance(e, dict) and _is_id(e.get("id"))}


def _keypoint_names(category: dict[str, Any]) -> list[Any] | None:
    """A category's keypoint names; absent means none; None when malformed (PL310's)."""
    names = category.get("keypoints", [])
    return names if isinstance(names, list) else None


def _keypoint_counts(document: dict[str, Any] | None) -> dict[Any, int]:
    """category id -> its number of keypoint names, for well-formed categories only."""
    counts: dict[Any, int] = {}
    for category in entries(document, "categories"):
        if isinstance(category, dict) and _is_id(category.get("id")):
            names = _keypoint_names(category)
            if names is not None:
                counts.setdefault(category["id"], len(names))
    return counts


def _duplicate_ids(split: Split, key: str) -> Iterator[Finding]:
    rows = entries(split.document, key)
    if _all_distinct(column(rows, "id")):
        return  # the common case, decided at C speed
    first: dict[Any, int] = {}
    for i, entry in enumerate(rows):
        if not isinstance(entry, dict) or not _is_id(entry.get("id")):
            continue
        seen = first.setdefault(entry["id"], i)
        if seen != i:
            yield Finding(
                f"{key[:-1]} id {entry['id']} is already used by {json_pointer(key, seen)}",
                pointer=json_pointer(key, i, "id"),
            )


@rule(
    "PL401",
    "duplicate-image-id",
    what="Two entries of `images` share an `id`.",
    why="pycocotools keeps the last one: the other image's annotations attach to the wrong "
    "picture.",
    scope="document",
)
def duplicate_image_id(split: Split) -> Iterator[Finding]:
    yield from _duplicate_ids(split, "images")


@rule(
    "PL402",
    "duplicate-annotation-id",
    what="Two entries of `annotations` share an `id` (ids restarting in each split file are fine).",
    why="pycocotools indexes annotations by id: one of the two people silently disappears.",
    scope="document",
)
def duplicate_annotation_id(split: Split) -> Iterator[Finding]:
    yield from _duplicate_ids(split, "annotations")


@rule(
    "PL403",
    "duplicate-category-id",
    what="Two entries of `categories` share an `id`.",
    why="Which keypoint names and skeleton apply to an annotation becomes ambiguous.",
    scope="document",
)
def duplicate_category_id(split: Split) -> Iterator[Finding]:
    yield from _duplicate_ids(split, "categories")


def _all_resolve(split: Split, field: str, key: str) -> bool:
    """The common case, from the shared numpy tables: every annotation's id is an int64 that
    some entry of `key` has. False means "look closer", never "there is a problem"."""
    t = split.tables
    if field == "image_id":  # the tables already matched every image_id to its image row
        return bool(t.ann_image_id_ok.all()) and bool((t.ann_image_row >= 0).all())
    known = _ids(split.document, key)  # categories: a handful
    targets = [i for i in known if type(i) is int and -(2**63) <= i < 2**63]
    ids = np.array(targets, dtype=np.int64)
    return bool(t.category_id_ok.all()) and bool(np.isin(t.category_id, ids).all())


def _dangling(split: Split, field: str, key: str) -> Iterator[Finding]:
    if _all_resolve(split, field, key):
        return
    known = _ids(split.document, key)
    values = column(entries(split.document, "annotations"), field)
    try:
        unknown = set(values) - known
    except TypeError:  # an unhashable value somewhere: PL310's; look at each value
        unknown = None
    if unknown is not None and not unknown:
        return
    for i, value in enumerate(values):
        if _is_id(value) and value not in known:
            yield Finding(
                f"{field} {value} matches no entry of {key}",
                pointer=json_pointer("annotations", i, field),
            )


@rule(
    "PL404",
    "unknown-image-id",
    what="An annotation's `image_id` matches no entry of `images`.",
    why="The label belongs to no picture: pycocotools raises KeyError, other loaders drop it.",
    scope="document",
)
def unknown_image_id(split: Split) -> Iterator[Finding]:
    yield from _dangling(split, "image_id", "images")


@rule(
    "PL405",
    "unknown-category-id",
    what="An annotation's `category_id` matches no entry of `categories`.",
    why="Its keypoints have no names and no skeleton: nothing can interpret them.",
    scope="document",
)
def unknown_category_id(split: Split) -> Iterator[Finding]:
    yield from _dangling(split, "category_id", "categories")


def _all_lengths_match(split: Split, counts: dict[Any, int]) -> bool:
    """The common case, from the shared numpy tables: every annotation has a well-formed
    keypoints list of exactly 3 x K values for its (resolving, int) category. False means
    "look closer", never "there is a problem"."""
    t = split.tables
    if not counts or not (t.keypoints_ok.all() and t.category_id_ok.all()):
        return False
    if not all(type(c) is int and -(2**63) <= c < 2**63 for c in counts):
        return False
    ids = np.array(sorted(counts), dtype=np.int64)
    ks = np.array([counts[c] for c in sorted(counts)], dtype=np.int64)
    where = np.minimum(np.searchsorted(ids, t.category_id), len(ids) - 1)
    if not (ids[where] == t.category_id).all():
        return False
    lengths = 3 * np.diff(t.kp_start, append=len(t.kp_ann))  # triplets per annotation
    return bool((lengths == 3 * ks[where]).all())


def _annotations_with_keypoints(
    split: Split, suspect: Callable[[int, int], bool]
) -> Iterator[tuple[int, int, int]]:
    """(index, number of keypoints values, K of its category) for the annotations whose
    keypoints is an array, whose category resolves, and for which suspect(n, K) holds."""
    counts = _keypoint_counts(split.document)
    if _all_lengths_match(split, counts):
        return
    annotations = entries(split.document, "annotations")
    categories = column(annotations, "category_id")
    lengths = _keypoint_lengths(split, annotations)
    try:  # which (category, length) pairs occur, at C speed; usually all of them are fine
        pairs = set(zip(categories, lengths, strict=True))
        if not any(
            c in counts and _is_id(c) and n is not None and suspect(n, counts[c]) for c, n in pairs
        ):
            return
    except TypeError:  # an unhashable id: PL310's
        pass
    for i, (category_id, n) in enumerate(zip(categories, lengths, strict=True)):
        if n is not None and _is_id(category_id) and category_id in counts:
            k = counts[category_id]
            if suspect(n, k):
                yield i, n, k


def _keypoint_lengths(split: Split, annotations: list[Any]) -> list[int | None]:
    """Each annotation's number of keypoints values; None where keypoints is not an array."""
    store = split.keypoint_store
    assert store is not None
    stored = store.stored.tolist()
    lengths: list[int | None] = store.lengths.tolist()
    for j, annotation in enumerate(annotations):
        if not stored[j]:
            value = annotation.get("keypoints") if isinstance(annotation, dict) else None
            lengths[j] = len(value) if isinstance(value, list) else None
    return lengths


@rule(
    "PL406",
    "keypoints-length-mismatch",
    what="An annotation's `keypoints` is not 3 x the number of keypoint names of its category.",
    why="Every later triplet is misread as the wrong joint, or the loader's reshape fails.",
    scope="document",
)
def keypoints_length_mismatch(split: Split) -> Iterator[Finding]:
    for i, n, k in _annotations_with_keypoints(split, lambda n, k: bool(k) and n != 3 * k):
        yield Finding(
            f"keypoints has {n} values, expected {3 * k} (3 x {k} keypoint names of its category)",
            pointer=json_pointer("annotations", i, "keypoints"),
        )


@rule(
    "PL407",
    "keypoints-without-names",
    what="An annotation has keypoints but its category has no keypoint names (a plain label).",
    why="Nothing says which joint each point is; the Datumaro test fixtures do this.",
    scope="document",
)
def keypoints_without_names(split: Split) -> Iterator[Finding]:
    for i, n, _ in _annotations_with_keypoints(split, lambda n, k: not k and n > 0):
        yield Finding(
            f"{n} keypoint values on a category with no keypoint names",
            pointer=json_pointer("annotations", i, "keypoints"),
        )


def _categories(document: dict[str, Any] | None) -> Iterator[tuple[int, dict[str, Any]]]:
    for c, category in enumerate(entries(document, "categories")):
        if isinstance(category, dict):
            yield c, category


@rule(
    "PL408",
    "duplicate-keypoint-name",
    what="A category lists the same keypoint name twice.",
    why="Two joints with one name cannot be told apart when mapping to a model's outputs.",
    scope="document",
)
def duplicate_keypoint_name(split: Split) -> Iterator[Finding]:
    for c, category in _categories(split.document):
        seen: dict[str, int] = {}
        for k, name in enumerate(_keypoint_names(category) or []):
            if isinstance(name, str) and seen.setdefault(name, k) != k:
                yield Finding(
                    f"keypoint name {name!r} repeats keypoint {seen[name] + 1}",
                    pointer=json_pointer("categories", c, "keypoints", k),
                )


def _skeleton_problem(pair: list[Any], k: int, seen: set[tuple[int, int]]) -> str | None:
    a, b = pair
    if a < 1 or b < 1:
        return f"pair {pair} is 0-based; COCO skeleton indices start at 1"
    if a > k or b > k:
        return f"pair {pair} points past the category's {k} keypoint names"
    if a == b:
        return f"pair {pair} joins a keypoint to itself"
    edge = (min(a, b), max(a, b))
    if edge in seen:
        return f"pair {pair} repeats an earlier pair"
    seen.add(edge)
    return None


@rule(
    "PL409",
    "invalid-skeleton",
    what="A skeleton pair is not 1-based, points past the keypoint names, joins a keypoint to "
    "itself, or repeats another pair (in either order).",
    why="Drawing tools and limb-based losses index keypoints with these pairs; a 0-based or "
    "out-of-range pair draws the wrong limb or crashes.",
    scope="document",
)
def invalid_skeleton(split: Split) -> Iterator[Finding]:
    for c, category in _categories(split.document):
        names, skeleton = _keypoint_names(category), category.get("skeleton", [])
        if names is None or not isinstance(skeleton, list):
            continue
        seen: set[tuple[int, int]] = set()
        for p, pair in enumerate(skeleton):
            if not (isinstance(pair, list) and len(pair) == 2 and all(map(_is_id, pair))):
                continue  # PL310: a pair is two integers
            problem = _skeleton_problem(pair, len(names), seen)
            if problem:
                yield Finding(problem, pointer=json_pointer("categories", c, "skeleton", p))


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


@rule(
    "PL411",
    "duplicate-file-name",
    what="Two entries of `images` in one split have the same `file_name`.",
    why="One picture counted twice: its labels are split across two ids, or trained on twice.",
    scope="document",
)
def duplicate_file_name(split: Split) -> Iterator[Finding]:
    images = entries(split.document, "images")
    if _all_distinct(column(images, "file_name")):
        return
    first: dict[str, int] = {}
    for i, img in enumerate(images):
        name = img.get("file_name") if isinstance(img, dict) else None
        if isinstance(name, str) and name and first.setdefault(name, i) != i:
            yield Finding(
                f"file_name {name!r} is already used by {json_pointer('images', first[name])}",
                pointer=json_pointer("images", i, "file_name"),
            )


def _category_set(document: dict[str, Any] | None) -> dict[Any, tuple[int, tuple[Any, ...]]]:
    """id -> (index, (name, keypoint names, skeleton as a set of undirected edges)).

    Only well-formed parts take part (strings, pairs of integers): malformed ones are PL310's,
    and comparing arbitrary JSON could recurse a thousand levels deep.
    """
    out: dict[Any, tuple[int, tuple[Any, ...]]] = {}
    for c, category in _categories(document):
        if not _is_id(category.get("id")):
            continue
        name = category.get("name")
        names = _keypoint_names(category) or []
        skeleton = category.get("skeleton", [])
        edges = frozenset(
            frozenset(pair)
            for pair in (skeleton if isinstance(skeleton, list) else [])
            if isinstance(pair, list) and all(map(_is_id, pair))
        )
        out.setdefault(
            category["id"],
            (
                c,
                (
                    name if isinstance(name, str) else None,
                    tuple(n if isinstance(n, str) else None for n in names),
                    edges,
                ),
            ),
        )
    return out


def _difference(a: tuple[Any, ...], b: tuple[Any, ...]) -> str:
    return " and ".join(
        p for p, x, y in zip(("name", "keypoint names", "skeleton"), a, b, strict=True) if x != y
    )


@rule(
    "PL412",
    "category-set-mismatch",
    what="The splits' annotation files do not have the same categories (ids, names, keypoint "
    "names, skeleton; the order of skeleton pairs does not matter).",
    why="A model trained on one keypoint order and evaluated on another scores garbage "
    "without any error.",
    scope="dataset",
)
def category_set_mismatch(dataset: Dataset) -> Iterator[Finding]:
    loaded = [(s, _category_set(s.document)) for s in dataset.splits if s.document is not None]
    if len(loaded) < 2:
        return
    # Every split is compared with the first one in name order (train before val).
    first_split, first = loaded[0]
    other = f"{first_split.name}'s file"
    for split, categories in loaded[1:]:
        path = split.files.annotation_file
        for cid in sorted(first.keys() - categories.keys(), key=repr):
            name = first[cid][1][0]
            yield Finding(
                f"category id {cid} ({name!r}) of {other} is missing here",
                pointer="/categories",
                path=path,
            )
        for cid, (c, category) in categories.items():
            pointer = json_pointer("categories", c)
            if cid not in first:
                yield Finding(f"category id {cid} is not in {other}", pointer=pointer, path=path)
            elif category != first[cid][1]:
                difference = _difference(category, first[cid][1])
                yield Finding(
                    f"category id {cid} has a different {difference} than in {other}",
                    pointer=pointer,
                    path=path,
                )


@rule(
    "PL414",
    "annotation-id-zero",
    what="An annotation has `id` 0.",
    why="COCOeval records a match as the matched annotation's id and tests it with `> 0`: a "
    "ground truth with id 0 never counts as matched, so its detection becomes a false positive "
    "(a file evaluated against itself scores AP < 1). Number annotations from 1.",
    scope="document",
)
def annotation_id_zero(split: Split) -> Iterator[Finding]:
    ids = column(entries(split.document, "annotations"), "id")
    if 0 not in ids:  # the common case, at C speed (0.0 and False match too: looked at below)
        return
    for i, value in enumerate(ids):
        if _is_id(value) and value == 0:
            yield Finding(
                "annotation id 0: COCOeval cannot mark it matched; give it an unused id > 0",
                pointer=json_pointer("annotations", i, "id"),
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


_SEPARATOR = re.compile(r"[ _\-.]")
_CAMEL = re.compile(r"[a-z][A-Z]")


def _name_style(name: str) -> str | None:
    """How a keypoint name joins its words: ' ', '_', '-', '.' or camelCase; None for one word."""
    found = _SEPARATOR.search(name.strip())
    if found:
        return repr(found.group())
    return "camelCase" if _CAMEL.search(name) else None


@rule(
    "PL418",
    "mixed-keypoint-name-style",
    what="One category's keypoint names join their words in different ways (`left elbow` next "
    "to `left_wrist`).",
    why="Code that maps keypoints by name (flip pairs from `left_`/`right_`, a model's keypoint "
    "list, a converter) misses the odd ones out; usually a label renamed by hand in CVAT.",
    scope="document",
    severity="warning",
)
def mixed_keypoint_name_style(split: Split) -> Iterator[Finding]:
    for c, category in _categories(split.document):
        styles: dict[str, list[int]] = {}
        names = _keypoint_names(category) or []
        for k, name in enumerate(names):
            style = _name_style(name) if isinstance(name, str) else None
            if style:
                styles.setdefault(style, []).append(k)
        if len(styles) < 2:
            continue
        usual = max(styles, key=lambda s: len(styles[s]))
        for style, ks in styles.items():
            if style != usual:
                k = ks[0]
                yield Finding(
                    f"keypoint name {names[k]!r} joins words with {style}, while "
                    f"{len(styles[usual])} others use {usual} (e.g. {names[styles[usual][0]]!r})"
                    + (f"; {len(ks) - 1} more like it" if len(ks) > 1 else ""),
                    pointer=json_pointer("categories", c, "keypoints", k),
                )
