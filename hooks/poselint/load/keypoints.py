"""Every annotation's `keypoints` as float64 numbers in one array, not as Python objects.

At COCO-2017 scale `keypoints` holds 13.4 M numbers: as Python ints and floats in lists they
cost ~350 MB, then a pass over 13.4 M objects to convert them for numpy. The loader instead
hands this module each annotation's keypoints as raw JSON text (msgspec.Raw, validated as JSON
by msgspec); this module copies the texts out, proves they are arrays of numbers (a byte-class
scan: given valid JSON, `"`, `{`, `t`, `f`, `n` and a second `[` are the only ways a non-number
element can appear), and parses them on first use with the number kernel (numbers.py).

In the document, a stored annotation's `keypoints` is replaced by the STORED marker; the
values are in `values`, and `exact(j)` gives them back as written (ints stay ints) for the
few consumers that need that: the HTML report, pycocotools.
"""

from __future__ import annotations

import itertools
from functools import cached_property
from typing import TYPE_CHECKING, Any

from poselint.lazy import np
from poselint.load.jsonvalues import NUMBER_TYPES, as_float
from poselint.load.numbers import (
    PAD,
    check_exponents,
    decode_exact,
    decode_strict,
    parse_number_arrays,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]

# Stands in the document for keypoints held here. A string, so that the schema validators
# (which accept it through schema.py's variant) and any stray consumer see a plain JSON value.
STORED = "\x00poselint:keypoints-in-store"


class KeypointStore:
    """values[offsets[j]:offsets[j+1]] are annotation j's keypoints when stored[j].

    From raw text (a copy: nothing here refers to the file's bytes) the numbers are parsed on
    first use (PL303 or Split.tables), then the text is let go unless exact() needs it.
    """

    def __init__(
        self,
        stored: BoolArray,
        *,
        text: bytes = b"",
        text_offsets: IntArray | None = None,
        values: FloatArray | None = None,
        counts: IntArray | None = None,
    ) -> None:
        self.stored = stored  # (n,): keypoints is an array of JSON numbers and lives here
        # The JSON text of the stored arrays (+ PAD), until parsed; empty when the document
        # kept its lists (then values and counts are given).
        self.text = text
        self.text_offsets = text_offsets  # (n + 1,): annotation j's span in text
        self._values = values
        self._counts = counts
        # For exact(), once parsed: which values were JSON integers (bit-packed), and the text
        # of the few arrays whose values float64 cannot give back (integers beyond 2**53).
        self._is_int: NDArray[np.uint8] | None = None
        self._texts: dict[int, bytes] | _TextSpans = {}
        self._out_of_range: list[int] = []

    def _parse(self) -> None:
        assert self.text_offsets is not None
        rows = np.flatnonzero(self.stored)
        stored_bounds = np.append(self.text_offsets[:-1][rows], self.text_offsets[-1])
        values, stored_counts, is_int, keep, overflow = parse_number_arrays(
            self.text, stored_bounds
        )
        self._out_of_range = [int(rows[i]) for i in overflow]
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


def _is_number_array(raw: bytes) -> bool:
    """Given valid JSON: an array whose elements are all numbers."""
    return (
        raw[:1] == b"["
        and raw.count(b"[") == 1
        and not any(c in raw for c in (b'"', b"{", b"t", b"f", b"n"))
    )


def store_from_raw(annotations: list[dict[str, Any]]) -> KeypointStore:
    """Move every annotation's raw `keypoints` text into a store; the dicts keep STORED for an
    array of numbers and the decoded value for anything else (the schema rule reports it)."""
    n = len(annotations)
    raws: list[Any] = [a.get("keypoints") for a in annotations]
    every = None not in raws
    kept = raws if every else [r for r in raws if r is not None]
    text = b"".join([*kept, PAD])
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
        text = b"".join([*stored_raws, PAD])
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
    return KeypointStore(stored, text=text, text_offsets=offsets_from_counts(sizes))


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
