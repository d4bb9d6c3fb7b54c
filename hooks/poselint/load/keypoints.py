"""Every annotation's `keypoints` as float64 numbers in one array, not as Python objects.

At COCO-2017 scale `keypoints` holds 13.4 M numbers: as Python ints and floats in lists they
cost ~350 MB and ~0.5 s to convert for numpy. The loader instead hands this module each
annotation's keypoints as raw JSON text (msgspec.Raw, already validated as JSON by msgspec)
and parses the numbers straight into numpy:

- a byte-class scan proves the text holds only arrays of numbers (no strings, objects,
  literals or nested arrays; given valid JSON, `"`, `{`, `t`, `f`, `n` and a second `[` are
  the only ways a non-number element can appear);
- numbers of up to 8 characters after the sign (COCO's pixels, CVAT's 2-decimal floats) are
  parsed 8 bytes at a time with SWAR arithmetic over uint64 arrays; the float is the
  mantissa divided by a power of ten, one correctly rounded IEEE operation (Clinger's fast
  path), so it equals what float(text) gives;
- the others (exponents, longer numbers such as float32 values written in full) are gathered
  per chunk into one JSON array and decoded by msgspec in one call.

In the document, a stored annotation's `keypoints` is replaced by the STORED marker; the
values are in `values`, and `exact(j)` gives them back as written (ints stay ints) for the
few consumers that need that: the HTML report, pycocotools. tests/test_keypoints.py checks
the parse against msgspec on random, CVAT- and COCO-shaped input.
"""

from __future__ import annotations

import itertools
import json
import math
from functools import cached_property
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray

# Stands in the document for keypoints held here. A string, so that the schema validators
# (which accept it through schema.py's variant) and any stray consumer see a plain JSON value.
STORED = "\x00poselint:keypoints-in-store"

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

NUMBER_TYPES = frozenset({int, float})  # exact types: bool is an int subclass, not a number
_CHUNK_BYTES = 1 << 18  # text per numpy pass: its temporaries stay in the CPU cache
_MAX_FAST_CHARS = 8  # digits (and one '.') per number that one uint64 word holds

# SWAR constants (simdjson's parse_eight_digits): a uint64 of 8 ASCII digits, the first digit
# in the lowest byte, becomes their value in three multiply-and-shift steps.
_LOW_NIBBLES = np.uint64(0x0F0F0F0F0F0F0F0F)
_BYTE_MASK = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)
# multiplying by 2**(8*(8-n)) moves n digits to the top bytes (n = 0: 2**64 wraps to 0)
_RIGHT_ALIGN = np.array([(1 << (8 * (8 - n))) % (1 << 64) for n in range(9)], dtype=np.uint64)
_POW10 = 10.0 ** np.arange(9)
_U8, _U16, _U32 = np.uint64(8), np.uint64(16), np.uint64(32)
_PAD = b"\0" * 8  # after the text: a uint64 word can be read at every byte of it


