"""PL310: the document against schemas/coco-keypoints.schema.json."""

from __future__ import annotations

from collections.abc import Iterator

from poselint.dataset import Split
from poselint.rules.base import Finding, rule
from poselint.schema import iter_errors

# A broken exporter can produce one error per number of a 100 MB file (millions). Past this
# many, the entries with errors are counted, not listed: building each error costs ~40 us and
# a few hundred bytes, and the text report prints 20 per rule anyway.
MAX_SCHEMA_FINDINGS = 10_000

_HINTS = {
    "/segmentation": "expected polygons [[x1, y1, x2, y2, ...], ...] or an RLE object "
    '{"counts": ..., "size": [height, width]}',
    "/counts": "expected an RLE string or an array of non-negative run lengths",
}


@rule(
    "PL310",
    "schema-violation",
    what="The annotation file does not match `schemas/coco-keypoints.schema.json`: a missing "
    "key, a wrong type, `width`/`height` not positive integers, `iscrowd` not 0/1, `area` < 0, "
    "`bbox` not 4 numbers with w, h >= 0, an empty `file_name`. This rule owns those checks; "
    "the PL4xx rules skip such entries.",
    why="pycocotools and training code index these keys blindly: a missing or mistyped value "
    "is a crash, or a silently wrong loss, far from its cause.",
    scope="document",
)
def schema_violation(split: Split) -> Iterator[Finding]:
    if split.schema_valid:  # the one compiled call, shared with Split.tables
        return
    known_invalid = split.schema_valid is False
    for error in iter_errors(split.document, MAX_SCHEMA_FINDINGS, known_invalid=known_invalid):
        message = error.message
        hint = next((h for suffix, h in _HINTS.items() if error.pointer.endswith(suffix)), None)
        if error.keyword == "anyOf" and hint:
            message = f"{message}: {hint}"
        yield Finding(message, pointer=error.pointer)
