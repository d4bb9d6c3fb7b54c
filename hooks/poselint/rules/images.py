"""PL5xx: every `images[].file_name` names a real, readable image of the stated size.

Names are compared with the split's ImageIndex (one listing of images/<split>/), never with
os.path.exists, so a case-insensitive macOS disk and Linux CI give the same answer. Only
files the index found inside the dataset root are ever opened.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

from poselint.diagnostics import displayable, json_pointer
from poselint.load.dataset import Split
from poselint.load.filenames import Reference
from poselint.load.imageindex import ImageIndex
from poselint.load.jsonvalues import is_number
from poselint.rules.base import Finding, FindingBatch, rule


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def _did_you_mean(name: str, index: ImageIndex, folded: dict[str, list[str]]) -> str:
    candidates = [c for c in folded.get(_fold(name), []) if index.files[c].kind == "file"]
    if not candidates:
        return ""
    match = candidates[0]
    if unicodedata.normalize("NFC", match) == unicodedata.normalize("NFC", name):
        form = "NFD" if unicodedata.is_normalized("NFD", match) else "another form"
        return (
            f"; on disk the name is spelt with the same letters in Unicode {form} "
            "(as macOS writes it): write both in NFC"
        )
    return f"; did you mean '{displayable(match)}'? (names are case-sensitive on Linux)"


def _note(key: str, index: ImageIndex) -> str:
    """The walk's reason for not listing a folder or link on the way to key, if any."""
    parts = key.split("/")
    for depth in range(len(parts), 0, -1):
        note = index.notes.get("/".join(parts[:depth]))
        if note:
            return f"; images/<split>/{displayable('/'.join(parts[:depth]))}: {note}"
    return ""


@rule(
    "PL501",
    "image-missing",
    what="An `images[].file_name` is not a regular file under `images/<split>/` with exactly "
    "that case (a dangling symlink counts as missing).",
    why="The data loader crashes or silently skips the frame; a case mismatch passes on a "
    "macOS laptop and fails on Linux CI.",
    scope="document",
)
def image_missing(split: Split) -> Iterator[FindingBatch]:
    index = split.images
    if index is None:  # no images/<split>/ at all: PL106 says so once
        return
    safe = split.file_names.safe
    # set operations in C first: nearly always nothing is missing
    wanted = {r.key for r in safe}
    absent = (wanted - index.files.keys()) | (wanted & index.not_files)
    missing = [r for r in safe if r.key in absent] if absent else []
    if missing:  # formatted lazily: a wrong folder can miss all 118k images at once
        yield FindingBatch(len(missing), _missing_findings(missing, index))


def _missing_findings(missing: list[Reference], index: ImageIndex) -> Iterator[Finding]:
    folded: dict[str, list[str]] | None = None
    folders: set[str] = set()
    for ref in missing:
        info = index.files.get(ref.key)
        if info is None:
            if folded is None:  # built once, only when some name is missing
                folded = {}
                for existing in index.files:
                    folded.setdefault(_fold(existing), []).append(existing)
                    parts = existing.split("/")
                    folders.update("/".join(parts[:n]) for n in range(1, len(parts)))
            if ref.key in folders:
                problem = "a folder, not an image file"
            else:
                problem = "not found" + _did_you_mean(ref.key, index, folded)
            problem += _note(ref.key, index)
        elif info.kind == "dangling":
            problem = "a dangling symlink (its target is missing)" + _note(ref.key, index)
        else:
            problem = "not a regular file" + (_note(ref.key, index) or " (FIFO, device or socket)")
        yield Finding(
            f"image '{ref.name}' is {problem}",
            pointer=json_pointer("images", ref.row, "file_name"),
        )


@rule(
    "PL502",
    "unsafe-file-name",
    what="An `images[].file_name` that is empty, absolute, holds a backslash or a control "
    "character, uses `..`, or ends with `/`.",
    why="Such a name breaks on another OS or reads outside the dataset; poselint never follows it.",
    scope="document",
)
def unsafe_file_name(split: Split) -> Iterator[Finding]:
    for row, name, reason in split.file_names.unsafe:
        yield Finding(
            f"file_name {name!r} {reason}", pointer=json_pointer("images", row, "file_name")
        )


@rule(
    "PL503",
    "image-unreadable",
    what="A referenced image cannot be read as an image: zero bytes, not an image, or truncated "
    "(a JPEG without its final FF D9 end marker, a PNG without its IEND chunk; only the first "
    "and last bytes are read). Off with `--no-image-size`.",
    why="Training crashes mid-epoch, or a half-copied frame trains on grey pixels.",
    scope="document",
)
def image_unreadable(split: Split) -> Iterator[Finding]:
    headers = split.image_headers
    if not headers:
        return
    for ref in split.file_names.safe:
        header = headers.get(ref.key)
        if header is not None and header.problem:
            yield Finding(
                f"image '{ref.name}': {header.problem}",
                pointer=json_pointer("images", ref.row, "file_name"),
            )


def _number(value: Any) -> float | None:
    return float(value) if is_number(value) else None


@rule(
    "PL504",
    "image-size-mismatch",
    what="A referenced image's header size differs from its `width`/`height` (a JPEG rotated by "
    "EXIF may match either its stored or its displayed size). Off with `--no-image-size`.",
    why="Keypoints and boxes are in the stated pixel frame; a resized or swapped image puts "
    "every label in the wrong place.",
    scope="document",
)
def image_size_mismatch(split: Split) -> Iterator[Finding]:
    headers = split.image_headers
    if not headers:
        return
    images: list[Any] = (split.document or {}).get("images") or []
    for ref in split.file_names.safe:
        header = headers.get(ref.key)
        if header is None or header.size is None:
            continue
        image = images[ref.row]
        width, height = _number(image.get("width")), _number(image.get("height"))
        if width is None or height is None:
            continue  # the schema rule reports a missing or non-numeric size
        # An EXIF-rotated JPEG may be labelled in its displayed (rotated) frame, as CVAT and
        # OpenCV show it, or in its stored one, as PIL.Image.open gives it: both are fine.
        if (width, height) in (header.size, header.displayed_size):
            continue
        field = "width" if width != header.size[0] else "height"
        rotated = (
            f" (EXIF orientation {header.orientation}: displayed as "
            f"{header.size[1]}x{header.size[0]})"
            if header.orientation >= 5
            else ""
        )
        yield Finding(
            f"image '{ref.name}' is {header.size[0]}x{header.size[1]}{rotated} but "
            f"images[{ref.row}] says {width:g}x{height:g}",
            pointer=json_pointer("images", ref.row, field),
        )


@rule(
    "PL505",
    "orphan-image",
    what="A file under `images/<split>/` that no `images[].file_name` of that split names.",
    why="Unreferenced frames are dead weight in every DVC pull, or a sign that a file was "
    "renamed on disk but not in the annotations.",
    scope="document",
    severity="warning",
)
def orphan_image(split: Split) -> Iterator[FindingBatch]:
    index = split.images
    if index is None or not isinstance((split.document or {}).get("images"), list):
        return  # without an images array every file would look orphaned: PL310 says why
    referenced = {r.key for r in split.file_names.safe}
    annotation_file = split.files.annotation_file
    source = annotation_file.name if annotation_file else "the annotation file"
    orphans = sorted(index.files.keys() - referenced)
    message = f"no images[].file_name in {source} names this file"
    if orphans:
        yield FindingBatch(len(orphans), (_orphan(index, key, message) for key in orphans))


def _orphan(index: ImageIndex, key: str, message: str) -> Finding:
    if displayable(key) != key:  # every report shows its bytes escaped: \xff
        message += " (and its name is not valid UTF-8)"
    return Finding(message, path=index.folder / key)
