"""Split.tables: numpy views that keep document positions and never raise on bad content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import clean_docs, coco, image, person
from poselint.config import Config
from poselint.load.dataset import Dataset
from poselint.load.document import parse_bytes
from poselint.load.keypoints import store_from_lists
from poselint.load.tables import Tables, build_tables, entries

FIELDS = (
    "image_id", "image_id_ok", "width", "height", "ann_image_id", "ann_image_id_ok",
    "category_id", "category_id_ok", "iscrowd", "num_keypoints", "bbox", "ann_image_row",
    "keypoints_ok", "kp", "kp_ann", "kp_start",
)  # fmt: skip


def kp_index(t: Tables) -> list[int]:
    """Tables.keypoint_index of every triplet row."""
    return [t.keypoint_index(row) for row in range(len(t.kp_ann))]


def tables_of(doc: dict[str, Any], numbers_checked: bool = False) -> Tables:
    """The tables of a document parsed in full (keypoints lists kept), after checking that the
    compact parse of the same JSON text (keypoints straight into numpy) gives the same arrays."""
    exact = build_tables(doc, store_from_lists(entries(doc, "annotations")), numbers_checked)
    try:
        text = orjson.dumps(doc)
    except TypeError:  # an integer beyond 64 bits: orjson will not write it
        return exact
    if orjson.loads(text) != doc:  # NaN written as null: not the same document
        return exact
    loaded = parse_bytes(Path("t.json"), text)
    assert loaded.document is not None and loaded.keypoints is not None and not loaded.exact
    compact = build_tables(loaded.document, loaded.keypoints, numbers_checked)
    for field in FIELDS:
        a, b = getattr(exact, field), getattr(compact, field)
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), field
    return exact


def test_rows_follow_document_positions_past_malformed_entries():
    doc = coco(
        [image(7, "a.jpg", 640, 480), "junk", image(9, "b.jpg", 320, 200)],  # type: ignore[list-item]
        [
            person(1, 9, [1, 2, 2, 3, 4, 0]),
            {"id": 2, "keypoints": "x"},
            "not an object",
            person(4, 7, [5, 6, 1, 7, 8, 2, 9, 10, 0]),
        ],
    )
    t = tables_of(doc)
    assert t.n_images == 3 and t.n_annotations == 4
    assert np.flatnonzero(t.image_id_ok).tolist() == [0, 2]
    assert t.image_id[t.image_id_ok].tolist() == [7, 9]
    np.testing.assert_array_equal(t.width, [640, np.nan, 320])
    np.testing.assert_array_equal(t.ann_image_row, [2, -1, -1, 0])
    np.testing.assert_array_equal(t.keypoints_ok, [True, False, False, True])
    np.testing.assert_array_equal(t.kp_ann, [0, 0, 3, 3, 3])
    assert kp_index(t) == [0, 1, 0, 1, 2]
    np.testing.assert_array_equal(t.kp[4], [9, 10, 0])  # annotations/3/keypoints/6..8
    np.testing.assert_array_equal(t.num_keypoints, [1, np.nan, np.nan, 2])
    np.testing.assert_array_equal(t.bbox[0], [1, 2, 0, 0])
    assert np.isnan(t.bbox[1]).all()
    np.testing.assert_array_equal(t.labelled_counts, [1, 0, 0, 2])  # v > 0, for PL603
    assert t.labelled_counts is t.labelled_counts  # computed once


def test_bools_strings_and_bad_lengths_are_not_numbers():
    anns: list[Any] = [
        {"image_id": True, "category_id": 1, "iscrowd": False, "keypoints": [1, 2, True]},
        {"image_id": 1, "category_id": "1", "num_keypoints": "3", "keypoints": [1, 2]},
        {"image_id": 1.0, "bbox": [1, 2, 3], "keypoints": [1, "2", 2]},
        {"image_id": 1, "bbox": [1, 2, 3, None], "keypoints": [1, 2, 2, None, 0, 0]},
        {"image_id": 1, "bbox": [True, 2, 3, 4], "keypoints": [[1], 2, 2]},
        {"image_id": 2**70, "keypoints": {"x": 1}},
    ]
    t = tables_of(coco([image(1, "a.jpg")], anns))
    assert not t.keypoints_ok.any() and len(t.kp) == 0
    np.testing.assert_array_equal(t.ann_image_id_ok, [False, True, False, True, True, False])
    np.testing.assert_array_equal(t.ann_image_row, [-1, 0, -1, 0, 0, -1])  # True is not id 1
    assert not t.category_id_ok[1] and np.isnan(t.num_keypoints[1])
    assert t.iscrowd[0] == 0  # iscrowd false is 0, as pycocotools reads it (PL311 warns)
    assert np.isnan(t.bbox[2:]).all()


def test_first_row_wins_for_a_duplicated_image_id():
    t = tables_of(coco([image(5, "a.jpg"), image(5, "b.jpg", 10, 10)], [person(1, 5, [])]))
    assert t.ann_image_row.tolist() == [0]  # the annotation resolves to the first row


def test_empty_and_missing_arrays():
    for doc in ({}, {"images": None, "annotations": "x"}, {"images": [], "annotations": []}):
        t = tables_of(doc)
        assert t.n_images == 0 and t.n_annotations == 0 and t.kp.shape == (0, 3)


def test_huge_integer_coordinates_stay_numbers_or_drop_the_annotation():
    anns = [
        {"image_id": 1, "keypoints": [2**64 - 1, 1, 2]},
        {"image_id": 1, "keypoints": [10**400, 1, 2]},  # only a Python document can hold it
    ]
    t = tables_of(coco([image(1, "a.jpg")], anns))
    assert t.keypoints_ok.tolist() == [True, False]
    assert t.kp[0, 0] == float(2**64 - 1)


def test_split_tables_are_built_once(make_dataset):
    root = make_dataset(clean_docs())
    split = next(s for s in Dataset(root, Config()).splits if s.name == "train")
    assert split.tables is split.tables
    assert split.tables.n_annotations == 2


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)
KEYPOINTS = st.one_of(
    st.lists(st.one_of(st.integers(-5, 700), st.floats(-5, 700)), max_size=12),
    JSON,
)
ANNOTATION = st.one_of(
    st.fixed_dictionaries(
        {"image_id": st.one_of(st.integers(0, 4), JSON), "keypoints": KEYPOINTS},
        optional={"num_keypoints": JSON, "iscrowd": JSON, "bbox": JSON, "category_id": JSON},
    ),
    JSON,
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(ANNOTATION, max_size=6),
    st.lists(st.one_of(st.builds(image, st.integers(0, 4), st.just("a.jpg")), JSON), max_size=4),
)
def test_any_document_gives_consistent_tables(annotations, images):
    t = tables_of({"images": images, "annotations": annotations})
    assert t.n_annotations == len(annotations) and t.n_images == len(images)
    expected = []
    for row, ann in enumerate(annotations):
        kps = ann.get("keypoints") if isinstance(ann, dict) else None
        good = type(kps) is list and len(kps) % 3 == 0 and all(type(v) in (int, float) for v in kps)
        assert bool(t.keypoints_ok[row]) == good
        if good:
            expected += [(row, k, *kps[3 * k : 3 * k + 3]) for k in range(len(kps) // 3)]
    got = [(a, k, x, y, v) for (a, k), (x, y, v) in zip(
        zip(t.kp_ann.tolist(), kp_index(t), strict=True), t.kp.tolist(), strict=True
    )]  # fmt: skip
    assert got == [(a, k, float(x), float(y), float(v)) for a, k, x, y, v in expected]
    for row in t.ann_image_row.tolist():
        assert row == -1 or 0 <= row < len(images)


def test_schema_checked_fast_path_builds_the_same_tables():
    """Split.tables skips the per-value type scan when the schema passed: same arrays."""
    import numpy as np
    from coco_corpus import all_documents

    from poselint.load.schema import is_valid

    checked = 0
    for name, doc in all_documents().items():
        if not isinstance(doc, dict) or not is_valid(doc):
            continue
        fast, careful = tables_of(doc, numbers_checked=True), tables_of(doc)
        for field in ("kp", "kp_ann", "kp_start", "keypoints_ok", "bbox", "width"):
            assert np.array_equal(getattr(fast, field), getattr(careful, field), equal_nan=True), (
                name,
                field,
            )
        checked += 1
    assert checked >= 10
