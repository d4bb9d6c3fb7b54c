"""Read an annotation file once and parse it fast, recording every problem as a fact.

Rules turn these facts into diagnostics; the loader itself never raises.
"""

from __future__ import annotations

import codecs
import gc
import json
import os
import stat
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypedDict, cast

import msgspec
import orjson

from poselint.diagnostics import json_pointer
from poselint.fsutil import FileIdentity
from poselint.load.keypoints import KeypointStore, store_from_lists, store_from_raw
from poselint.load.numbers import OutOfRange
from poselint.load.polygons import PolygonText, store_polygons
from poselint.load.schema import load_schema

BOM = b"\xef\xbb\xbf"
MAX_DEPTH = 1024  # orjson's own bound; deeper documents are rejected, not recursed into


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    message: str
    line: int
    column: int


@dataclass(slots=True)
class Loaded:
    path: Path
    value: Any = None  # the parsed top-level value, whatever its type
    read_error: str | None = None
    syntax: SyntaxProblem | None = None
    had_bom: bool = False
    size: int = 0
    # (pointer of the object, key) for each key that occurs twice in one object; orjson
    # keeps the last silently, as most parsers do. None: not checked (file over the bound).
    duplicate_keys: list[tuple[str, str]] | None = None
    # Every annotation's keypoints as numbers (see keypoints.py); None when the file did not
    # parse to an object.
    keypoints: KeypointStore | None = None
    # The JSON text of polygon segmentations (see polygons.py); None when the document kept
    # them as written.
    polygons: PolygonText | None = None
    # The document keeps every key and value as written (parsed for a rewrite); otherwise it
    # is compact: only the keys the schema names, keypoints arrays in the store.
    exact: bool = False
    # The file the bytes came from, as it was read: --fix refuses to replace another version.
    identity: FileIdentity | None = None

    @property
    def document(self) -> dict[str, Any] | None:
        """The parsed object, or None when the file did not parse to a JSON object."""
        return self.value if isinstance(self.value, dict) else None

    @property
    def parsed(self) -> bool:
        return self.read_error is None and self.syntax is None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing allocates millions of containers, none of them cyclic: the cyclic GC would
    scan them again and again for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_identified(path: Path, max_bytes: int) -> tuple[bytes, FileIdentity] | str:
    """The file's bytes, or a reason it cannot be read. Never blocks on a FIFO or device."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            return "it is a directory, not a file"
        if not stat.S_ISREG(st.st_mode):
            return "it is not a regular file"
        if st.st_size > max_bytes:
            return (
                f"it is {st.st_size:,} bytes, over the max_annotation_bytes bound of {max_bytes:,}"
            )
        with open(path, "rb") as f:
            # the identity before reading: a write during the read changes the file's later one
            identity = FileIdentity.of(os.fstat(f.fileno()))
            return f.read(), identity  # to the end, whether the file shrank or grew since
    except OSError as exc:
        return exc.strerror or str(exc)


def _describe(exc: orjson.JSONDecodeError, data: bytes | bytearray) -> str:
    token = data[exc.pos : exc.pos + 9]
    if token.startswith((b"NaN", b"Infinity", b"-Infinity")):
        return "NaN/Infinity literal is not valid JSON"
    return str(exc.msg)


def _line_col(data: bytes | bytearray, pos: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, pos) + 1
    return line, pos - (data.rfind(b"\n", 0, pos) + 1) + 1


class _Marked(dict[str, Any]):
    """An object in which some key occurred twice: remembers which, for the pointer walk."""

    duplicates: list[str]


def find_duplicate_keys(data: bytes | bytearray) -> list[tuple[str, str]]:
    """A second, stdlib parse that sees every key/value pair (slow: see duplicate_keys)."""
    any_duplicate = False

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal any_duplicate
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        any_duplicate = True
        marked = _Marked(obj)
        counts = Counter(k for k, _ in pairs)
        marked.duplicates = sorted(k for k, n in counts.items() if n > 1)
        return marked

    with gc_paused(), deep_recursion():
        tree = json.loads(data, object_pairs_hook=hook)
    if not any_duplicate:  # the walk costs as much as the parse: only when needed
        return []
    found: list[tuple[str, str]] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), tree)]
    while stack:
        parts, node = stack.pop()
        if isinstance(node, _Marked):
            found.extend((json_pointer(*parts), key) for key in node.duplicates)
        if isinstance(node, dict):
            stack.extend(((*parts, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*parts, i), v) for i, v in enumerate(node))
    return sorted(found)


@contextmanager
def deep_recursion() -> Iterator[None]:
    """Room for the C recursion of the stdlib parser/encoder and of `==` on a document nested
    MAX_DEPTH deep (orjson's bound, which `check` accepts): each level is one or two calls."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 4 * MAX_DEPTH))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _pairs_and_colons(value: Any) -> int:
    """Key/value pairs in the parsed value plus the ':' in its strings. May count short (a
    list that starts with a number is skipped: COCO's number arrays), never long."""
    count = 0
    stack = [value]
    numbers = (int, float)
    while stack:
        node = stack.pop()
        items: Any
        if type(node) is dict:
            count += len(node) + "".join(node).count(":")
            items = node.values()
        elif type(node) is list:
            items = node
        else:
            continue
        for item in items:
            kind = type(item)
            if kind is str:
                count += item.count(":")
            elif kind is dict or (kind is list and item and type(item[0]) not in numbers):
                stack.append(item)
    return count


def duplicate_keys(data: bytes | bytearray, value: Any = None) -> list[tuple[str, str]]:
    """Every (pointer, key) that occurs twice in one object of the file.

    With `value`, the file's full parse (Dataset(exact=True)), a fast proof comes first: in
    the text, each pair has one ':' outside strings and each ':' inside a string is literal
    unless written \\u003a. Without that escape, the text's ':' equal the parse's pairs plus
    the ':' of its strings exactly when no pair was dropped, i.e. no key repeats. Otherwise
    (or when the walk counted short) the stdlib parse finds them.
    """
    if (
        value is not None
        and b"\\u003" not in data  # (a \\u003a escape would break the count)
        and _pairs_and_colons(value) == data.count(b":")
    ):
        return []
    return find_duplicate_keys(data)


def _wide_encoding(data: bytes | bytearray) -> str | None:
    """UTF-16/32 text (Windows tools write it) is valid JSON in the wrong encoding: name it."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    if len(data) >= 4 and data[0] and not data[1] and not data[2] and not data[3]:
        return "UTF-32"
    if len(data) >= 2 and (bool(data[0]) != bool(data[1])):
        return "UTF-16"
    return None


_DECODER = msgspec.json.Decoder()


@cache
def _compact_decoder() -> msgspec.json.Decoder[Any]:
    """Decodes the document to dicts like the plain decoder, except that each annotation's
    `keypoints` and `segmentation` stay raw JSON text (for keypoints.py and polygons.py), and
    keys the schema does not name are skipped (no rule reads them; a rewrite parses the file
    in full)."""
    schema = load_schema()
    annotation_keys = schema["$defs"]["annotation"]["properties"]
    fields: dict[str, Any] = {key: Any for key in annotation_keys}
    fields["keypoints"] = fields["segmentation"] = msgspec.Raw
    make = cast(Any, TypedDict)
    annotation = make("Annotation", fields, total=False)
    top: dict[str, Any] = {key: Any for key in schema["properties"]}
    top["annotations"] = list[annotation]  # type: ignore[valid-type]
    return msgspec.json.Decoder(make("Document", top, total=False))


def _is_utf8(data: bytes | bytearray) -> bool:
    """Valid UTF-8, checked a megabyte at a time (no copy of the whole file as a str)."""
    if data.isascii():  # nearly every annotation file: one C pass
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), 1 << 20):
            decoder.decode(view[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


Decoded = tuple[Any, "KeypointStore | None", "PolygonText | None"]


def _decode(data: bytes | bytearray, exact: bool) -> Decoded:
    """The parsed value, its keypoint store, and its polygon texts (compact parse only).

    msgspec builds the Python objects straight from the bytes, where orjson first builds a
    tree of its own (~600 MB more at COCO-2017 scale, and slower). When msgspec refuses,
    orjson decides: its error names the position and the reason (JSONDecodeError)."""
    value: Any = None
    try:
        with gc_paused():
            if not exact and _is_utf8(data):  # msgspec skips unnamed keys unchecked
                try:
                    value = _compact_decoder().decode(data)
                    annotations = value.get("annotations", [])
                    # both copy their texts out of the Raw views into `data`: the document
                    # and the stores refer to nothing of the file's bytes once they return
                    polygons = store_polygons(annotations)
                    return value, store_from_raw(annotations), polygons
                except (msgspec.ValidationError, OutOfRange):
                    pass  # not an object, annotations not objects, a number out of range
            value = _DECODER.decode(data)
    except (ValueError, RecursionError):  # DecodeError, invalid UTF-8, too deep
        with gc_paused():
            value = orjson.loads(data)
    if not isinstance(value, dict):
        return value, None, None
    annotations = value.get("annotations")
    return value, store_from_lists(annotations if isinstance(annotations, list) else []), None


def parse_bytes(
    path: Path, data: bytes | bytearray, duplicate_key_check_bytes: int = 0, exact: bool = False
) -> Loaded:
    loaded = Loaded(path, size=len(data), exact=exact)
    if data.startswith(BOM):
        loaded.had_bom = True
        data = data[len(BOM) :]  # go on checking the content; PL302 reports the BOM
    if not data or data.isspace():  # (strip() would copy the whole file)
        loaded.syntax = SyntaxProblem("empty file", 1, 1)
        return loaded
    encoding = _wide_encoding(data)
    if encoding:
        loaded.syntax = SyntaxProblem(f"file is {encoding} encoded; JSON must be UTF-8", 1, 1)
        return loaded
    try:
        loaded.value, loaded.keypoints, loaded.polygons = _decode(data, exact)
        # A rewrite (exact) must know at any size: it would drop the first of two values.
        if exact or len(data) <= duplicate_key_check_bytes:
            with gc_paused():
                try:
                    loaded.duplicate_keys = duplicate_keys(data, loaded.value if exact else None)
                except RecursionError:  # deeper than the stdlib parser goes: unchecked
                    loaded.duplicate_keys = None
    except orjson.JSONDecodeError as exc:
        line, column = _line_col(data, exc.pos)
        message = _describe(exc, data)
        if "depth" in str(exc) or "recursion" in str(exc).lower():
            message = f"nesting deeper than {MAX_DEPTH} levels"
        loaded.syntax = SyntaxProblem(message, line, column)
    return loaded


def load_annotation_file(
    path: Path, max_bytes: int, duplicate_key_check_bytes: int = 0, exact: bool = False
) -> Loaded:
    read = read_identified(path, max_bytes)
    if isinstance(read, str):
        return Loaded(path, read_error=read, exact=exact)
    loaded = parse_bytes(path, read[0], duplicate_key_check_bytes, exact)
    loaded.identity = read[1]
    return loaded
