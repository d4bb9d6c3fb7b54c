"""PL6xx: one clean and one broken case per rule, on real datasets, with exact pointers."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from builders import SAMPLES, build_dataset, clean_docs, coco, image, person
from conftest import codes_for

KP4 = [10, 12, 2, 20, 10, 1, 30, 20, 2, 25, 15, 2]  # four labelled points inside 64x48


def _docs(annotations: list[dict[str, Any]], width: int = 64, height: int = 48) -> dict:
    docs = clean_docs()
    docs["train"] = coco([image(1, "img_001.jpg", width, height)], annotations)
    return docs


def _findings(cli: Any, root: Path, code: str, *extra: object) -> list[dict[str, Any]]:
    result = cli("check", root, "--format", "json", *extra)
    assert result.code in (0, 1), result
    assert "PL000" not in result.codes(), result
    return [d for d in result.json() if d["code"] == code]


def _pointers(cli: Any, root: Path, code: str, *extra: object) -> list[str]:
    return sorted(str(d["pointer"]) for d in _findings(cli, root, code, *extra))


def test_clean_dataset_has_no_visibility_findings(make_dataset, cli):
    root = make_dataset()
    assert not {c for c in codes_for(cli, root) if c.startswith("PL6")}


# --- PL601 outside-point-not-zeroed ---------------------------------------------------------


def test_pl601_outside_point_keeping_coordinates(make_dataset, cli):
    kps = [10, 12, 2, 33, 44, 0, 0, 0, 0, 25, 15, 2]  # keypoint 1 outside at (33, 44)
    root = make_dataset(_docs([person(1, 1, kps)]))
    [d] = _findings(cli, root, "PL601")
    assert d["pointer"] == "/annotations/0/keypoints/3"
    assert "(33, 44)" in str(d["message"]) and "left_eye" in str(d["message"])
    assert d["fixable"] is True and d["severity"] == "error"


def test_pl601_only_x_or_only_y_non_zero(make_dataset, cli):
    kps = [5, 0, 0, 0, 7, 0, 0, 0, 0, 25, 15, 2]
    root = make_dataset(_docs([person(1, 1, kps)]))
    assert _pointers(cli, root, "PL601") == [
        "/annotations/0/keypoints/0",
        "/annotations/0/keypoints/3",
    ]


def test_pl601_zeroed_outside_points_are_clean(make_dataset, cli):
    kps = [10, 12, 2, 0, 0, 0, 0, 0, 0, 25, 15, 2]
    root = make_dataset(_docs([person(1, 1, kps)]))
    assert _findings(cli, root, "PL601") == []


def test_pl601_is_a_no_op_when_zero_outside_keypoints_is_false(make_dataset, cli, tmp_path):
    kps = [10, 12, 2, 33, 44, 0, 0, 0, 0, 25, 15, 2]
    root = make_dataset(_docs([person(1, 1, kps)]))
    config = tmp_path / "poselint.toml"
    config.write_text("zero_outside_keypoints = false\n")
    assert _findings(cli, root, "PL601", "--config", config) == []
    config.write_text("zero_outside_keypoints = true\n")
    assert len(_findings(cli, root, "PL601", "--config", config)) == 1


def test_cvat_fork_export_reports_exactly_its_visibility_errors(make_cvat_export, cli):
    """The real CVAT-fork export keeps drawn coordinates on 4 outside points: those, and
    only those, are PL6xx errors (its all-outside skeleton would be PL606, which is opt-in)."""
    root = make_cvat_export()
    result = cli("check", root, "--format", "json")
    assert "PL000" not in result.codes()
    found = {
        (Path(str(d["path"])).name, d["code"], d["pointer"], d["severity"])
        for d in result.json()
        if str(d["code"]).startswith(("PL5", "PL6"))
    }
    train = "person_keypoints_Train.json"
    assert found == {
        (train, "PL601", "/annotations/0/keypoints/6", "error"),  # right_eye at (900, -20)
        (train, "PL601", "/annotations/2/keypoints/3", "error"),
        (train, "PL601", "/annotations/2/keypoints/6", "error"),
        (train, "PL601", "/annotations/2/keypoints/9", "error"),
    }


@pytest.mark.parametrize(
    "sample",
    ["datumaro-tests", "cvat-datumaro-tests", "datumaro-export/pypi-datumaro-1.13.12"],
)
def test_other_samples_have_no_false_visibility_errors(tmp_path, cli, sample):
    docs = {
        f.stem.removeprefix("person_keypoints_"): json.loads(f.read_text())
        for f in sorted((SAMPLES / sample / "annotations").glob("person_keypoints_*.json"))
    }
    root = build_dataset(tmp_path / "ds", docs)
    result = cli("check", root, "--format", "json")
    assert "PL000" not in result.codes()
    codes = {str(d["code"]) for d in result.json() if d["code"].startswith(("PL5", "PL6"))}
    # the upstream Datumaro export keeps outside coordinates too, exactly like the fork; and
    # its Validation split's only person has every point outside: nobody labelled (PL608)
    expected = {"PL601", "PL608"} if "pypi" in sample else set()
    assert codes == expected


# --- PL602 invalid-visibility-flag ------------------------------------------------------------


@pytest.mark.parametrize("flag", [3, -1, 1.5, 7])
def test_pl602_flag_outside_0_1_2(make_dataset, cli, flag):
    kps = [10, 12, 2, 20, 10, flag, 0, 0, 0, 25, 15, 2]
    root = make_dataset(_docs([person(1, 1, kps, num_keypoints=3)]))
    [d] = _findings(cli, root, "PL602")
    assert d["pointer"] == "/annotations/0/keypoints/5"


def test_pl602_accepts_0_1_2_also_written_as_floats(make_dataset, cli):
    kps = [10, 12, 2.0, 20, 10, 1.0, 0, 0, 0.0, 25, 15, 2]
    root = make_dataset(_docs([person(1, 1, kps)]))
    assert _findings(cli, root, "PL602") == []


def test_pointer_of_annotation_17_keypoint_26_is_exact(make_dataset, cli):
    """The brief's example: the v of keypoint 8 of the 18th annotation is value 26."""
    cat = {"id": 1, "name": "person", "supercategory": "", "skeleton": [],
           "keypoints": [f"k{i}" for i in range(9)]}  # fmt: skip
    kps = [10, 12, 2] * 8 + [20, 10, 5]
    anns = [person(i + 1, 1, [10, 12, 2] * 9) for i in range(17)]
    anns.append(person(18, 1, kps, num_keypoints=9))
    docs = clean_docs()
    docs["train"] = coco([image(1, "img_001.jpg")], anns, [cat])
    docs["val"]["categories"] = [cat]
    docs["val"]["annotations"] = [person(1, 4, [5, 6, 2] * 9)]
    root = make_dataset(docs)
    assert _pointers(cli, root, "PL602") == ["/annotations/17/keypoints/26"]


