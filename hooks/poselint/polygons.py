"""Polygon `segmentation` values kept as their JSON text, never as Python numbers.

No rule reads polygons: the schema types them (an array of arrays of numbers) and pycocotools
gets them back as written. At COCO-2017 scale they are millions of numbers: as Python floats
in lists they would be ~200 MB of the document and ~0.15 s of its parse. So the loader leaves
each `segmentation` as raw JSON text (msgspec.Raw, validated as JSON by msgspec); one regular
expression over all of them proves they are arrays of arrays of numbers (given valid JSON,
only number characters can sit inside the inner brackets); the document holds the POLYGONS
marker in their place, which schema.validation_schema() accepts exactly where the schema's
`polygons` definition would. Anything else (an RLE object on a crowd annotation, a malformed
value) is decoded into the document as usual.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray

from poselint.keypoints import decode_exact

POLYGONS = "\x00poselint:polygons-as-text"

_INNER = rb"\[[-+0-9.eE,\s]*\]"
_ONE = rb"\[\s*(?:" + _INNER + rb"\s*(?:,\s*" + _INNER + rb"\s*)*)?\]"
_POLYGONS = re.compile(_ONE)
_ALL_POLYGONS = re.compile(rb"(?:" + _ONE + rb"\n)*")  # joined with "\n": one C-level pass


class PolygonText:
    """The JSON text of every `segmentation` that is polygons, for the file as written."""

    def __init__(self, rows: NDArray[np.int64], text: bytes, bounds: NDArray[np.int64]) -> None:
        self.rows = rows  # annotation rows, ascending
        self.text = text
        self.bounds = bounds  # (len(rows) + 1,): row i's text is text[bounds[i]:bounds[i + 1]]

    def exact(self, j: int) -> Any:
        """annotations[j].segmentation as the file has it."""
        i = int(np.searchsorted(self.rows, j))
        assert i < len(self.rows) and self.rows[i] == j, "not held here"
        return decode_exact(self.text[self.bounds[i] : self.bounds[i + 1]])


def store_polygons(annotations: list[dict[str, Any]]) -> PolygonText:
    """Replace each raw `segmentation` in the dicts: POLYGONS for polygons (text kept here),
    the decoded value for anything else."""
    raws: list[msgspec.Raw | None] = [a.get("segmentation") for a in annotations]
    candidates = [j for j, r in enumerate(raws) if r is not None and memoryview(r)[0] == 0x5B]
    texts: list[Any] = [raws[j] for j in candidates]
    if not _ALL_POLYGONS.fullmatch(b"\n".join([*texts, b""])):  # some are not: sort them
        kept = [j for j in candidates if _POLYGONS.fullmatch(bytes(raws[j]))]  # type: ignore[arg-type]
        candidates, texts = kept, [raws[j] for j in kept]
    polygons = set(candidates)
    for j, (annotation, raw) in enumerate(zip(annotations, raws, strict=True)):
        if raw is not None:
            annotation["segmentation"] = POLYGONS if j in polygons else decode_exact(raw)
    bounds = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), out=bounds[1:])
    return PolygonText(np.array(candidates, dtype=np.int64), b"".join(texts), bounds)
