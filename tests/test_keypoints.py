"""keypoints.py: keypoint arrays parsed from their JSON text straight into numpy.

The word-at-a-time parser (numbers.py; tests/test_numbers.py compares it with its reference)
must give, for every array of JSON numbers, exactly the float64
values msgspec (and so Python's float()) gives; every other value must stay in the document
as the file has it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poselint.load import numbers
from poselint.load.document import parse_bytes
from poselint.load.keypoints import STORED, KeypointStore

# numbers as JSON writers spell them: ints, short decimals (CVAT), long ones (float32
# artefacts), negatives, zeros, exponents
INTEGERS = st.integers(-(10**12), 10**12) | st.integers(-5, 5000)
DECIMALS = st.builds(
    lambda whole, digits, places, neg: f"{'-' if neg else ''}{whole}.{digits:0{places}d}",
    st.integers(0, 99999),
    st.integers(0, 9999999),
    st.integers(1, 7),
    st.booleans(),
).filter(lambda s: len(s.split(".")[1]) <= 7)
FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64) | st.floats(
    -5000, 5000, width=32
)
NUMBER_TEXT = st.one_of(
    INTEGERS.map(str),
    DECIMALS,
    FLOATS.map(repr),
    FLOATS.map(lambda f: f"{f:.2f}"),
    st.sampled_from(
        [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1e5",
            "2E-3",
            "1.5e+2",
            "12345678",
            "123456789",
            "123456789012345678",
            "-9007199254740993",
            "0.30000000000000004",
        ]
    ),
)
SPACE = st.sampled_from(["", " ", "\n  ", "\t"])


def _array(numbers: list[str], space: str) -> str:
    return "[" + space + f",{space}".join(numbers) + space + "]"


def _store(raw_values: list[str]) -> tuple[dict[str, Any], KeypointStore]:
    """Parse a document whose annotations hold these keypoints texts, as `check` does."""
    text = (
        '{"annotations": ['
        + ",".join(f'{{"id": {i}, "keypoints": {v}}}' for i, v in enumerate(raw_values))
        + "]}"
    )
    loaded = parse_bytes(Path("t.json"), text.encode())
    assert loaded.document is not None and loaded.keypoints is not None
    return loaded.document, loaded.keypoints


def _assert_stored_exactly(raw_values: list[str]) -> None:
    document, store = _store(raw_values)
    for j, raw in enumerate(raw_values):
        expected = msgspec.json.decode(raw.encode())
        assert document["annotations"][j]["keypoints"] is STORED
        got = store.values[store.offsets[j] : store.offsets[j + 1]]
        want = np.array([float(v) for v in expected], dtype=np.float64)
        assert got.tobytes() == want.tobytes() or np.array_equal(got, want), (raw, got, want)
        assert store.exact(j) == expected and [type(v) for v in store.exact(j)] == [
            type(v) for v in expected
        ]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.lists(NUMBER_TEXT, max_size=20), SPACE), min_size=1, max_size=8))
def test_arrays_of_numbers_parse_to_exactly_what_msgspec_gives(arrays):
    _assert_stored_exactly([_array(numbers, space) for numbers, space in arrays])


def test_the_word_parser_is_what_runs_on_coco_and_cvat_numbers(monkeypatch):
    """No exponent, no number over 8 characters: nothing falls back to msgspec."""
    monkeypatch.setattr(numbers._Chunk, "_parse_slow", _refuse)
    rng = np.random.default_rng(7)
    ints = [_array([str(v) for v in row], "") for row in rng.integers(0, 640, (300, 51))]
    decimals = [_array([f"{v:.2f}" for v in row], " ") for row in rng.uniform(-10, 1000, (300, 51))]
    _assert_stored_exactly(ints + decimals)


def _refuse(*args: Any) -> Any:
    raise AssertionError("fell back to msgspec")


def test_the_text_is_let_go_once_parsed():
    _, store = _store(["[1, 2.5, 2]", "[123456789012345678, 0, 0]"])
    assert store.values.tolist()[:3] == [1, 2.5, 2]
    assert store.text == b""  # 37 MB at COCO scale
    assert store.exact(0) == [1, 2.5, 2] and type(store.exact(0)[0]) is int
    assert store.exact(1) == [123456789012345678, 0, 0]  # beyond float64: its text was kept


def test_many_chunks_and_long_numbers(monkeypatch):
    monkeypatch.setattr(numbers, "_CHUNK_BYTES", 64)  # every few arrays a new numpy pass
    rng = np.random.default_rng(3)
    arrays = [
        _array([repr(float(v)) for v in rng.normal(300, 200, int(n))], "")
        for n in rng.integers(0, 40, 1200)  # > 1024 long arrays: the store keeps its text whole
    ]
    _assert_stored_exactly(arrays)


@pytest.mark.parametrize(
    "raw",
    [
        '["a", 1]',
        "[[1, 2, 0]]",
        "[1, null, 2]",
        "[true, 1, 2]",
        '{"x": 1}',
        '"1,2,0"',
        "7",
        "null",
    ],
)
def test_anything_but_an_array_of_numbers_stays_in_the_document(raw):
    document, store = _store(["[1, 2, 2]", raw, "[3.5, 4, 0]"])
    anns = document["annotations"]
    assert anns[0]["keypoints"] is STORED and anns[2]["keypoints"] is STORED
    assert repr(anns[1]["keypoints"]) == repr(json.loads(raw))
    assert store.stored.tolist() == [True, False, True]
    assert store.lengths.tolist() == [3, 0, 3]
    assert store.values.tolist() == [1, 2, 2, 3.5, 4, 0]


def test_integers_beyond_float_range_are_not_numbers():
    _, store = _store(["[" + "9" * 400 + ", 1, 2]"])
    assert math.isnan(store.values[0])  # float() refuses it, as the exact path has it
    assert store.exact(0)[0] == int("9" * 400)  # its text was kept


def test_annotation_without_keypoints_is_not_stored():
    text = b'{"annotations": [{"id": 1}, {"id": 2, "keypoints": [1, 2, 2]}]}'
    loaded = parse_bytes(Path("t.json"), text)
    assert loaded.keypoints is not None
    assert loaded.keypoints.stored.tolist() == [False, True]
    assert "keypoints" not in loaded.document["annotations"][0]


def test_exact_parse_keeps_lists_and_unknown_keys():
    text = b'{"x": 1, "annotations": [{"id": 1, "mine": 2, "keypoints": [1, 2.5, 2]}]}'
    compact = parse_bytes(Path("t.json"), text)
    exact = parse_bytes(Path("t.json"), text, exact=True)
    assert compact.document == {"annotations": [{"id": 1, "keypoints": STORED}]}
    assert exact.document == json.loads(text) and exact.exact
    for loaded in (compact, exact):
        assert loaded.keypoints is not None
        assert loaded.keypoints.values.tolist() == [1, 2.5, 2]


def test_invalid_utf8_in_a_skipped_key_is_still_invalid_json():
    loaded = parse_bytes(Path("t.json"), b'{"zz": "\xff", "annotations": []}')
    assert loaded.syntax is not None and loaded.document is None


def _owner(array: np.ndarray) -> object:
    base: object = array
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    return base.obj if isinstance(base, memoryview) else base


def test_the_numbers_never_share_memory_with_the_files_bytes(tmp_path):
    """The loader leaves the bytes it read as they were, whatever runs first afterwards: the
    lazy keypoint parse, the duplicate-key check or another parse of the same bytes (the
    numbers were once written into the file's own buffer, which the msgspec.Raw views of the
    same document still pointed into)."""
    from poselint.load.document import find_duplicate_keys, parse_bytes, read_identified

    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}],
        "annotations": [
            {"id": i, "image_id": 1, "keypoints": [i, 2.5, 2, 0, 0, 0], "bbox": [0, 0, 1, 1]}
            for i in range(50)
        ],
    }
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc))
    read = read_identified(path, 1 << 30)
    assert not isinstance(read, str)
    data = read[0]
    before = bytes(data)
    loaded = parse_bytes(path, data)
    store = loaded.keypoints
    assert store is not None
    assert store.values.tolist() == [v for a in doc["annotations"] for v in a["keypoints"]]
    assert [store.exact(j) for j in range(50)] == [a["keypoints"] for a in doc["annotations"]]
    assert data == before
    assert not isinstance(_owner(store.values), bytearray | bytes)
    assert find_duplicate_keys(data) == []
    again = parse_bytes(path, data).keypoints
    assert again is not None and again.values.tolist() == store.values.tolist()


def test_numbers_that_do_not_fit_the_buffer_get_their_own_array(tmp_path):
    from poselint.load.document import load_annotation_file

    path = tmp_path / "a.json"
    path.write_text('{"annotations": [{"keypoints": [0,0,0,1,1,1,2,2,2]}]}')
    store = load_annotation_file(path, 1 << 30).keypoints
    assert store is not None
    assert not isinstance(_owner(store.values), bytearray)
    assert store.values.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]


@pytest.mark.parametrize(
    "field",
    [
        '"keypoints": [1e400, 2, 2]',
        '"keypoints": ["a", 1e400]',
        '"segmentation": [[1e400, 2, 3, 4, 5, 6]]',
        '"segmentation": {"counts": [1e400], "size": [1, 1]}',
    ],
)
def test_an_overflowing_exponent_in_text_kept_raw_is_invalid_json(field):
    """As anywhere else in the file (PL303): the loader parses such a file strictly."""
    text = '{"annotations": [{"id": 1, ' + field + "}]}"
    loaded = parse_bytes(Path("t.json"), text.encode())
    assert loaded.syntax is not None and loaded.document is None
    assert parse_bytes(Path("t.json"), text.encode(), exact=True).syntax == loaded.syntax


def test_a_309_digit_decimal_in_keypoints_is_reported_by_pointer(make_dataset, cli):
    root = make_dataset()
    path = root / "annotations" / "person_keypoints_train.json"
    doc = json.loads(path.read_text())
    doc["annotations"][1]["keypoints"][0] = "HUGE"
    path.write_text(json.dumps(doc).replace('"HUGE"', "9" * 309 + ".5"))  # > 1.8e308
    result = cli("check", root, "--format", "json", "--select", "PL303")
    assert [(d["code"], d["pointer"]) for d in result.json()] == [
        ("PL303", "/annotations/1/keypoints")
    ]
