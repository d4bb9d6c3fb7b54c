"""PL4xx ids and file names: each entry's `id` is unique, every reference resolves, no
annotation has id 0, no two images share a `file_name`.

PL310 (the schema) owns types and required keys; these rules skip an entry whose shape is
wrong instead of reporting it twice. Ids are compared with is_id (jsonvalues.py): JSON Schema
counts 1.0 as an integer, so an id written 1.0 takes part (and equals 1). A C-speed set pass or
the numpy tables (which hold only int64 ids, is_int_id) decide the common case, nothing to
report; an id such as 1.0 sends the rule on to its per-entry loop, which builds the findings
(benchmarks/bench_integrity.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from poselint.diagnostics import json_pointer
from poselint.lazy import np
from poselint.load.dataset import Split
from poselint.load.jsonvalues import is_id, is_int_id
from poselint.load.tables import column, entries
from poselint.rules.base import Finding, rule


def _all_distinct(values: list[Any]) -> bool:
    """True when no value repeats; False also when one is unhashable (the slow path decides)."""
    try:
        return len(set(values)) == len(values)
    except TypeError:
        return False


def _ids(document: dict[str, Any] | None, key: str) -> set[Any]:
    return {e["id"] for e in entries(document, key) if isinstance(e, dict) and is_id(e.get("id"))}


def _duplicate_ids(split: Split, key: str) -> Iterator[Finding]:
    rows = entries(split.document, key)
    if _all_distinct(column(rows, "id")):
        return  # the common case, decided at C speed
    first: dict[Any, int] = {}
    for i, entry in enumerate(rows):
        if not isinstance(entry, dict) or not is_id(entry.get("id")):
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
    targets = [i for i in known if is_int_id(i)]  # the ids an int64 table can hold
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
        if is_id(value) and value not in known:
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
        if is_id(value) and value == 0:
            yield Finding(
                "annotation id 0: COCOeval cannot mark it matched; give it an unused id > 0",
                pointer=json_pointer("annotations", i, "id"),
            )
