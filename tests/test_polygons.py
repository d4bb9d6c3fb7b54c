"""polygons.py: polygon segmentations kept as JSON text; everything else decoded as usual."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schema_reference import iter_errors_reference

from builders import clean_docs
from poselint.load import schema
from poselint.load.document import parse_bytes
from poselint.load.polygons import POLYGONS

POLYGON_VALUES = ["[]", "[[1, 2, 3, 4, 5, 6]]", "[[1.5,2.25,3,4,5,6],[0,0,1,1,2,2]]", "[ [ ] ]"]
OTHER_VALUES = [
    '{"counts": [1, 2], "size": [2, 2]}',  # RLE, as on COCO's crowd annotations
    '{"counts": "abc", "size": [2, 2]}',
    "[1, 2, 3]",  # flat: not polygons
    '[[1, "a"]]',
    "[[[1, 2]]]",
    "[[1, 2], 3]",
    '"x"',
    "null",
    "[[true]]",
]


def _parse(values: list[str]):
    doc = next(iter(clean_docs().values()))
    template = doc["annotations"][0]
    annotations = []
    for i, value in enumerate(values):
        annotation = {**template, "id": 1000 + i, "segmentation": "SEG"}
        annotations.append(json.dumps(annotation).replace('"SEG"', value))
    text = json.dumps({**doc, "annotations": []}).replace(
        '"annotations": []', '"annotations": [' + ",".join(annotations) + "]"
    )
    compact = parse_bytes(Path("t.json"), text.encode())
    exact = parse_bytes(Path("t.json"), text.encode(), exact=True)
    assert compact.document is not None and exact.document is not None
    return compact, exact


def test_polygons_are_held_as_text_and_given_back_as_written():
    compact, exact = _parse(POLYGON_VALUES)
    assert compact.polygons is not None
    for j, value in enumerate(POLYGON_VALUES):
        assert compact.document["annotations"][j]["segmentation"] is POLYGONS
        assert compact.polygons.exact(j) == json.loads(value)
        assert exact.document["annotations"][j]["segmentation"] == json.loads(value)


@pytest.mark.parametrize("value", OTHER_VALUES)
def test_anything_else_is_decoded_into_the_document(value):
    compact, _ = _parse(["[[1, 2, 3, 4, 5, 6]]", value, "[]"])
    segmentations = [a["segmentation"] for a in compact.document["annotations"]]
    assert segmentations[0] is POLYGONS and segmentations[2] is POLYGONS
    assert segmentations[1] == json.loads(value)


@pytest.mark.parametrize("value", POLYGON_VALUES + OTHER_VALUES)
def test_the_schema_says_the_same_of_the_text_and_of_the_value(value):
    compact, exact = _parse([value])
    reference = sorted(
        (e.pointer, e.keyword, e.message) for e in iter_errors_reference(exact.document)
    )
    fast = sorted((e.pointer, e.keyword, e.message) for e in schema.iter_errors(compact.document))
    assert fast == reference
    assert schema.is_valid(compact.document) is (not reference)


def test_pycocotools_gets_the_annotation_as_written(make_dataset):
    from poselint.config import Config
    from poselint.load.dataset import Dataset

    root = make_dataset()
    split = next(s for s in Dataset(root, Config()).splits if s.name == "train")
    assert split.document is not None
    on_disk = json.loads(split.files.annotation_file.read_text())  # type: ignore[union-attr]
    for j, annotation in enumerate(on_disk["annotations"]):
        assert split.annotation_as_written(j) == annotation


VALUES = st.recursive(
    st.integers(-5, 5) | st.floats(-10, 10) | st.none() | st.booleans() | st.text(max_size=2),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=2), inner),
    max_leaves=10,
)
NUMBER = st.integers(-(10**6), 10**6) | st.floats(allow_nan=False, allow_infinity=False)
POLYGON_LIKE = st.lists(st.lists(NUMBER, max_size=6), max_size=4) | st.lists(
    st.lists(NUMBER, max_size=3) | NUMBER, max_size=3
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(POLYGON_LIKE | VALUES, st.sampled_from([None, 0, 1, 2])), min_size=1, max_size=5
    )
)
def test_bracket_check_agrees_with_the_regular_expression(values):
    """_all_polygons (bracket positions, numpy) says of a batch what the regex says of each."""
    import numpy as np

    from poselint.load.polygons import _POLYGONS, _all_polygons

    texts = [json.dumps(v, indent=indent).encode() for v, indent in values]
    text = b"\n".join(texts)
    starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
    expected = all(_POLYGONS.fullmatch(t) for t in texts)
    assert _all_polygons(text, starts) is expected, texts
