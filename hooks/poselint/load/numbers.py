"""The number kernel: the numbers of JSON arrays of numbers, parsed from their text into numpy.

One entry point, parse_number_arrays(); its specification is parse_number_arrays_reference(),
the plain msgspec parse of each array (tests/test_numbers.py checks one against the other on
random input and on every real file of tests/data/real/). The caller proves first that the text
holds only arrays of numbers (keypoints.py, with a byte scan over text msgspec validated as
JSON); the kernel then parses it without a Python object per number:

- numbers of up to 8 characters after the sign (COCO's pixels, CVAT's 2-decimal floats) are
  parsed 8 bytes at a time with SWAR arithmetic over uint64 arrays; the float is the mantissa
  divided by a power of ten, one correctly rounded IEEE operation (Clinger's fast path), so it
  equals what float(text) gives;
- the others (exponents, longer numbers such as float32 values written in full) are gathered
  per chunk into one JSON array and decoded by msgspec in one call.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from poselint.lazy import np
from poselint.load.jsonvalues import as_float

if TYPE_CHECKING:
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]


PAD = b"\0" * 8  # after the text: a uint64 word can be read at every byte of it
_CHUNK_BYTES = 1 << 18  # text per numpy pass: its temporaries stay in the CPU cache
_MAX_FAST_CHARS = 8  # digits (and one '.') per number that one uint64 word holds


# SWAR constants (simdjson's parse_eight_digits): a uint64 of 8 ASCII digits, the first digit
# in the lowest byte, becomes their value in three multiply-and-shift steps.
# Built on first use (numpy is imported lazily: poselint/lazy.py).
class _Swar(NamedTuple):
    low_nibbles: np.uint64
    byte_mask: NDArray[np.uint64]  # [n]: the low n bytes
    right_align: NDArray[np.uint64]  # [n]: 2**(8*(8-n)) moves n digits to the top bytes
    pow10: FloatArray
    u8: np.uint64
    u16: np.uint64
    u32: np.uint64


@cache
def _swar() -> _Swar:
    return _Swar(
        np.uint64(0x0F0F0F0F0F0F0F0F),
        np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64),
        # n = 0: 2**64 wraps to 0
        np.array([(1 << (8 * (8 - n))) % (1 << 64) for n in range(9)], dtype=np.uint64),
        10.0 ** np.arange(9, dtype=np.float64),
        np.uint64(8),
        np.uint64(16),
        np.uint64(32),
    )


class NumberArrays(NamedTuple):
    """The numbers of n JSON arrays, in order."""

    values: FloatArray  # every number as float64 (NaN: an integer beyond float range)
    counts: IntArray  # (n,): how many numbers each array holds
    is_int: BoolArray  # per value: written as a JSON integer (no '.', no exponent)
    inexact: list[int]  # the arrays whose values float64 cannot give back (their text can)
    overflow: list[int]  # the arrays holding a number beyond float64 (1e400, 309 digits)


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


def parse_number_arrays(text: bytes, bounds: IntArray) -> NumberArrays:
    """The numbers of JSON arrays of numbers: what parse_number_arrays_reference() gives.

    text: valid JSON arrays of numbers (nothing else), joined, then PAD; bounds: (n + 1,)
    their spans in text (array i is text[bounds[i]:bounds[i + 1]])."""
    n = len(bounds) - 1
    assert text.endswith(PAD) and (n < 1 or bounds[-1] + len(PAD) <= len(text))
    u = np.frombuffer(text, dtype=np.uint8)
    words = np.ndarray(shape=(len(u) - 7,), dtype="<u8", buffer=text, strides=(1,))
    # at most one number more than commas per array: filled in place, never concatenated
    most = text.count(b",") + n
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
    return NumberArrays(
        out[:filled], counts, is_int[:filled], sorted(keep | overflow), sorted(overflow)
    )


def parse_number_arrays_reference(text: bytes, bounds: IntArray) -> NumberArrays:
    """The specification of parse_number_arrays(): each array decoded by msgspec, as the
    document decoder would (a number beyond float64 as Python's json has it, inf)."""
    values: list[float] = []
    is_int: list[bool] = []
    counts: list[int] = []
    inexact: list[int] = []
    overflow: list[int] = []
    for i in range(len(bounds) - 1):
        raw = text[int(bounds[i]) : int(bounds[i + 1])]
        try:
            numbers = decode_strict(raw)
        except OutOfRange:
            numbers = json.loads(raw)
            overflow.append(i)
        floats = [as_float(v) for v in numbers]
        ints = [type(v) is int for v in numbers]
        if i in overflow or any(
            whole and not abs(f) < 2**53 for f, whole in zip(floats, ints, strict=True)
        ):
            inexact.append(i)
        values += floats
        is_int += ints
        counts.append(len(numbers))
    return NumberArrays(
        np.array(values, dtype=np.float64),
        np.array(counts, dtype=np.int64),
        np.array(is_int, dtype=np.bool_),
        inexact,
        overflow,
    )


def _eight_digits(words: NDArray[np.uint64], n: NDArray[np.int64]) -> NDArray[np.uint64]:
    """The value of the first n (0..8) ASCII digits of each word."""
    c = _swar()
    w = (words & c.byte_mask[n]) * c.right_align[n]
    w &= c.low_nibbles  # '0'..'9' -> 0..9; the vacated bytes are 0
    w = (w * np.uint64(2561)) >> c.u8
    w = ((w & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601)) >> c.u16
    value: NDArray[np.uint64] = (
        (w & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)
    ) >> c.u32
    return value


class _Chunk:
    """One numpy pass over a run of whole arrays: every number's value, where it starts,
    and whether it was written as an integer."""

    def __init__(self, chunk: NDArray[np.uint8], words: NDArray[np.uint64]) -> None:
        """chunk: the bytes, starting with '[' and ending with ']'; words: a uint64 read at
        every byte of chunk (and 8 past it)."""
        c = _swar()
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
            hit &= c.byte_mask[np.minimum(lengths, 8)]
            has_dot = hit != 0  # (a long number's '.' may lie past the word: see below)
            lowest = hit & (~hit + np.uint64(1))  # the lowest set bit: 2**(8p + 7)
            where = np.flatnonzero(has_dot)
            p = ((np.log2(lowest[where].astype(np.float64)).astype(np.int64)) - 7) // 8
            low = c.byte_mask[p]
            dw = w[where]
            w[where] = (dw & low) | ((dw >> c.u8) & ~low)  # drop the '.': digits close up
            fraction[where] = lengths[where] - p - 1
            lengths = lengths - has_dot
        mantissa = _eight_digits(w, np.minimum(lengths, _MAX_FAST_CHARS))
        # An integer below 2**53 over an exact power of ten: one correctly rounded division.
        self.values = values = mantissa.astype(np.float64)
        if fraction.any():
            values /= c.pow10[np.minimum(fraction, 8)]
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
