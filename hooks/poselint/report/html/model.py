"""What an HTML page shows, as plain data the template prints: split summaries, flagged
annotations (figures) and the diagnostics on them; and the JSON pointers they come from."""

from __future__ import annotations

import reprlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poselint.diagnostics import Diagnostic, display_path
from poselint.lazy import np
from poselint.load.dataset import Split

if TYPE_CHECKING:
    from poselint.load.tables import FloatArray

BAR_MAX = 200  # px, histogram bar of the most frequent visibility flag

VISIBILITY_BUCKETS = (
    ("0", "outside (v=0)", "#9e9e9e"),
    ("1", "occluded (v=1)", "#f5a623"),
    ("2", "visible (v=2)", "#2e7d32"),
    ("other", "other number", "#c62828"),
)


@dataclass
class Bar:
    label: str
    colour: str
    count: int
    width: int  # px, the largest bucket is BAR_MAX


@dataclass
class SplitSummary:
    root: str
    name: str
    annotation_file: str
    images: int | None
    annotations: int | None
    labelled_keypoints: int
    keypoint_slots: int
    bars: list[Bar]
    note: str = ""


@dataclass
class ShownDiagnostic:
    code: str
    severity: str
    message: str
    location: str
    keypoint: str = ""  # "k=8 left_elbow" when the pointer names a keypoint

    @classmethod
    def of(cls, d: Diagnostic, cwd: Path, keypoint: str = "") -> ShownDiagnostic:
        """The one way a page shows a diagnostic: its file and pointer run together."""
        return cls(d.code, d.severity, d.message, d.display_path(cwd) + (d.pointer or ""), keypoint)


@dataclass
class OutsidePoint:
    index: int
    name: str
    x: str
    y: str
    stale: bool  # coordinates left non-zero (what PL601 is about)


@dataclass
class Figure:
    annotation_file: str
    index: int
    annotation_id: str
    file_name: str
    category: str
    thumbnails: list[str]  # data: URLs: a close-up when useful, then the overview
    image_note: str
    diagnostics: list[ShownDiagnostic]
    outside: list[OutsidePoint]
    anchor: str


def pointer_tokens(pointer: str | None) -> list[str]:
    """RFC 6901 pointer -> reference tokens ("/a~1b/0" -> ["a/b", "0"])."""
    if not pointer or not pointer.startswith("/"):
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _index(token: str) -> int | None:
    return int(token) if token.isdigit() and token.isascii() else None


def annotation_target(pointer: str | None) -> tuple[int, str | None, int | None] | None:
    """Where a pointer lands: "/annotations/17/keypoints/26" -> (17, "keypoints", 26).

    None when it does not point into an annotation."""
    tokens = pointer_tokens(pointer)
    if len(tokens) < 2 or tokens[0] != "annotations":
        return None
    index = _index(tokens[1])
    if index is None:
        return None
    member = tokens[2] if len(tokens) > 2 else None
    item = _index(tokens[3]) if len(tokens) > 3 else None
    return index, member, item


# Dataset values shown as text: containers a few levels deep at most (an `id` nested 1000
# deep must not recurse 1000 times), and short.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 200, 200


def short_text(value: object, limit: int = 200) -> str:
    text = value if isinstance(value, str) else _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def visibility_counts(flags: FloatArray) -> Counter[str]:
    """How many keypoint flags are 0, 1, 2 or another number (three vector compares)."""
    counts = Counter({str(v): int(np.count_nonzero(flags == v)) for v in (0, 1, 2)})
    counts["other"] = len(flags) - sum(counts.values())
    return counts


def _bars(counts: Counter[str]) -> list[Bar]:
    top = max(counts.values(), default=0)
    return [
        Bar(label, colour, counts[key], round(BAR_MAX * counts[key] / top) if top else 0)
        for key, label, colour in VISIBILITY_BUCKETS
    ]


def summarise(split: Split, cwd: Path) -> SplitSummary:
    root = display_path(split.dataset.root, cwd)
    file = split.files.annotation_file
    annotation_file = display_path(file, cwd) if file else "(none)"
    document = split.document
    if document is None:
        note = "no annotation file" if file is None else "the annotation file did not parse"
        return SplitSummary(
            root, split.name, annotation_file, None, None, 0, 0, _bars(Counter()), note
        )
    images = document.get("images")
    annotations = document.get("annotations")
    # The numpy views the content rules already built: every triplet of every annotation
    # whose keypoints are a list of 3k numbers (the schema rule reports the others).
    counts = visibility_counts(split.tables.kp[:, 2])
    return SplitSummary(
        root=root,
        name=split.name,
        annotation_file=annotation_file,
        images=len(images) if isinstance(images, list) else None,
        annotations=len(annotations) if isinstance(annotations, list) else None,
        labelled_keypoints=counts["1"] + counts["2"],
        keypoint_slots=sum(counts.values()),
        bars=_bars(counts),
    )
