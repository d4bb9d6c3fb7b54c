"""numpy views of a COCO document's big arrays, built once per split for the content rules.

Rows keep the document's positions: image row i is `images[i]`, annotation row j is
`annotations[j]`, so a rule turns an array index straight into an exact JSON pointer.
Malformed values never raise here: a non-number (or a bool, which JSON Schema does not count
as a number) becomes NaN or a cleared `*_ok` flag, and an annotation whose `keypoints` is not
a list of 3k numbers contributes no triplets (the schema rule reports it).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from poselint.lazy import np
from poselint.load.document import gc_paused
from poselint.load.jsonvalues import NUMBER_TYPES, as_float, is_int_id
from poselint.load.keypoints import KeypointStore

if TYPE_CHECKING:
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Tables:
    # images[i] -> row i
    image_id: IntArray  # 0 where image_id_ok is False
    image_id_ok: BoolArray  # the id is a JSON integer (not a bool) that fits int64
    width: FloatArray  # NaN where not a number
    height: FloatArray
    # annotations[j] -> row j
    ann_image_id: IntArray
    ann_image_id_ok: BoolArray
    category_id: IntArray
    category_id_ok: BoolArray
    iscrowd: FloatArray
    num_keypoints: FloatArray
    area: FloatArray
    bbox: FloatArray  # (N, 4); a whole row is NaN unless bbox is a list of 4 numbers
    ann_image_row: IntArray  # row of the annotation's image, -1 when it does not resolve
    keypoints_ok: BoolArray  # keypoints is a list of 3k numbers: its triplets are below
    # every triplet of every annotation with keypoints_ok, in document order
    kp: FloatArray  # (M, 3): x, y, v
    kp_ann: NDArray[np.int32]  # annotation row of each triplet
    kp_start: IntArray  # (n_annotations,): the row of each annotation's first triplet

    @property
    def n_images(self) -> int:
        return len(self.width)

    @property
    def n_annotations(self) -> int:
        return len(self.iscrowd)

    def keypoint_index(self, row: int) -> int:
        """k of triplet `row` in its annotation: x is keypoints[3k], v is keypoints[3k+2]."""
        return row - int(self.kp_start[self.kp_ann[row]])

    @cached_property
    def labelled_counts(self) -> IntArray:
        """Per annotation, its keypoints with v > 0 (PL603, the HTML report): counted in blocks,
        without a 4.5 M-row index array at COCO scale."""
        counts = np.zeros(self.n_annotations, dtype=np.int64)
        for lo in range(0, len(self.kp), 1 << 18):
            block = slice(lo, lo + (1 << 18))
            counts += np.bincount(
                self.kp_ann[block][self.kp[block, 2] > 0], minlength=self.n_annotations
            )
        return counts


def entries(document: dict[str, Any] | None, key: str) -> list[Any]:
    """The top-level array, or [] when it is missing or not an array (PL310 says so)."""
    value = document.get(key) if document is not None else None
    return value if isinstance(value, list) else []


def column(rows: list[Any], key: str) -> list[Any]:
    """rows[i][key] for every row, None where the row is not an object or lacks the key."""
    try:
        return list(map(itemgetter(key), rows))  # the fast path: all rows well formed
    except (KeyError, TypeError, IndexError):
        return [row.get(key) if isinstance(row, dict) else None for row in rows]


def _all_numbers(values: Iterable[Any]) -> bool:
    return set(map(type, values)) <= NUMBER_TYPES


def _numbers(values: list[Any], checked: bool = False) -> FloatArray:
    """checked: the schema required these values and typed them numbers (not bools)."""
    if checked or _all_numbers(values):
        try:
            return np.array(values, dtype=np.float64).reshape(len(values))
        except (OverflowError, ValueError, TypeError):
            pass
    return np.fromiter(map(as_float, values), dtype=np.float64, count=len(values))


def _flags(values: list[Any]) -> list[Any]:
    """iscrowd false/true as 0/1: pycocotools reads them so (PL311 warns about them)."""
    if bool not in set(map(type, values)):
        return values
    return [int(v) if type(v) is bool else v for v in values]


def _integers(values: list[Any]) -> tuple[IntArray, BoolArray]:
    if set(map(type, values)) <= {int}:
        try:
            return np.array(values, dtype=np.int64).reshape(len(values)), np.ones(
                len(values), dtype=np.bool_
            )
        except OverflowError:
            pass
    # is_int_id, not is_id: an int64 column holds no 1.0 (the rules look at such an id closer)
    ok = list(map(is_int_id, values))
    ints = np.fromiter(
        (v if good else 0 for v, good in zip(values, ok, strict=True)),
        dtype=np.int64,
        count=len(values),
    )
    return ints, np.array(ok, dtype=np.bool_).reshape(len(values))


def _bboxes(values: list[Any], checked: bool = False) -> FloatArray:
    """checked: the schema required every bbox and made it 4 numbers."""
    n = len(values)
    if checked or (
        all(type(b) is list and len(b) == 4 for b in values)
        and _all_numbers(itertools.chain.from_iterable(values))
    ):
        try:
            flat = np.fromiter(itertools.chain.from_iterable(values), np.float64, count=4 * n)
            return flat.reshape(n, 4)
        except (OverflowError, ValueError, TypeError):
            pass
    out = np.full((n, 4), np.nan)
    for row, b in enumerate(values):
        if type(b) is list and len(b) == 4 and _all_numbers(b):
            out[row] = [as_float(v) for v in b]
    return out


def _rows_of(ids: IntArray, ok: BoolArray, keys: IntArray, keys_ok: BoolArray) -> IntArray:
    """Row of each id among keys (first row when duplicated), -1 when absent: vectorised."""
    rows = np.flatnonzero(keys_ok)
    if len(rows) == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    order = np.argsort(keys[rows], kind="stable")  # stable: a duplicate's first row comes first
    sorted_keys, sorted_rows = keys[rows][order], rows[order]
    pos = np.minimum(np.searchsorted(sorted_keys, ids), len(sorted_keys) - 1)
    found = ok & (sorted_keys[pos] == ids)
    return np.where(found, sorted_rows[pos], -1).astype(np.int64)


def _keypoints(
    store: KeypointStore,
) -> tuple[BoolArray, FloatArray, NDArray[np.int32], IntArray]:
    """The triplets of every annotation whose keypoints are 3k finite numbers: the table, the
    annotation of each triplet, and the row of each annotation's first triplet."""
    lengths = store.lengths
    n = len(lengths)
    values = store.values
    ok = store.stored & (lengths % 3 == 0)
    finite = np.isfinite(values)
    if not finite.all():  # 1e400, or an integer beyond float range: the row is unusable
        bad = np.repeat(np.arange(n), lengths)[~finite]
        ok[bad] = False
    if ok.all():  # the common case: the store's array is the table, no copy
        flat = values
    else:
        lengths = np.where(ok, lengths, 0)
        flat = values[np.repeat(ok, store.lengths)]
    triplets = lengths // 3
    kp_ann = np.repeat(np.arange(n, dtype=np.int32), triplets)
    return ok, flat.reshape(-1, 3), kp_ann, np.cumsum(triplets) - triplets


