"""Polygon `segmentation` values kept as their JSON text, never as Python numbers.

No rule reads polygons: the schema types them (an array of arrays of numbers) and pycocotools
gets them back as written. At COCO-2017 scale they are millions of numbers: as Python floats
in lists they would be ~200 MB of the document and a good part of its parse. So the loader
leaves each `segmentation` as raw JSON text (msgspec.Raw, validated as JSON by msgspec); one
regular expression over all of them proves they are arrays of arrays of numbers (given valid
JSON, only number characters can sit inside the inner brackets); the document holds the
POLYGONS marker in their place, which schema.validation_schema() accepts exactly where the
schema's `polygons` definition would. Anything else (an RLE object on a crowd annotation, a
malformed value) is decoded into the document as usual.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import TYPE_CHECKING, Any

from poselint.lazy import np
from poselint.load.jsonvalues import as_float, is_number
from poselint.load.keypoints import offsets_from_counts
from poselint.load.numbers import check_exponents, decode_exact, decode_strict

if TYPE_CHECKING:
    from numpy.typing import NDArray

POLYGONS = "\x00poselint:polygons-as-text"

_INNER = rb"\[[-+0-9.eE,\s]*\]"
_ONE = rb"\[\s*(?:" + _INNER + rb"\s*(?:,\s*" + _INNER + rb"\s*)*)?\]"
_POLYGONS = re.compile(_ONE)


class PolygonText:
    """The JSON text of every `segmentation` that is polygons, for the file as written."""

    def __init__(self, rows: NDArray[np.int64], text: bytes, bounds: NDArray[np.int64]) -> None:
        self.rows = rows  # annotation rows, ascending
        self.text = text
        # (len(rows) + 1,): row i's text is text[bounds[i]:bounds[i + 1] - 1], then a "\n"
        self.bounds = bounds

    def exact(self, j: int) -> Any:
        """annotations[j].segmentation as the file has it."""
        i = int(np.searchsorted(self.rows, j))
        assert i < len(self.rows) and self.rows[i] == j, "not held here"
        return decode_exact(self.text[self.bounds[i] : self.bounds[i + 1] - 1])  # minus "\n"


def _all_polygons(text: bytes, starts: NDArray[np.int64]) -> bool:
    """Whether every value in text (valid JSON values, joined with "\n", beginning at
    `starts`) is an array of arrays of numbers: the regular expression's verdict, from the
    bracket positions alone (~4 a value) instead of a pass of the regex engine."""
    u = np.frombuffer(text, dtype=np.uint8)
    if any(c in text for c in (b'"', b"{", b"t", b"f", b"n")):  # strings, objects, literals
        return False
    if len(starts) and not bool((u[starts] == ord("[")).all()):  # a bare number
        return False
    step = 1 << 20  # in 1 MB pieces: a 26 MB boolean temporary would cost its page faults
    brackets = np.concatenate(
        [
            # "[" or "]" (or "Y", "_", which JSON allows only in strings, excluded above)
            np.flatnonzero((u[lo : lo + step] | np.uint8(6)) == ord("_")) + lo
            for lo in range(0, len(u), step)
        ]
        or [np.zeros(0, dtype=np.intp)]
    )
    depth = np.cumsum(np.where(u[brackets] == ord("["), 1, -1))  # after each bracket
    if len(depth) and int(depth.max()) > 2:  # an array inside an inner array
        return False
    # A number at depth 1 sits in a gap between two brackets that starts at depth 1: such a
    # gap may hold only whitespace and one comma (",", "][" or "[[" compact).
    gaps = np.flatnonzero(depth[:-1] == 1)
    lengths = brackets[gaps + 1] - brackets[gaps] - 1
    loose = gaps[(lengths > 1) | ((lengths == 1) & (u[brackets[gaps] + 1] != ord(",")))]
    return all(
        text[brackets[g] + 1 : brackets[g + 1]].strip() in (b"", b",") for g in loose.tolist()
    )


def _joined(raws: list[Any]) -> tuple[bytes, NDArray[np.int64]]:
    """The texts joined with "\n", and where each starts (plus the end, past a last "\n")."""
    lengths = np.fromiter(map(len, raws), dtype=np.int64, count=len(raws)) + 1
    return b"\n".join(raws), offsets_from_counts(lengths)


def store_polygons(annotations: list[dict[str, Any]]) -> PolygonText:
    """Replace each raw `segmentation` in the dicts: POLYGONS for polygons (text kept here),
    the decoded value for anything else."""
    raws: list[Any] = [a.get("segmentation") for a in annotations]
    every = None not in raws  # the common case: skip the bookkeeping of who has one
    rows = list(range(len(raws))) if every else [j for j, r in enumerate(raws) if r is not None]
    kept: list[Any] = raws if every else [raws[j] for j in rows]
    text, bounds = _joined(kept)
    check_exponents(kept, text)  # (a 309-digit decimal in a polygon is not caught: README)
    if not _all_polygons(text, bounds[:-1]):  # some are not: sort them, one by one
        rows = [j for j in rows if _POLYGONS.fullmatch(bytes(raws[j]))]
        text, bounds = _joined([raws[j] for j in rows])
    if len(rows) == len(annotations):  # every one is polygons
        for annotation in annotations:
            annotation["segmentation"] = POLYGONS
    else:
        polygons = set(rows)
        for j, (annotation, raw) in enumerate(zip(annotations, raws, strict=True)):
            if raw is not None:
                annotation["segmentation"] = POLYGONS if j in polygons else decode_strict(raw)
    return PolygonText(np.array(rows, dtype=np.int64), text, bounds)


class PolygonTable:
    """Every polygon of a split as arrays, for the segmentation rule (PL417): polygon i belongs
    to annotation `ann[i]`, has `length[i]` numbers, which are values[start[i]:start[i+1]]."""

    def __init__(self, ann: NDArray[np.int64], length: NDArray[np.int64], values: Any) -> None:
        self.ann = ann
        self.length = length
        self.values: NDArray[np.float64] = values
        self.start = offsets_from_counts(length)


_SEPARATORS = bytes.maketrans(b"[],\n", b"    ")


def _table_from_text(
    text: bytes, bounds: NDArray[np.int64], rows: NDArray[np.int64]
) -> PolygonTable | None:
    """Polygons of texts that are arrays of arrays of numbers (PolygonText), without a Python
    object per number; None when the numbers do not add up (the caller then decodes)."""
    u = np.frombuffer(text, dtype=np.uint8)
    brackets = np.flatnonzero((u | np.uint8(6)) == ord("_"))  # "[" or "]" (no strings here)
    opening = u[brackets] == ord("[")
    depth = np.cumsum(np.where(opening, 1, -1))  # after each bracket
    opens = brackets[opening & (depth == 2)]  # each polygon's "["
    closes = brackets[~opening & (depth == 1)]  # and its "]"
    commas = np.flatnonzero(u == ord(","))
    length = np.searchsorted(commas, closes) - np.searchsorted(commas, opens) + 1
    length[closes - opens == 1] = 0  # "[]"
    for i in np.flatnonzero((length == 1) & (closes - opens > 1)).tolist():  # "[7]", "[ ]"
        if not text[opens[i] + 1 : closes[i]].strip():
            length[i] = 0
    with warnings.catch_warnings():  # text mode (sep=" ") is not the deprecated binary one
        warnings.simplefilter("ignore", DeprecationWarning)
        values = np.fromstring(text.translate(_SEPARATORS), dtype=np.float64, sep=" ")
    if int(length.sum()) != len(values):
        return None
    ann = rows[np.searchsorted(bounds, opens, side="right") - 1]
    return PolygonTable(ann.astype(np.int64), length.astype(np.int64), values)


def polygon_table(annotations: list[Any], text: PolygonText | None) -> PolygonTable:
    """The polygons of the annotations: from the compact parse's text when it kept them, else
    from the decoded lists (an exact parse; or polygons of a shape the schema rejects, which
    are left out)."""
    if text is not None and len(text.rows):
        table = _table_from_text(text.text, text.bounds, text.rows)
        if table is not None:
            return table
    ann: list[int] = []
    length: list[int] = []
    values: list[float] = []
    for j, annotation in enumerate(annotations):
        segmentation = annotation.get("segmentation") if isinstance(annotation, dict) else None
        if segmentation == POLYGONS and text is not None:
            segmentation = text.exact(j)
        if not isinstance(segmentation, list):
            continue
        for polygon in segmentation:
            # as_float: an integer beyond float range (an exact parse keeps it) is NaN, left
            # out like any value that is not a finite number, never an OverflowError
            if isinstance(polygon, list) and all(
                is_number(v) and math.isfinite(as_float(v)) for v in polygon
            ):
                ann.append(j)
                length.append(len(polygon))
                values.extend(polygon)
    return PolygonTable(
        np.array(ann, dtype=np.int64),
        np.array(length, dtype=np.int64),
        np.array(values, dtype=np.float64),
    )