# --- PL603 num-keypoints-mismatch -------------------------------------------------------------


def test_pl603_num_keypoints_differs_from_labelled_count(make_dataset, cli):
    root = make_dataset(_docs([person(1, 1, KP4), person(2, 1, KP4, num_keypoints=2)]))
    [d] = _findings(cli, root, "PL603")
    assert d["pointer"] == "/annotations/1/num_keypoints"
    assert "is 2 but 4" in str(d["message"]) and d["fixable"] is True


def test_pl603_counts_v1_and_v2_but_not_v0(make_dataset, cli):
    kps = [10, 12, 1, 0, 0, 0, 0, 0, 0, 25, 15, 2]
    root = make_dataset(_docs([person(1, 1, kps, num_keypoints=2)]))
    assert _findings(cli, root, "PL603") == []


# --- PL604 labelled-point-outside-image -------------------------------------------------------


def test_pl604_labelled_point_outside_frame(make_dataset, cli):
    # more than 1 px past the right edge, or above the top: y < -1 points at the y value
    kps = [65.5, 12, 2, 20, -3, 1, 0, 0, 0, 25, 15, 2]
    root = make_dataset(_docs([person(1, 1, kps)]))
    found = _findings(cli, root, "PL604")
    assert sorted(str(d["pointer"]) for d in found) == [
        "/annotations/0/keypoints/0",
        "/annotations/0/keypoints/4",
    ]
    assert all("64x48" in str(d["message"]) for d in found)


def test_pl604_points_inside_and_outside_points_with_v0_are_clean(make_dataset, cli):
    kps = [63.9, 47.5, 2, 0, 0, 1, 0, 0, 0, 25, 15, 2]  # (0,0) v=1 is PL605, not PL604
    root = make_dataset(_docs([person(1, 1, kps)]))
    assert _findings(cli, root, "PL604") == []
    kps = [10, 12, 2, 900, -20, 0, 0, 0, 0, 25, 15, 2]  # outside the frame but v=0
    root = make_dataset(_docs([person(1, 1, kps)]))
    assert _findings(cli, root, "PL604", "--ignore", "PL601") == []