def build_tables(
    document: dict[str, Any], store: KeypointStore, numbers_checked: bool = False
) -> Tables:
    """Arrays over `images` and `annotations`; never raises on malformed content.

    numbers_checked: the caller knows that the values below are JSON numbers (the document
    passed the schema), so the per-value type scans are skipped."""
    with gc_paused():  # millions of short-lived objects; the cyclic GC only slows this down
        images = entries(document, "images")
        annotations = entries(document, "annotations")
        image_id, image_id_ok = _integers(column(images, "id"))
        ann_image_id, ann_image_id_ok = _integers(column(annotations, "image_id"))
        category_id, category_id_ok = _integers(column(annotations, "category_id"))
        ann_image_row = _rows_of(ann_image_id, ann_image_id_ok, image_id, image_id_ok)
        keypoints_ok, kp, kp_ann, kp_start = _keypoints(store)
        return Tables(
            image_id=image_id,
            image_id_ok=image_id_ok,
            width=_numbers(column(images, "width"), numbers_checked),
            height=_numbers(column(images, "height"), numbers_checked),
            ann_image_id=ann_image_id,
            ann_image_id_ok=ann_image_id_ok,
            category_id=category_id,
            category_id_ok=category_id_ok,
            iscrowd=_numbers(_flags(column(annotations, "iscrowd")), numbers_checked),
            num_keypoints=_numbers(column(annotations, "num_keypoints"), numbers_checked),
            area=_numbers(column(annotations, "area"), numbers_checked),
            bbox=_bboxes(column(annotations, "bbox"), numbers_checked),
            ann_image_row=ann_image_row,
            keypoints_ok=keypoints_ok,
            kp=kp,
            kp_ann=kp_ann,
            kp_start=kp_start,
        )
