"""numbers.py: the number kernel against its reference, the plain msgspec parse of each array.

Differential: for the same text and bounds, parse_number_arrays() must give what
parse_number_arrays_reference() gives (values, counts, which values are integers, which arrays
float64 cannot give back, which overflow), on random arrays, on COCO- and CVAT-shaped ones and
on every array of numbers in the real files of tests/data/real/.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_keypoints import NUMBER_TEXT, SPACE, _array

from poselint.load import numbers
from poselint.load.keypoints import offsets_from_counts
from poselint.load.numbers import (
    PAD,
    NumberArrays,
    parse_number_arrays,
    parse_number_arrays_reference,
)

REAL = Path(__file__).parent / "data" / "real"
REAL_FILES = sorted(REAL.rglob("*.json"))
# an innermost array whose text holds only number characters (inside a string too: those that
# are not valid JSON arrays of numbers are dropped below)
_NUMBER_ARRAY = re.compile(rb"\[[-+0-9.eE,\s]*\]")


def _joined(arrays: list[bytes]) -> tuple[bytes, np.ndarray]:
    counts = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    return b"".join([*arrays, PAD]), offsets_from_counts(counts)


def _assert_same(arrays: list[bytes]) -> NumberArrays:
    text, bounds = _joined(arrays)
    got = parse_number_arrays(text, bounds)
    want = parse_number_arrays_reference(text, bounds)
    assert got.counts.tolist() == want.counts.tolist()
    assert len(got.values) == len(want.values)
    # -0 written as an integer: the kernel gives -0.0, float(0) gives 0.0; equal as numbers
    mismatch = ~((got.values == want.values) | (np.isnan(got.values) & np.isnan(want.values)))
    assert not mismatch.any(), [
        (arrays, got.values[i], want.values[i]) for i in np.flatnonzero(mismatch)[:5]
    ]
    assert got.is_int.tolist() == want.is_int.tolist()
    assert (got.inexact, got.overflow) == (want.inexact, want.overflow)
    return got


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.lists(NUMBER_TEXT, max_size=20), SPACE), min_size=1, max_size=8))
def test_random_arrays(arrays):
    _assert_same([_array(numbers, space).encode() for numbers, space in arrays])


@pytest.mark.parametrize(
    "array",
    [
        b"[]",
        b"[ ]",
        b"[0]",
        b"[-0, -0.0, 0.0]",
        b"[1e400, 2]",  # the loader sends such a file to the strict parser; the kernel copes
        b"[" + b"9" * 309 + b".5, 1]",  # beyond float64 without an exponent
        b"[" + b"1" * 400 + b", 1]",  # an integer beyond float range: NaN, its text kept
        b"[9007199254740993, 1.5]",  # an integer float64 cannot give back
        b"[12345678, 123456789, 1234567.8, -1234567.8, 0.1234567]",  # 8 characters and more
        b"[1E5, 2e-3, -1.5e+2, 0.30000000000000004]",
    ],
)
def test_edge_arrays(array):
    _assert_same([b"[1, 2, 0]", array, b"[3.5,4,2]"])


def test_coco_cvat_and_float32_shapes(monkeypatch):
    monkeypatch.setattr(numbers, "_CHUNK_BYTES", 512)  # many numpy passes
    rng = np.random.default_rng(11)
    ints = [_array([str(v) for v in row], "") for row in rng.integers(0, 640, (200, 51))]
    cvat = [_array([f"{v:.2f}" for v in row], " ") for row in rng.uniform(-10, 1000, (200, 51))]
    f32 = rng.uniform(0, 1000, (200, 51)).astype(np.float32).astype(np.float64)
    long = [_array([repr(v) for v in row.tolist()], "") for row in f32]
    _assert_same([a.encode() for a in ints + cvat + long])


def _real_arrays(path: Path) -> list[bytes]:
    """Every innermost array of numbers in the file as written: keypoints, bboxes, polygons,
    skeleton pairs, RLE counts."""
    arrays = []
    for match in _NUMBER_ARRAY.finditer(path.read_bytes()):
        if _is_number_array(match.group()):  # not number characters inside a string
            arrays.append(match.group())
    return arrays


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: str(p.relative_to(REAL)))
def test_every_number_array_of_the_real_corpus(path):
    arrays = _real_arrays(path)
    assert arrays, "each real file has arrays of numbers (bboxes at least)"
    _assert_same(arrays)


def test_the_real_corpus_is_there():
    assert len(REAL_FILES) >= 20


def _is_number_array(text: bytes) -> bool:
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return False
    return isinstance(value, list) and all(type(v) in (int, float) for v in value)


def test_byte_mutations_of_real_arrays():
    """Real arrays with number characters inserted, replaced or dropped at random: every
    mutant that is still a JSON array of numbers parses to what the reference gives."""
    rng = random.Random(14)
    alphabet = b"0123456789.-+eE, \n"
    sources = [a for path in REAL_FILES for a in _real_arrays(path) if len(a) > 2]
    mutants = []
    for _ in range(3000):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(1, len(data) - 1)  # keep the brackets
            kind = rng.randrange(3)
            if kind == 0:
                data[i:i] = bytes([rng.choice(alphabet)])
            elif kind == 1:
                data[i] = rng.choice(alphabet)
            else:
                del data[i]
        if _is_number_array(bytes(data)):
            mutants.append(bytes(data))
    assert len(mutants) > 500
    _assert_same(mutants)