def test_pl604_points_on_the_right_and_bottom_edge_are_inside(make_dataset, cli):
    """COCO coordinates are continuous: x == width is the right edge (a real COCO right ankle
    sits at y = 385 in a 385 px high image), and PL410's 1 px slack applies to points too."""
    kps = [64, 12, 2, 20, 48, 1, 0, 0, 0, 65, 49, 2, -1, -1, 2]
    names = ["nose", "left_eye", "right_eye", "left_ear", "right_ear"]
    category = {"id": 1, "name": "person", "keypoints": names, "skeleton": []}
    docs = _docs([person(1, 1, kps)])
    docs["train"]["categories"] = docs["val"]["categories"] = [category]
    docs["val"]["annotations"][0]["keypoints"] += [0, 0, 0]
    root = make_dataset(docs)
    assert _findings(cli, root, "PL604") == []
    docs["train"]["annotations"][0]["keypoints"][9:15] = [65.01, 20, 2, 20, -1.01, 2]
    root = make_dataset(docs)
    assert _pointers(cli, root, "PL604") == [
        "/annotations/0/keypoints/13",
        "/annotations/0/keypoints/9",
    ]


def test_pl604_uses_each_annotation_s_own_image(make_dataset, cli):
    docs = clean_docs()
    docs["train"] = coco(
        [image(1, "small.jpg", 32, 24), image(2, "big.jpg", 200, 100)],
        [person(1, 2, [150, 80, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
         person(2, 1, [150, 80, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    )  # fmt: skip
    root = make_dataset(docs)
    assert _pointers(cli, root, "PL604") == ["/annotations/1/keypoints/0"]


# --- PL605 labelled-point-at-origin -----------------------------------------------------------


def test_pl605_labelled_point_at_origin_is_a_warning(make_dataset, cli):
    kps = [10, 12, 2, 0, 0, 2, 0, 0, 0, 25, 15, 2]
    root = make_dataset(_docs([person(1, 1, kps)]))
    [d] = _findings(cli, root, "PL605")
    assert d["pointer"] == "/annotations/0/keypoints/3" and d["severity"] == "warning"


def test_pl605_not_for_unlabelled_or_near_origin_points(make_dataset, cli):
    kps = [0, 0, 0, 0, 0.5, 2, 1, 0, 2, 25, 15, 2]
    root = make_dataset(_docs([person(1, 1, kps)]))
    assert _findings(cli, root, "PL605") == []


# --- PL606 empty-annotation -------------------------------------------------------------------


def test_pl606_is_opt_in_coco_keeps_such_people_as_ignore_regions(make_dataset, cli):
    """COCO keeps people with num_keypoints 0 on purpose: off by default, listed on request."""
    root = make_dataset(_docs([person(1, 1, KP4), person(2, 1, [0] * 12)]))
    result = cli("check", root, "--format", "json")
    assert result.code == 0 and "PL606" not in result.codes(), result
    [d] = _findings(cli, root, "PL606", "--select", "PL606")
    assert d["pointer"] == "/annotations/1" and d["severity"] == "warning"
    assert "ignore region" in str(d["message"])
    assert _findings(cli, root, "PL606", "--select", "PL6") == []  # only by its exact code


def test_pl606_people_with_num_keypoints_0_are_cocoeval_ignore_regions():
    """Why PL606 is opt-in: a detection on a num_keypoints-0 person is not a false positive
    (COCOeval ignores it); deleting that person turns the same detection into one."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    kps = [10, 12, 2, 20, 10, 1, 30, 20, 2, 25, 15, 2] + [0] * 39
    ignored = {**person(2, 1, [0] * 51), "bbox": [40.0, 5.0, 20.0, 30.0], "area": 600.0}
    category = {"id": 1, "name": "person", "keypoints": [f"k{i}" for i in range(17)]}

    def ap50(annotations: list[dict[str, Any]]) -> float:
        gt = COCO()
        gt.dataset = coco([image(1, "a.jpg", 64, 48)], annotations, [category])
        gt.createIndex()
        detections = [
            {"image_id": 1, "category_id": 1, "keypoints": kps, "score": 0.9},
            {"image_id": 1, "category_id": 1, "score": 0.95, "keypoints": [50, 20, 2] * 17},
        ]
        dt = gt.loadRes(detections)
        ev = COCOeval(gt, dt, "keypoints")
        ev.evaluate()
        ev.accumulate()
        return float(ev.stats[1]) if ev.summarize() is None else -1.0

    first = {**person(1, 1, kps), "area": 400.0}
    assert ap50([first, ignored]) == pytest.approx(1.0)  # the 0.95 detection sits on it
    assert ap50([first]) < 0.6  # without it, the same detection is a false positive


# --- PL607 point-far-outside-bbox -------------------------------------------------------------


def test_pl607_point_far_outside_its_bbox(make_dataset, cli):
    ann = person(1, 1, [10, 10, 2, 12, 12, 2, 0, 0, 0, 60, 40, 2])
    ann["bbox"] = [9.0, 9.0, 4.0, 4.0]  # (60, 40) is 47 px right of a 4 px box
    root = make_dataset(_docs([ann]))
    [d] = _findings(cli, root, "PL607")
    assert d["pointer"] == "/annotations/0/keypoints/9" and d["severity"] == "warning"


def test_pl607_points_near_the_bbox_are_fine(make_dataset, cli):
    ann = person(1, 1, [10, 10, 2, 12, 12, 2, 0, 0, 0, 16, 17, 2])
    ann["bbox"] = [9.0, 9.0, 4.0, 4.0]  # 3-4 px outside, within one box size
    root = make_dataset(_docs([ann]))
    assert _findings(cli, root, "PL607") == []


# --- never a traceback ------------------------------------------------------------------------

MALFORMED: list[Any] = [
    "not a list",
    None,
    [1, 2],  # not a multiple of 3
    [1, True, 2],
    [1, 2, False],
    [1, "2", 2],
    [None, 1, 2],
    [[1], 2, 2],
    [{"x": 1}, 2, 2],
]


@pytest.mark.parametrize("keypoints", MALFORMED)
def test_malformed_keypoints_never_crash_and_are_left_to_the_schema(make_dataset, cli, keypoints):
    bad = person(2, 1, KP4)
    bad["keypoints"] = keypoints
    dangling = person(3, 99, [70, 70, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0])  # image 99 does not exist
    bool_image = person(4, 1, [70, 70, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    bool_image["image_id"] = True
    docs = _docs([person(1, 1, KP4), bad, "not an object", dangling, bool_image])  # type: ignore[list-item]
    root = make_dataset(docs)
    result = cli("check", root, "--format", "json")
    assert "PL000" not in result.codes(), result
    pointers = {str(d["pointer"]) for d in result.json() if str(d["code"]).startswith("PL6")}
    # nothing about the malformed list (the schema owns it), no image size for unresolved ids
    assert not [p for p in pointers if p.startswith(("/annotations/1/", "/annotations/2"))]
    assert not any(
        d["code"] == "PL604" and str(d["pointer"]).startswith(("/annotations/3", "/annotations/4"))
        for d in result.json()
    )


@pytest.mark.parametrize("huge", [1e308, 2**63, 2**64 - 1])
def test_huge_coordinates_are_numbers_outside_the_image(make_dataset, cli, huge):
    ann = person(1, 1, [huge, 12, 2, 0, 0, 0, 0, 0, 0, 25, 15, 2], bbox=[0, 0, 9, 9], area=81.0)
    root = make_dataset(_docs([ann]))
    assert _pointers(cli, root, "PL604") == ["/annotations/0/keypoints/0"]


def test_a_huge_bbox_overflows_quietly(make_dataset, cli):
    ann = person(1, 1, KP4, bbox=[1e308, 1e308, 1e308, 1e308], area=81.0)  # x + w is inf
    root = make_dataset(_docs([ann]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy's overflow warning -> PL000
        assert _pointers(cli, root, "PL410") == ["/annotations/0/bbox"]
        assert _pointers(cli, root, "PL607") == []  # s = 1e308: the window reaches x, y = 0


def test_pl601_findings_beyond_the_cap_are_counted_not_listed(make_dataset, cli, tmp_path):
    stale = [5, 5, 0] * 4  # four outside points with coordinates per person
    root = make_dataset(_docs([person(i + 1, 1, stale) for i in range(5)]))
    (tmp_path / "poselint.toml").write_text("max_findings_per_file = 3\n")
    found = _findings(cli, root, "PL601")
    assert len(found) == 4 and "and 17 more PL601 findings" in str(found[-1]["message"])
    assert [d["pointer"] for d in found[:3]] == [
        "/annotations/0/keypoints/0",
        "/annotations/0/keypoints/3",
        "/annotations/0/keypoints/6",
    ]


def test_every_summary_counts_the_findings_past_the_cap(make_dataset, cli, tmp_path):
    """The "... and N more" line counted as one finding: "Found 4 errors (4 fixable)" for 20
    stale points, where --diff said "would fix 20". The summary line, the max_per_rule note,
    and the HTML totals and rule table count findings, as --statistics does."""
    stale = [5, 5, 0] * 4
    root = make_dataset(_docs([person(i + 1, 1, stale) for i in range(5)]))
    (tmp_path / "poselint.toml").write_text("max_findings_per_file = 3\nmax_per_rule = 2\n")
    out = cli("check", root, "--select", "PL601").out.splitlines()
    assert out[-2:] == [
        "PL601: 18 more not shown (max_per_rule=2; --format json lists them)",
        "Found 20 errors and 0 warnings (20 fixable with --unsafe-fixes: "
        "run `poselint check --fix --unsafe-fixes`).",
    ], out
    assert "would fix 20 outside points" in cli("check", root, "--diff", "--unsafe-fixes").out
    cli("check", root, "--select", "PL601", "--format", "html", "--output", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert '<span class="error" id="total-errors">20 errors</span>' in html
    assert "<span>0 fixable with" in html  # PL601's fix is unsafe: not what --fix does
    assert "<span>20 more fixable with <code>--fix --unsafe-fixes</code></span>" in html
    assert re.search(r'<td class="mono">PL601</td>.*?<td class="num">20</td>', html), html


# --- --statistics: true totals past max_findings_per_file --------------------------------------


def test_statistics_counts_every_finding_not_the_capped_list(make_dataset, cli):
    """A raw export with 12,800 stale outside points: the report keeps 10,000 (the cap) but
    --statistics prints the real total, with the rule's name and severity."""
    stale = [33, 44, 0] * 4
    annotations = [person(i, 1, stale, bbox=[0.0, 0.0, 8.0, 8.0]) for i in range(1, 3201)]
    root = make_dataset(_docs(annotations), images=False)
    out = cli("check", root, "--statistics", "--select", "PL601,PL605,PL606").out
    assert out.splitlines() == [
        f"{12_800:>7}\tPL601\toutside-point-not-zeroed\terror",  # [*]: with --unsafe-fixes
        f"{3_200:>7}\tPL606\tempty-annotation\twarning",
    ], out
    listed = [d for d in cli("check", root, "--format", "json").json() if d["code"] == "PL601"]
    assert len(listed) == 10_001  # 10,000 findings and the "... and 2,800 more" line


# --- PL608: nobody to learn from -------------------------------------------------------------


def test_pl608_a_split_with_no_annotations(make_dataset, cli):
    """A CVAT export of Points labels: one category per point, no keypoint names, nothing in
    annotations. pycocotools loads it; training sees nobody."""
    docs = _docs([])
    docs["train"]["categories"] = [
        {"id": i + 1, "name": name, "supercategory": "", "keypoints": [], "skeleton": []}
        for i, name in enumerate(["nose", "left_eye", "right_eye"])
    ]
    root = make_dataset(docs, images=False)
    assert [(d["path"], d["pointer"], d["message"]) for d in _findings(cli, root, "PL608")] == [
        (
            f"{root.name}/annotations/person_keypoints_train.json",
            "/annotations",
            "the split has no annotations; no category names a keypoint (CVAT Points labels? "
            "export a Skeleton): nobody to train or evaluate on in this split",
        )
    ]


def test_pl608_only_crowds_and_unlabelled_people(make_dataset, cli):
    crowd = person(1, 1, [0, 0, 0] * 17, iscrowd=1)
    unlabelled = person(2, 1, [0, 0, 0] * 17)
    root = make_dataset(_docs([crowd, unlabelled]), images=False)
    [d] = _findings(cli, root, "PL608")
    assert d["message"] == (
        "none of its 2 annotations is a person with a labelled keypoint: nobody to train or "
        "evaluate on in this split"
    )
    assert d["severity"] == "error"


def test_pl608_quiet_with_one_labelled_person_or_keypoints_other_rules_own(make_dataset, cli):
    labelled = person(2, 1, [10, 10, 2] + [0, 0, 0] * 16)
    crowd = person(1, 1, [0, 0, 0] * 17, iscrowd=1)
    assert _findings(cli, make_dataset(_docs([crowd, labelled]), images=False), "PL608") == []
    pairs = {**person(3, 1, [0, 0, 0] * 17), "keypoints": [10, 10] * 17}  # PL407's, not "nobody"
    assert _findings(cli, make_dataset(_docs([pairs]), images=False, name="pairs"), "PL608") == []
    assert cli("check", make_dataset(name="clean"), "--format", "json").json() == []