class KeypointStore:
    """values[offsets[j]:offsets[j+1]] are annotation j's keypoints when stored[j].

    From raw text the numbers are parsed on first use (PL303 or Split.tables), once the loader
    is done with the file's bytes: they are written into that buffer's pages when it is ours
    (`spare`), then the text is let go unless exact() needs it.
    """

    def __init__(
        self,
        stored: BoolArray,
        *,
        text: bytes = b"",
        text_offsets: IntArray | None = None,
        values: FloatArray | None = None,
        counts: IntArray | None = None,
        spare: bytearray | None = None,
    ) -> None:
        self.stored = stored  # (n,): keypoints is an array of JSON numbers and lives here
        # The JSON text of the stored arrays (+ _PAD), until parsed; empty when the document
        # kept its lists (then values and counts are given).
        self.text = text
        self.text_offsets = text_offsets  # (n + 1,): annotation j's span in text
        self._values = values
        self._counts = counts
        self._spare = spare  # memory the parse may write its arrays into
        # For exact(), once parsed: which values were JSON integers (bit-packed), and the text
        # of the few arrays whose values float64 cannot give back (integers beyond 2**53).
        self._is_int: NDArray[np.uint8] | None = None
        self._texts: dict[int, bytes] | _TextSpans = {}
        self._out_of_range: list[int] = []

    def _parse(self) -> None:
        assert self.text_offsets is not None
        rows = np.flatnonzero(self.stored)
        stored_bounds = np.append(self.text_offsets[:-1][rows], self.text_offsets[-1])
        values, stored_counts, is_int, keep, overflow = _parse_number_arrays(
            self.text, stored_bounds, self._spare
        )
        self._out_of_range = [int(rows[i]) for i in overflow]
        self._spare = None  # the arrays hold it now, if they fit in it
        counts = np.zeros(len(self.stored), dtype=np.int64)
        counts[rows] = stored_counts
        self._values, self._counts = values, counts
        self._is_int = np.packbits(is_int)
        if len(keep) > max(len(rows) // 8, 1024):  # many: the whole text, not 262k pieces
            self._texts = _TextSpans(self.text, self.text_offsets, rows[keep])
        else:
            self._texts = {
                int(rows[i]): self.text[stored_bounds[i] : stored_bounds[i + 1]] for i in keep
            }
            self.text = b""  # 37 MB at COCO scale, no longer needed

    @property
    def values(self) -> FloatArray:
        if self._values is None:
            self._parse()
        assert self._values is not None
        return self._values

    @cached_property
    def offsets(self) -> IntArray:
        """(n + 1,): annotation j's values are values[offsets[j]:offsets[j + 1]]."""
        if self._counts is None:
            self._parse()
        assert self._counts is not None
        return offsets_from_counts(self._counts)

    @property
    def out_of_range(self) -> list[int]:
        """Rows whose keypoints hold a number beyond float64 without an exponent (a decimal of
        309 digits): the strict parser would have refused the file (PL303 reports them)."""
        if self._counts is None:
            self._parse()
        return self._out_of_range

    @property
    def lengths(self) -> IntArray:
        return np.diff(self.offsets)

    def exact(self, j: int) -> list[Any]:
        """Annotation j's keypoints as JSON has them: ints stay ints, floats are the same
        doubles (the parse is correctly rounded)."""
        assert self.text_offsets is not None, "the document holds this annotation's list"
        start, end = int(self.offsets[j]), int(self.offsets[j + 1])
        if j in self._texts:
            value: list[Any] = decode_exact(self._texts[j])
            return value
        assert self._is_int is not None
        first = start // 8
        bits = np.unpackbits(self._is_int[first : (end + 7) // 8])[start - 8 * first :]
        return [
            int(v) if is_int else v
            for v, is_int in zip(self.values[start:end].tolist(), bits.tolist(), strict=False)
        ]


class _TextSpans:
    """The text of many annotations' arrays, looked up like the dict of a few."""

    def __init__(self, text: bytes, offsets: IntArray, rows: IntArray) -> None:
        self.text, self.offsets, self.rows = text, offsets, set(rows.tolist())

    def __contains__(self, j: object) -> bool:
        return j in self.rows

    def __getitem__(self, j: int) -> bytes:
        return self.text[self.offsets[j] : self.offsets[j + 1]]


def keypoints_of(annotation: Any, j: int, store: KeypointStore | None) -> Any:
    """The `keypoints` value of annotation j as the file has it; None when it has none."""
    if not isinstance(annotation, dict):
        return None
    value = annotation.get("keypoints")
    if value is STORED:  # the marker object itself, never an equal string from a file
        assert store is not None
        return store.exact(j)
    return value


def as_float(value: Any) -> float:
    """A JSON number as a float; NaN for anything else (a bool is no number to JSON Schema)."""
    if type(value) not in NUMBER_TYPES:
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an integer beyond float range is no usable coordinate
        return math.nan


class OutOfRange(ValueError):
    """A number beyond the float64 range in text the compact parse kept raw: the loader then
    parses the file strictly, which reports it (PL303) as it does anywhere else."""


def decode_strict(raw: bytes | msgspec.Raw) -> Any:
    """A JSON value (already validated by msgspec) as the document decoder decodes it."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.ValidationError as exc:  # "Number out of range"
        raise OutOfRange(str(exc)) from exc


def decode_exact(raw: bytes | msgspec.Raw) -> Any:
    """decode_strict, except that a number beyond float64 becomes inf, as in Python's json."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.ValidationError:
        return json.loads(bytes(raw))


def check_exponents(raws: list[Any], text: bytes) -> None:
    """Raise OutOfRange if a number with an exponent (1e400) in these raw texts overflows.
    Exponents are rare, so only the texts holding an e or E are decoded. (The other way to
    overflow, a decimal of 309 digits, is found by the parse: KeypointStore.out_of_range.)"""
    if b"e" in text or b"E" in text:
        for raw in raws:
            data = bytes(raw)
            if b"e" in data or b"E" in data:
                decode_strict(data)


def _is_number_array(raw: bytes) -> bool:
    """Given valid JSON: an array whose elements are all numbers."""
    return (
        raw[:1] == b"["
        and raw.count(b"[") == 1
        and not any(c in raw for c in (b'"', b"{", b"t", b"f", b"n"))
    )


def _eight_digits(words: NDArray[np.uint64], n: NDArray[np.int64]) -> NDArray[np.uint64]:
    """The value of the first n (0..8) ASCII digits of each word."""
    w = (words & _BYTE_MASK[n]) * _RIGHT_ALIGN[n]
    w &= _LOW_NIBBLES  # '0'..'9' -> 0..9; the vacated bytes are 0
    w = (w * np.uint64(2561)) >> _U8
    w = ((w & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601)) >> _U16
    value: NDArray[np.uint64] = (
        (w & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)
    ) >> _U32
    return value


class _Chunk:
    """One numpy pass over a run of whole arrays: every number's value, where it starts,
    and whether it was written as an integer."""

    def __init__(self, chunk: NDArray[np.uint8], words: NDArray[np.uint64]) -> None:
        """chunk: the bytes, starting with '[' and ending with ']'; words: a uint64 read at
        every byte of chunk (and 8 past it)."""
        # '-' (45), '.' (46) and the digits (48..57) make numbers, and in exponents e, E, +
        separator = (chunk - np.uint8(45)) > np.uint8(12)
        exponents = bool(np.any((chunk | np.uint8(0x20)) == ord("e")))
        if exponents:
            separator &= (chunk | np.uint8(0x20)) != ord("e")
            separator &= chunk != ord("+")
        seps = np.flatnonzero(separator)
        has_token = (seps[1:] - seps[:-1]) > 1
        self.starts = starts = seps[:-1][has_token] + 1
        self.sizes = sizes = (seps[1:][has_token] - starts).astype(np.int64)  # as written
        w = words[starts]
        negative = (w & np.uint64(0xFF)) == np.uint64(45)
        lengths = sizes
        if negative.any():  # read those again from after the '-': all 8 bytes may be digits
            signed = np.flatnonzero(negative)
            w[signed] = words[starts[signed] + 1]
            lengths = lengths - negative
        fast = lengths <= _MAX_FAST_CHARS  # the whole number (digits and '.') is in the word
        fraction = np.zeros(len(w), dtype=np.int64)
        has_dot = np.zeros(len(w), dtype=np.bool_)
        if np.any(chunk == 46):
            # The '.' byte: SWAR zero-byte search on w ^ '........', lowest match only.
            x = w ^ np.uint64(0x2E2E2E2E2E2E2E2E)
            hit = (x - np.uint64(0x0101010101010101)) & ~x & np.uint64(0x8080808080808080)
            hit &= _BYTE_MASK[np.minimum(lengths, 8)]
            has_dot = hit != 0  # (a long number's '.' may lie past the word: see below)
            lowest = hit & (~hit + np.uint64(1))  # the lowest set bit: 2**(8p + 7)
            where = np.flatnonzero(has_dot)
            p = ((np.log2(lowest[where].astype(np.float64)).astype(np.int64)) - 7) // 8
            low = _BYTE_MASK[p]
            dw = w[where]
            w[where] = (dw & low) | ((dw >> _U8) & ~low)  # drop the '.': digits close up
            fraction[where] = lengths[where] - p - 1
            lengths = lengths - has_dot
        mantissa = _eight_digits(w, np.minimum(lengths, _MAX_FAST_CHARS))
        # An integer below 2**53 over an exact power of ten: one correctly rounded division.
        self.values = values = mantissa.astype(np.float64)
        if fraction.any():
            values /= _POW10[np.minimum(fraction, 8)]
        np.negative(values, out=values, where=negative)
        self.is_int = ~has_dot
        self.overflow = np.zeros(0, dtype=np.intp)  # numbers beyond float64 (token indexes)
        self.big = np.zeros(0, dtype=np.intp)  # integers float64 cannot give back
        if exponents:
            fast &= ~self._has_exponent(chunk)
        slow = np.flatnonzero(~fast)
        if len(slow):
            self._parse_slow(chunk, slow)

    def _has_exponent(self, chunk: NDArray[np.uint8]) -> BoolArray:
        marks = np.flatnonzero((chunk | np.uint8(0x20)) == ord("e"))
        has = np.zeros(len(self.starts), dtype=np.bool_)
        has[np.searchsorted(self.starts, marks, side="right") - 1] = True
        return has

    def _parse_slow(self, chunk: NDArray[np.uint8], slow: NDArray[np.intp]) -> None:
        """Numbers too long for one word, or with an exponent: their bytes gathered into one
        JSON array, decoded by msgspec (exact), in one call."""
        sizes = self.sizes[slow]
        firsts = np.cumsum(sizes) - sizes  # each token's first byte in the gathered text
        total = int(sizes.sum())
        inside = np.arange(total) - np.repeat(firsts, sizes)  # byte index within its token
        text = np.full(total + len(slow) + 1, ord(","), dtype=np.uint8)
        text[0] = ord("[")
        text[-1] = ord("]")
        # token i's bytes go after the "[" and one comma per token before it
        text[np.repeat(firsts + np.arange(len(slow)) + 1, sizes) + inside] = chunk[
            np.repeat(self.starts[slow], sizes) + inside
        ]
        marks = (text == ord(".")) | ((text | np.uint8(0x20)) == ord("e"))
        is_float = np.add.reduceat(marks[1:], firsts + np.arange(len(slow)))[: len(slow)] > 0
        self.is_int[slow] = ~is_float
        try:
            numbers = decode_strict(text.tobytes())
        except OutOfRange:  # which: one by one (1e400 in a fuzzed file)
            numbers = []
            for i in slow.tolist():
                token = chunk[self.starts[i] : self.starts[i] + self.sizes[i]].tobytes()
                try:
                    numbers.append(decode_strict(token))
                except OutOfRange:
                    numbers.append(json.loads(token))
                    self.overflow = np.append(self.overflow, i)
        try:
            floats = np.array(numbers, dtype=np.float64).reshape(len(slow))
        except OverflowError:  # an integer beyond float range: NaN, as as_float has it
            floats = np.fromiter(map(as_float, numbers), dtype=np.float64, count=len(slow))
        self.values[slow] = floats
        big = ~is_float & ~(np.abs(floats) < 2**53)  # (NaN: beyond float range)
        self.big = slow[big]


# values, counts, is_int, rows whose text exact() needs, rows holding an overflowing number
Parsed = tuple[FloatArray, IntArray, BoolArray, list[int], list[int]]


def _parse_number_arrays(text: bytes, bounds: IntArray, spare: bytearray | None = None) -> Parsed:
    """The numbers of JSON arrays of numbers, in order: (values, each array's count, which
    values were JSON integers, the arrays whose text exact() needs, the arrays holding a
    number beyond float64).

    text: the arrays joined, then _PAD; bounds: (n + 1,) their spans in text."""
    n = len(bounds) - 1
    u = np.frombuffer(text, dtype=np.uint8)
    words = np.ndarray(shape=(len(u) - 7,), dtype="<u8", buffer=text, strides=(1,))
    # at most one number more than commas per array: filled in place, never concatenated
    most = text.count(b",") + n
    if spare is not None and len(spare) >= 9 * most:  # 8 bytes a value, 1 a flag
        out = np.frombuffer(spare, dtype=np.float64, count=most)
        is_int = np.frombuffer(spare, dtype=np.bool_, count=most, offset=8 * most)
    else:
        out = np.empty(most, dtype=np.float64)
        is_int = np.empty(most, dtype=np.bool_)
    filled = 0
    counts = np.zeros(n, dtype=np.int64)
    keep: set[int] = set()
    overflow: set[int] = set()
    first = 0
    while first < n:
        # a run of whole arrays of about _CHUNK_BYTES
        last = int(np.searchsorted(bounds, bounds[first] + _CHUNK_BYTES, side="right")) - 1
        last = min(max(last, first + 1), n)
        lo, hi = int(bounds[first]), int(bounds[last])
        chunk = _Chunk(u[lo:hi], words[lo:hi])
        # tokens per array: how many token starts fall in each array's span
        edges = np.searchsorted(chunk.starts, bounds[first : last + 1] - lo)
        counts[first:last] = np.diff(edges)
        for tokens, rows in ((chunk.big, keep), (chunk.overflow, overflow)):
            if len(tokens):
                rows.update((np.searchsorted(edges, tokens, side="right") - 1 + first).tolist())
        size = len(chunk.values)
        out[filled : filled + size] = chunk.values
        is_int[filled : filled + size] = chunk.is_int
        filled += size
        first = last
    return out[:filled], counts, is_int[:filled], sorted(keep | overflow), sorted(overflow)


def store_from_raw(
    annotations: list[dict[str, Any]], spare: bytearray | None = None
) -> KeypointStore:
    """Move every annotation's raw `keypoints` text into a store; the dicts keep STORED for an
    array of numbers and the decoded value for anything else (the schema rule reports it).

    spare: the buffer the document was decoded from, nothing else referencing it once this
    returns (the raw texts are copied out): the parse writes the numbers into it."""
    n = len(annotations)
    raws: list[Any] = [a.get("keypoints") for a in annotations]
    every = None not in raws
    kept = raws if every else [r for r in raws if r is not None]
    text = b"".join([*kept, _PAD])
    check_exponents(kept, text)
    bounds = offsets_from_counts(np.fromiter(map(len, kept), dtype=np.int64, count=len(kept)))
    simple = (
        text.count(b"[") == len(kept)
        and bool((np.frombuffer(text, dtype=np.uint8)[bounds[:-1]] == ord("[")).all())
        and not any(c in text for c in (b'"', b"{", b"t", b"f", b"n"))
    )
    if simple:  # the common case: every keypoints value is an array of numbers
        stored = (
            np.ones(n, dtype=np.bool_)
            if every
            else np.fromiter((r is not None for r in raws), dtype=np.bool_, count=n)
        )
        stored_raws = kept
    else:  # some annotation holds something else: sort them one by one
        stored = np.fromiter(
            (r is not None and _is_number_array(bytes(r)) for r in raws), dtype=np.bool_, count=n
        )
        stored_raws = [raws[j] for j in np.flatnonzero(stored).tolist()]
        text = b"".join([*stored_raws, _PAD])
        bounds = offsets_from_counts(np.fromiter(map(len, stored_raws), dtype=np.int64))
    if every and simple:  # every one is stored
        for annotation in annotations:
            annotation["keypoints"] = STORED
    else:
        for annotation, raw, is_stored in zip(annotations, raws, stored.tolist(), strict=True):
            if raw is not None:
                annotation["keypoints"] = STORED if is_stored else decode_strict(raw)
    sizes = np.zeros(n, dtype=np.int64)
    sizes[stored] = np.diff(bounds)
    return KeypointStore(stored, text=text, text_offsets=offsets_from_counts(sizes), spare=spare)


# ---------------------------------------------------------------------------------------------
# From parsed lists (a document parsed in full, to be rewritten)


def store_from_lists(annotations: list[Any]) -> KeypointStore:
    """The same store over a document that keeps its keypoints lists (they stay in place)."""
    values: list[Any] = [a.get("keypoints") if isinstance(a, dict) else None for a in annotations]
    stored_list = [type(k) is list for k in values]
    lists: list[list[Any]] = [k if ok else [] for k, ok in zip(values, stored_list, strict=True)]
    chain = itertools.chain.from_iterable
    if not set(map(type, chain(lists))) <= NUMBER_TYPES:  # one C-level scan of every value
        # rare: find the arrays holding something else (a bool, a string...)
        stored_list = [
            ok and set(map(type, k)) <= NUMBER_TYPES
            for k, ok in zip(lists, stored_list, strict=True)
        ]
        lists = [k if ok else [] for k, ok in zip(lists, stored_list, strict=True)]
    counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    total = int(counts.sum())
    try:
        flat = np.fromiter(chain(lists), dtype=np.float64, count=total)
    except OverflowError:  # an integer beyond float range: NaN, as the raw path does
        flat = np.fromiter(map(as_float, chain(lists)), dtype=np.float64, count=total)
    stored = np.array(stored_list, dtype=np.bool_).reshape(len(lists))
    return KeypointStore(stored, values=flat, counts=counts)


def offsets_from_counts(counts: IntArray) -> IntArray:
    """(n + 1,) starts of n consecutive runs of the given lengths, then the end."""
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets
