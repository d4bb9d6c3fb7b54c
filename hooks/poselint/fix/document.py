"""Fixes inside an annotation file, and writing it back with nothing else changed.

The edits work on the parsed document directly (not on any rule's tables), so they agree
with the rules by construction: v == 0 -> x = y = 0; num_keypoints = count of v > 0.

Writing back keeps key order, unknown fields and attributes (orjson keeps dict order and
round-trips int/float: 100.0 stays 100.0, 3 stays 3). A zeroed coordinate keeps its type:
int 0 where it was an int, 0.0 where it was a float. The file's layout is detected and kept:
compact or indented (with its indent width and line ending), `, `/`: ` separators, ASCII
escapes, final newline. Numbers are written in shortest round-trip form, so `1.50` becomes
`1.5`; the values do not change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from poselint.diagnostics import Diagnostic
from poselint.fix.plan import Change, FixContext
from poselint.load.dataset import Split
from poselint.load.document import BOM

HEAD = 65536  # bytes read to detect the layout of a file


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _keypoint_lists(doc: dict[str, Any]) -> list[tuple[dict[str, Any], list[Any]]]:
    annotations = doc.get("annotations")
    if not isinstance(annotations, list):
        return []
    out = []
    for ann in annotations:
        if isinstance(ann, dict):
            kps = ann.get("keypoints")
            if isinstance(kps, list) and len(kps) % 3 == 0:
                out.append((ann, kps))
    return out


def zero_outside_points(doc: dict[str, Any]) -> int:
    """Set x = y = 0 where v == 0 and the point still has coordinates; return how many."""
    fixed = 0
    for _, kps in _keypoint_lists(doc):
        for i in range(0, len(kps), 3):
            x, y, v = kps[i], kps[i + 1], kps[i + 2]
            if not (_is_number(v) and v == 0 and _is_number(x) and _is_number(y)):
                continue  # malformed triplets are the schema rule's business
            if x != 0 or y != 0:
                kps[i] = 0 if isinstance(x, int) else 0.0
                kps[i + 1] = 0 if isinstance(y, int) else 0.0
                fixed += 1
    return fixed


def recount_num_keypoints(doc: dict[str, Any]) -> int:
    """Set num_keypoints to the count of v > 0 where it differs; return how many annotations.

    An annotation without num_keypoints, or with a non-number flag, is left alone: adding keys
    or guessing is not a safe fix.
    """
    fixed = 0
    for ann, kps in _keypoint_lists(doc):
        flags = kps[2::3]
        current = ann.get("num_keypoints")
        if not _is_number(current) or not all(_is_number(v) for v in flags):
            continue
        count = sum(1 for v in flags if v > 0)
        if current != count:
            ann["num_keypoints"] = count
            fixed += 1
    return fixed


def strip_split_prefix(doc: dict[str, Any], folder: str) -> int:
    """Drop a leading `<folder>/` from images[].file_name; return how many were rewritten.

    file_name is relative to images/<split>/, so `Train/x.jpg` under images/Train/ names the
    split folder twice; after the rename it is `x.jpg` under images/train/.
    """
    images = doc.get("images")
    if not isinstance(images, list):
        return 0
    prefix = folder + "/"
    fixed = 0
    for img in images:
        if isinstance(img, dict):
            name = img.get("file_name")
            if isinstance(name, str) and name.startswith(prefix) and len(name) > len(prefix):
                img["file_name"] = name[len(prefix) :]
                fixed += 1
    return fixed


@dataclass(frozen=True)
class Style:
    indent: str | None  # None: everything on one line
    newline: str
    item_sep: str
    key_sep: str
    ascii_escapes: bool  # the file is pure ASCII and uses \\u escapes (json.dumps' default)
    final_newline: bool


def _after_first_key(body: bytes) -> bytes:
    """The bytes right after the first object key's closing quote."""
    start = body.find(b'"')
    i = start + 1
    while 0 < i < len(body):
        if body[i] == 0x5C:  # backslash: skip the escaped character
            i += 2
            continue
        if body[i] == 0x22:
            return body[i + 1 : i + 3]
        i += 1
    return b""


def detect_style(data: bytes) -> Style:
    body = data[len(BOM) :] if data.startswith(BOM) else data
    head = body[:HEAD]
    stripped = head.lstrip()
    after_brace = stripped[1:].lstrip(b" \t")
    multiline = after_brace.startswith((b"\n", b"\r"))
    newline = "\r\n" if b"\r\n" in head else "\n"
    key_sep = ": " if _after_first_key(stripped).startswith(b": ") else ":"
    indent: str | None = None
    if multiline:
        line = after_brace.lstrip(b"\r\n")
        indent = line[: len(line) - len(line.lstrip(b" \t"))].decode("ascii") or "  "
        item_sep = ","
    else:
        item_sep = ", " if key_sep == ": " else ","
    tail = body[-2:]
    return Style(
        indent=indent,
        newline=newline,
        item_sep=item_sep,
        key_sep=key_sep,
        ascii_escapes=body.isascii() and b"\\u" in body,
        final_newline=tail.endswith(b"\n"),
    )


# An integer literal of 19+ digits may be beyond 64 bits (-2**63 .. 2**64-1): orjson cannot
# write it back and reads it as a float, so a rewrite would change or drop it.
_LONG_INT = re.compile(rb"(?<![\w.+-])-?\d{19,}(?![\w.])")
_INT_RANGE = range(-(2**63), 2**64)


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _beyond_64_bits(literal: bytes) -> bool:
    digits = literal.lstrip(b"-")
    return len(digits) > 20 or int(literal) not in _INT_RANGE  # (int() of <= 21 characters)


def unsafe_to_rewrite(data: bytes) -> str | None:
    # The regex takes seconds on a COCO-size file; a translate + find, an order of magnitude
    # cheaper, rules out most files first.
    if b"0" * 19 in data.translate(_DIGITS_AS_ZERO) and any(
        _beyond_64_bits(m.group()) for m in _LONG_INT.finditer(data)
    ):
        return "it holds an integer beyond 64 bits, which a rewrite would turn into a float"
    return None


def serialize_like(doc: dict[str, Any], style: Style) -> bytes:
    """The document as bytes laid out like the original file."""
    out = None
    try:  # orjson writes these two layouts fast, but nests at most 255 deep
        if not style.ascii_escapes and style.key_sep == ":" and style.indent is None:
            out = orjson.dumps(doc)
        elif not style.ascii_escapes and style.indent == "  " and style.key_sep == ": ":
            out = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    except orjson.JSONEncodeError:
        pass  # the stdlib writes the same layout; the read-back check judges what it wrote
    if out is None:  # (deeper than the default recursion limit: run it in deep_recursion)
        out = json.dumps(
            doc,
            indent=style.indent,
            separators=(style.item_sep, style.key_sep),
            ensure_ascii=style.ascii_escapes,
            allow_nan=False,
        ).encode("utf-8")
    if style.indent is not None and style.newline != "\n":
        out = out.replace(b"\n", style.newline.encode())  # JSON strings hold no raw newline
    if style.final_newline:
        out += style.newline.encode()
    return out


# --- fixers: plan the edits for the files that the diagnostics name ---------------------


def _splits_named(ctx: FixContext, diagnostics: list[Diagnostic]) -> list[Split]:
    """The splits whose annotation file a diagnostic names."""
    splits = [s for s in ctx.dataset.splits if s.files.annotation_file is not None]
    named = {d.path for d in diagnostics}
    return [s for s in splits if s.files.annotation_file in named]


def fix_bom(ctx: FixContext, diagnostics: list[Diagnostic]) -> None:
    for split in _splits_named(ctx, diagnostics):
        if split.loaded is None or not split.loaded.had_bom or split.files.annotation_file is None:
            continue
        rewrite = ctx.plan.rewrite(split.files.annotation_file)
        rewrite.strip_bom = True
        rewrite.changes.append(Change("remove", "the UTF-8 BOM from {0}", (rewrite.path,)))


def _edit_documents(
    ctx: FixContext,
    diagnostics: list[Diagnostic],
    edit: Callable[[dict[str, Any]], int],
    describe: Callable[[int], str],
) -> None:
    """Apply `edit` to the document of each split the diagnostics name; record one change
    (describe(n) + " in {0}") per document it changed."""
    for split in _splits_named(ctx, diagnostics):
        rewrite = ctx.rewrite_of(split)
        if rewrite is None or rewrite.document is None:
            continue
        n = edit(rewrite.document)
        if n:
            rewrite.document_changed = True
            rewrite.changes.append(Change("fix", describe(n) + " in {0}", (rewrite.path,)))


def fix_outside_points(ctx: FixContext, diagnostics: list[Diagnostic]) -> None:
    if not ctx.dataset.config.zero_outside_keypoints:
        return  # the team keeps outside coordinates for CVAT round trips
    _edit_documents(
        ctx,
        diagnostics,
        zero_outside_points,
        lambda n: f"{n} outside {'point' if n == 1 else 'points'}",
    )


def fix_num_keypoints(ctx: FixContext, diagnostics: list[Diagnostic]) -> None:
    _edit_documents(
        ctx,
        diagnostics,
        recount_num_keypoints,
        lambda n: f"num_keypoints of {n} {'annotation' if n == 1 else 'annotations'}",
    )
