"""PL4xx integrity rules: one positive and one negative test each, the real samples, and no
internal error on any document of the corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import msgspec
import orjson
import pytest
from coco_corpus import all_documents, mutated_documents

from builders import PERSON, SAMPLES, clean_docs, coco, image, person
from poselint.load.polygons import polygon_table, store_polygons

INTEGRITY = [f"PL4{n:02d}" for n in range(1, 13)]
REAL = Path(__file__).parent / "data" / "real"


def _findings(cli, root, select="PL4"):
    result = cli("check", root, "--format", "json", "--select", select)
    assert result.code in (0, 1), result
    records = result.json()
    assert not [r for r in records if r["code"] == "PL000"], records
    # PL413 (split leakage) is another family's; the PL4 prefix selects it too
    return [(r["code"], r.get("pointer"), r["message"]) for r in records if r["code"] != "PL413"]


def _train(make_dataset, doc):
    return make_dataset({"train": doc, "val": clean_docs()["val"]}, images=False)


def _mutated(make_dataset, name):
    return _train(make_dataset, mutated_documents()[f"mutation:{name}"])


# --- negatives: clean data, real exports -----------------------------------------------------


def test_clean_dataset_has_no_integrity_findings(make_dataset, cli):
    assert _findings(cli, make_dataset(images=False)) == []


def test_real_cvat_export_has_no_integrity_findings(make_cvat_export, cli):
    assert _findings(cli, make_cvat_export()) == []


def test_pypi_datumaro_export_has_no_integrity_findings(tmp_path, cli):
    root = shutil.copytree(SAMPLES / "datumaro-export" / "pypi-datumaro-1.13.12", tmp_path / "d")
    assert _findings(cli, root) == []


# --- the Datumaro test fixtures are not valid keypoint files --------------------------------


@pytest.mark.parametrize("fixtures", ["datumaro-tests", "cvat-datumaro-tests"])
def test_datumaro_fixtures_are_flagged(tmp_path, cli, fixtures):
    root = shutil.copytree(SAMPLES / fixtures, tmp_path / "d")
    findings = _findings(cli, root)
    codes = {code for code, _, _ in findings}
    assert codes == {"PL407", "PL409"}
    zero_based = [f for f in findings if f[0] == "PL409" and "0-based" in f[2]]
    assert ("PL409", "/categories/0/skeleton/0", "pair [0, 1] is 0-based; COCO skeleton indices "
            "start at 1") in zero_based  # fmt: skip
    # category 2 ("b") has no keypoint names, yet its annotations carry 9 values
    assert any(f[0] == "PL407" and f[1].endswith("/keypoints") for f in findings)


# --- PL401..PL403 duplicate ids ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutation", "code", "pointer", "words"),
    [
        ("duplicate-image-id", "PL401", "/images/1/id", "image id 1 is already used by /images/0"),
        ("duplicate-annotation-id", "PL402", "/annotations/1/id", "already used by /annotations/0"),
        ("duplicate-category-id", "PL403", "/categories/1/id", "already used by /categories/0"),
    ],
)
def test_duplicate_ids(make_dataset, cli, mutation, code, pointer, words):
    findings = _findings(cli, _mutated(make_dataset, mutation), code)
    assert [(c, p) for c, p, _ in findings] == [(code, pointer)]
    assert words in findings[0][2]


def test_annotation_ids_may_restart_in_each_split(make_dataset, cli):
    # clean train and val both have an annotation with id 1, as Datumaro writes them
    assert _findings(cli, make_dataset(images=False), "PL402") == []


def test_integral_float_id_equals_the_integer(make_dataset, cli):
    doc = clean_docs()["train"]
    doc["images"][1]["id"] = 1.0  # JSON Schema counts 1.0 as an integer; pycocotools too
    assert [c for c, _, _ in _findings(cli, _train(make_dataset, doc), "PL401")] == ["PL401"]


# --- PL404/PL405 references -------------------------------------------------------------------


def test_pl404_unknown_image_id(make_dataset, cli):
    findings = _findings(cli, _mutated(make_dataset, "dangling-image-id"))
    assert findings == [
        ("PL404", "/annotations/0/image_id", "image_id 99 matches no entry of images")
    ]


def test_pl404_resolving_ids_pass(make_dataset, cli):
    # image 3 has no annotation: fine. Every annotation's image exists.
    assert _findings(cli, make_dataset(images=False), "PL404") == []


def test_pl405_unknown_category_id(make_dataset, cli):
    findings = _findings(cli, _mutated(make_dataset, "dangling-category-id"))
    assert findings == [
        ("PL405", "/annotations/0/category_id", "category_id 99 matches no entry of categories")
    ]


def test_pl405_non_contiguous_category_ids_resolve(make_cvat_export, cli):
    # the fork export's categories are 1, 6, 7; the hand annotation uses 7
    assert _findings(cli, make_cvat_export(), "PL405") == []


# --- PL406/PL407 keypoints and their category --------------------------------------------------


@pytest.mark.parametrize(
    ("mutation", "length"), [("keypoints-too-short", 3), ("keypoints-too-long", 13)]
)
def test_pl406_keypoints_length_mismatch(make_dataset, cli, mutation, length):
    findings = _findings(cli, _mutated(make_dataset, mutation))
    assert findings == [
        (
            "PL406",
            "/annotations/0/keypoints",
            f"keypoints has {length} values, expected 12 (3 x 4 keypoint names of its category)",
        )
    ]


def test_pl406_each_category_has_its_own_k(make_cvat_export, cli):
    # person has 4 keypoints (12 values), hand 2 (6 values): both right
    assert _findings(cli, make_cvat_export(), "PL406") == []


def test_pl407_keypoints_on_a_plain_category(make_dataset, cli):
    findings = _findings(cli, _mutated(make_dataset, "keypoints-on-plain-category"))
    assert findings == [
        (
            "PL407",
            "/annotations/0/keypoints",
            "12 keypoint values on a category with no keypoint names",
        )
    ]


def test_pl407_plain_category_without_keypoints_passes(make_dataset, cli):
    assert _findings(cli, _mutated(make_dataset, "plain-annotation-no-keypoints"), "PL407") == []


def test_pl407_category_without_a_keypoints_key(make_dataset, cli):
    doc = clean_docs()["train"]
    del doc["categories"][1]["keypoints"]
    doc["annotations"][0]["category_id"] = 6
    assert [c for c, _, _ in _findings(cli, _train(make_dataset, doc), "PL407")] == ["PL407"]


# --- PL408 keypoint names ----------------------------------------------------------------------


def test_pl408_duplicate_keypoint_name(make_dataset, cli):
    findings = _findings(cli, _mutated(make_dataset, "category-keypoint-name-duplicate"), "PL408")
    assert findings == [
        ("PL408", "/categories/0/keypoints/1", "keypoint name 'nose' repeats keypoint 1")
    ]


def test_pl408_unique_names_pass(make_cvat_export, cli):
    assert _findings(cli, make_cvat_export(), "PL408") == []


# --- PL409 skeleton ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutation", "pointer", "words"),
    [
        ("skeleton-zero-based", "/categories/0/skeleton/0", "0-based"),
        ("skeleton-out-of-range", "/categories/0/skeleton/3", "points past the category's 4"),
        ("skeleton-self-loop", "/categories/0/skeleton/3", "joins a keypoint to itself"),
        ("skeleton-duplicate-reversed", "/categories/0/skeleton/3", "repeats an earlier pair"),
    ],
)
def test_pl409_invalid_skeleton(make_dataset, cli, mutation, pointer, words):
    findings = _findings(cli, _mutated(make_dataset, mutation), "PL409")
    assert findings and findings[0][:2] == ("PL409", pointer)
    assert words in findings[0][2]


def test_pl409_valid_skeleton_in_any_order_passes(make_cvat_export, cli):
    # the fork writes joints from a set: [[2, 4], [1, 2], [1, 3]]
    assert _findings(cli, make_cvat_export(), "PL409") == []


def test_pl409_skips_pairs_the_schema_rejects(make_dataset, cli):
    root = _mutated(make_dataset, "skeleton-string")
    assert _findings(cli, root, "PL409") == []
    assert [c for c, _, _ in _findings(cli, root, "PL310")] == ["PL310", "PL310"]


# --- PL410 bbox ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mutation", ["bbox-outside-image", "bbox-negative-origin"])
def test_pl410_bbox_outside_image(make_dataset, cli, mutation):
    findings = _findings(cli, _mutated(make_dataset, mutation), "PL410")
    assert [(c, p) for c, p, _ in findings] == [("PL410", "/annotations/0/bbox")]
    assert "outside its 64x48 image" in findings[0][2]


def test_pl410_one_pixel_tolerance_passes(make_dataset, cli):
    assert _findings(cli, _mutated(make_dataset, "bbox-within-tolerance"), "PL410") == []


def test_pl410_just_past_the_tolerance(make_dataset, cli):
    doc = clean_docs()["train"]
    doc["annotations"][0]["bbox"] = [0, 0, 65.01, 48]
    assert [c for c, _, _ in _findings(cli, _train(make_dataset, doc), "PL410")] == ["PL410"]


def test_bbox_shape_area_and_iscrowd_are_the_schemas(make_dataset, cli):
    # one layer owns each check: PL310 reports these, no PL4xx rule repeats them
    for mutation in ["bbox-negative-width", "bbox-three-numbers", "area-negative", "iscrowd-two"]:
        root = _mutated(make_dataset, mutation)
        assert {c for c, _, _ in _findings(cli, root, "PL3,PL4")} == {"PL310"}, mutation


def test_non_finite_bbox_is_rejected_by_the_parser(make_dataset, cli):
    root = make_dataset(images=False)
    path = root / "annotations" / "person_keypoints_train.json"
    text = path.read_text()
    path.write_text(text.replace('"bbox": [10.5,', '"bbox": [1e999,', 1))
    assert {c for c, _, _ in _findings(cli, root, "PL3,PL4")} == {"PL303"}


# --- PL411 file names -----------------------------------------------------------------------------


def test_pl411_duplicate_file_name(make_dataset, cli):
    findings = _findings(cli, _mutated(make_dataset, "duplicate-file-name"), "PL411")
    assert findings == [
        ("PL411", "/images/2/file_name", "file_name 'img_001.jpg' is already used by /images/0")
    ]


def test_pl411_same_name_in_another_folder_or_split_passes(make_dataset, cli):
    docs = clean_docs()
    docs["train"]["images"][2]["file_name"] = "nested/img_001.jpg"
    docs["val"]["images"][0]["file_name"] = "img_001.jpg"
    assert _findings(cli, make_dataset(docs, images=False), "PL411") == []


# --- PL412 category sets across splits ------------------------------------------------------------


def test_pl412_category_sets_differ(make_dataset, cli):
    docs = clean_docs()
    docs["val"]["categories"][0]["keypoints"] = ["nose", "left_eye", "left_ear", "right_eye"]
    docs["val"]["categories"][1]["id"] = 8
    findings = _findings(cli, make_dataset(docs, images=False), "PL412")
    assert all(f[0] == "PL412" for f in findings)
    messages = sorted(f[2] for f in findings)
    assert messages == [
        "category id 1 has a different keypoint names than in train's file",
        "category id 6 ('car') of train's file is missing here",
        "category id 8 is not in train's file",
    ]


def test_pl412_names_the_val_file(make_dataset, cli):
    docs = clean_docs()
    docs["val"]["categories"][0]["name"] = "human"
    result = cli("check", make_dataset(docs, images=False), "--format", "json", "--select", "PL412")
    [record] = result.json()
    assert record["path"].endswith("person_keypoints_val.json")
    assert record["pointer"] == "/categories/0"


def test_pl412_same_categories_with_skeleton_in_another_order_pass(make_dataset, cli):
    docs = clean_docs()
    docs["val"]["categories"][0]["skeleton"] = [[3, 1], [2, 1], [4, 2]]
    assert _findings(cli, make_dataset(docs, images=False), "PL412") == []


def test_pl412_single_split_has_nothing_to_compare(make_dataset, cli):
    assert (
        _findings(cli, make_dataset({"train": clean_docs()["train"]}, images=False), "PL412") == []
    )


# --- robustness: malformed entries are the schema's; no rule ever raises -------------------------


def test_malformed_entries_are_skipped_not_double_reported(make_dataset, cli):
    doc = coco(
        [image(1, "a.jpg"), "not an image", {"id": [1]}, image(2, "b.jpg", width="wide")],
        [
            person(1, 1, [1, 2, 2, 5, 8, 2] * 2),  # (a box around the points: not PL416)
            None,
            {"id": 2, "image_id": {"x": 1}, "category_id": [1], "keypoints": "1,2,2"},
            person(3, 2, [1, 2, 2, 5, 8, 2] * 2, bbox=["a", 0, 1, 1]),
        ],
        [PERSON, 7, {"id": 6, "keypoints": None, "skeleton": [[1, 2], "x"]}],
    )
    root = make_dataset({"train": doc}, images=False)  # one split: PL412 compares none
    assert {c for c, _, _ in _findings(cli, root, "PL3,PL4")} == {"PL310"}


@pytest.mark.parametrize("name", sorted(all_documents()))
def test_no_integrity_rule_raises_on_any_corpus_document(make_dataset, cli, name):
    doc = all_documents()[name]
    _findings(cli, _train(make_dataset, doc), "PL3,PL4")  # asserts no PL000


def test_every_integrity_rule_is_registered(cli):
    out = cli("rules").out
    for code in INTEGRITY:
        assert f"| {code} |" in out


def test_integrity_rules_report_a_pathological_file_without_stopping(make_dataset, cli):
    doc = clean_docs()["train"]
    doc["annotations"] = [person(i % 5, 99, [1, 2, 2] * 4) for i in range(500)]
    findings = _findings(cli, _train(make_dataset, doc))
    assert sum(c == "PL404" for c, _, _ in findings) == 500
    assert sum(c == "PL402" for c, _, _ in findings) == 495


# --- PL414 annotation-id-zero ------------------------------------------------------------------


def _cocoeval_ap_against_itself(doc):
    """AP (IoU .50:.95) of the file's own annotations, as detections, against the file."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = COCO()
    gt.dataset = doc
    gt.createIndex()
    dt = gt.loadRes([{**a, "score": 1.0} for a in doc["annotations"]])
    ev = COCOeval(gt, dt, "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return float(ev.stats[0])


def test_pl414_annotation_id_zero_is_what_cocoeval_cannot_match(make_dataset, cli):
    doc = clean_docs()["train"]
    assert _cocoeval_ap_against_itself(doc) == pytest.approx(1.0)
    doc["annotations"][1]["id"] = 0
    assert _cocoeval_ap_against_itself(doc) < 0.9  # the same boxes: one is now a miss
    assert _findings(cli, _train(make_dataset, doc), "PL414") == [
        (
            "PL414",
            "/annotations/1/id",
            "annotation id 0: COCOeval cannot mark it matched; give it an unused id > 0",
        )
    ]


def test_pl414_ids_from_1_and_image_id_0_pass(make_dataset, cli):
    docs = clean_docs()
    docs["val"]["images"][0]["id"] = 0  # an image id 0 is fine: COCOeval keys images by id
    docs["val"]["annotations"][0]["image_id"] = 0
    assert _findings(cli, make_dataset(docs, images=False), "PL414") == []


# --- PL415 zero-area / PL416 degenerate-bbox ---------------------------------------------------


def test_pl415_zero_area_on_a_labelled_person(make_dataset, cli):
    doc = clean_docs()["train"]
    doc["annotations"][0]["area"] = 0
    assert [(c, p) for c, p, _ in _findings(cli, _train(make_dataset, doc), "PL415")] == [
        ("PL415", "/annotations/0/area")
    ]


def test_pl415_zero_area_is_fine_without_labelled_points_or_on_a_crowd(make_dataset, cli):
    doc = clean_docs()["train"]
    doc["annotations"].append(person(3, 3, [0] * 12))  # area 0, nothing labelled
    doc["annotations"].append(person(4, 3, [1, 2, 2, 5, 6, 2] + [0] * 6, iscrowd=1, area=0))
    assert _findings(cli, _train(make_dataset, doc), "PL415") == []


def test_pl416_one_point_skeleton_has_a_zero_width_box(make_dataset, cli):
    """CVAT's box around a skeleton with one point (or points on a vertical line)."""
    doc = clean_docs()["train"]
    doc["annotations"].append(person(3, 3, [10, 12, 2, 10, 30, 1, 0, 0, 0, 0, 0, 0], area=5.0))
    findings = _findings(cli, _train(make_dataset, doc), "PL416")
    assert findings == [
        (
            "PL416",
            "/annotations/2/bbox",
            "bbox [10, 12, 0, 18] has zero width but the annotation has 2 labelled keypoints; "
            "draw the person's box",
        )
    ]


def test_pl416_zero_box_without_labelled_points_passes(make_dataset, cli):
    doc = clean_docs()["train"]
    doc["annotations"].append(person(3, 3, [0] * 12))  # bbox [0, 0, 0, 0]: nothing labelled
    assert _findings(cli, _train(make_dataset, doc), "PL416") == []


# --- PL417 invalid-polygon ---------------------------------------------------------------------

SQUARE = [10.0, 10.0, 30.0, 10.0, 30.0, 30.0, 10.0, 30.0]


def test_pl417_polygons_that_are_not_polygons_or_leave_the_image(make_dataset, cli):
    doc = clean_docs()["train"]  # image 1 is 64x48
    doc["annotations"][0]["segmentation"] = [SQUARE, [1, 2, 3, 4], [1, 2, 3, 4, 5, 6, 7]]
    doc["annotations"][1]["segmentation"] = [SQUARE, [5, 5, 85.5, 5, 40, 50]]  # image 2: 80x60
    assert _findings(cli, _train(make_dataset, doc), "PL417") == [
        (
            "PL417",
            "/annotations/0/segmentation/1",
            "polygon has 4 values (2 points); a polygon needs 3 or more x, y pairs",
        ),
        (
            "PL417",
            "/annotations/0/segmentation/2",
            "polygon has 7 values (an odd number of values); a polygon needs 3 or more x, y pairs",
        ),
        (
            "PL417",
            "/annotations/1/segmentation/1",
            "polygon reaches outside its 80x60 image by more than 1 px (x 5 .. 85.5, y 5 .. 50)",
        ),
    ]


def test_polygon_table_from_text_equals_the_one_from_lists():
    """The compact parse's text (numbers parsed by numpy) and an exact parse's lists give the
    same polygons: odd, empty, spaced, negative and exponent numbers included."""
    segmentations = [
        [SQUARE, [1, 2, 3, 4], [1, 2, 3, 4, 5, 6, 7], []],
        {"counts": [0, 12], "size": [48, 64]},
        [[-1.5, 2e-3, 3, 4.25, 1e2, 6]],
        [],
        [[7]],
    ]
    texts = [orjson.dumps(s) for s in segmentations]
    texts[0] = texts[0].replace(b",", b", ").replace(b"[]", b"[ ]")
    exact = [{"segmentation": s} for s in segmentations]
    compact = [{"segmentation": msgspec.Raw(t)} for t in texts]
    text = store_polygons(compact)
    for a, b in [(polygon_table(compact, text), polygon_table(exact, None))]:
        assert a.ann.tolist() == b.ann.tolist() == [0, 0, 0, 0, 2, 4]
        assert a.length.tolist() == b.length.tolist() == [8, 4, 7, 0, 6, 1]
        assert a.values.tolist() == pytest.approx(b.values.tolist())
        assert a.values[-7:-1].tolist() == [-1.5, 0.002, 3, 4.25, 100, 6]


def test_pl417_an_integer_beyond_float_range_is_no_internal_error(make_dataset, cli):
    """The exact parse (--fix, --diff) keeps a 400-digit integer as a Python int: its polygon
    is left out like one holding any other value that is no finite number, not an
    OverflowError reported as PL000."""
    assert polygon_table(
        [{"segmentation": [[10**400, 1, 2, 3, 4, 5], SQUARE]}], None
    ).length.tolist() == [8]
    doc = clean_docs()["train"]
    doc["annotations"][0]["segmentation"] = [["HUGE", 10, 30, 10, 30, 30]]
    root = _train(make_dataset, doc)
    path = root / "annotations" / "person_keypoints_train.json"
    path.write_text(path.read_text().replace('"HUGE"', "1" * 400))
    result = cli("check", root, "--fix", "--format", "json", "--select", "PL417")
    assert (result.code, result.json()) == (0, [])


def test_pl417_a_short_polygon_does_not_stretch_its_neighbours(make_dataset, cli):
    """Each polygon's extent is its own, also next to a 2-point one far outside."""
    doc = clean_docs()["train"]
    doc["annotations"][0]["segmentation"] = [SQUARE, [100, 100, 200, 200], SQUARE, []]
    assert [p for _, p, _ in _findings(cli, _train(make_dataset, doc), "PL417")] == [
        "/annotations/0/segmentation/1",
        "/annotations/0/segmentation/3",
    ]


def test_pl417_edge_touching_polygons_rle_and_cvat_empty_segmentation_pass(make_dataset, cli):
    doc = clean_docs()["train"]
    doc["annotations"][0]["segmentation"] = [[0, 0, 64, 0, 65, 49, -1, 48], SQUARE]
    doc["annotations"][1]["segmentation"] = []  # what CVAT writes for a skeleton
    doc["annotations"].append(
        person(3, 3, [0] * 12, iscrowd=1, segmentation={"counts": [0, 12], "size": [48, 64]})
    )
    assert _findings(cli, _train(make_dataset, doc), "PL417") == []


def test_pl417_reads_real_coco_polygons(tmp_path, cli):
    """mmpose's test_coco.json holds real COCO-2017 polygons: none is flagged."""
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    (root / "images" / "val").mkdir(parents=True)
    shutil.copy(
        REAL / "mmpose" / "coco" / "test_coco.json",
        root / "annotations" / "person_keypoints_val.json",
    )
    assert _findings(cli, root, "PL417") == []


# --- PL418 mixed-keypoint-name-style -----------------------------------------------------------


def test_pl418_mixed_name_styles_in_one_category(make_dataset, cli):
    doc = clean_docs()["train"]
    doc["categories"][0]["keypoints"] = ["nose", "left eye", "right_eye", "left_ear"]
    findings = _findings(cli, _train(make_dataset, doc), "PL418")
    assert findings == [
        (
            "PL418",
            "/categories/0/keypoints/1",
            "keypoint name 'left eye' joins words with ' ', while 2 others use '_' "
            "(e.g. 'right_eye')",
        )
    ]
    result = cli("check", _train(make_dataset, doc), "--format", "json", "--select", "PL418")
    assert result.code == 0 and [r["severity"] for r in result.json()] == ["warning"]


@pytest.mark.parametrize(
    "names",
    [
        ["nose", "left_eye", "right_eye", "left_ear"],
        ["nose", "left eye", "right eye", "left ear"],
        ["nose", "leftEye", "rightEye", "leftEar"],
        ["1", "2", "3", "4"],
    ],
)
def test_pl418_one_style_per_category_passes(make_dataset, cli, names):
    doc = clean_docs()["train"]
    doc["categories"][0]["keypoints"] = names
    assert _findings(cli, _train(make_dataset, doc), "PL418") == []
