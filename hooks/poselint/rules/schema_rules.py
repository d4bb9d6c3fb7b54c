"""PL310: the document against schemas/coco-keypoints.schema.json; PL311: what the schema
accepts only because loaders do (the letter of the format, a warning)."""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from poselint.diagnostics import json_pointer
from poselint.load.dataset import Split
from poselint.load.schema import iter_errors
from poselint.load.tables import column, entries
from poselint.rules.base import Finding, rule

# A broken exporter can produce one error per number of a 100 MB file (millions). Past this
# many, the entries with errors are counted, not listed: building each error costs time and
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
    "key, a wrong type, `width`/`height` not positive integers, `iscrowd` not 0/1 (or "
    "false/true, PL311), `area` < 0, "
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


@rule(
    "PL311",
    "nonstandard-value",
    what="A value loaders accept but the COCO format does not define: `iscrowd` written "
    "`false`/`true` (COCO Annotator, PoseTrack) instead of 0/1, `info` that is not an object, "
    '`licenses` that is not an array (`"info": ""`).',
    why="pycocotools and COCOeval read these fine (false is 0), so it is a warning: a strict "
    "reader (a typed schema, a Java or Rust loader) rejects them.",
    scope="document",
    severity="warning",
)
def nonstandard_value(split: Split) -> Iterator[Finding]:
    document = split.document
    assert document is not None
    for key, kind in (("info", "an object"), ("licenses", "an array")):
        value = document.get(key)
        if isinstance(value, str):  # any other non-object/array is PL310's
            yield Finding(f"{key} is the string {_shown(value)}, not {kind}", pointer=f"/{key}")
    flags = column(entries(document, "annotations"), "iscrowd")
    if bool not in set(map(type, flags)):  # the common case, decided at C speed
        return
    # one finding per file: a PoseTrack file writes it on every one of thousands of people
    rows = [i for i, flag in enumerate(flags) if type(flag) is bool]
    first = flags[rows[0]]
    yield Finding(
        f"iscrowd is written {'true' if first else 'false'} (not {int(first)}) on {len(rows):,} "
        f"annotation{'s' * (len(rows) != 1)}, the first here",
        pointer=json_pointer("annotations", rows[0], "iscrowd"),
    )


def _shown(text: str) -> str:
    quoted = orjson.dumps(text).decode()
    return quoted if len(quoted) <= 40 else quoted[:36] + '..."'
