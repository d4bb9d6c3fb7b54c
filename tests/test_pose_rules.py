"""PL703-PL705: duplicate people, left/right swaps, implausible limbs. Each has a clean case
(plausible people, and real COCO, OCHuman and PoseTrack18 people from tests/data/real/mmpose)
and a broken one with its exact pointer and message."""

from __future__ import annotations

import copy
import json
import random
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest

from builders import PERSON, SAMPLES, build_dataset, coco, image, person
from poselint.contract import COCO_KEYPOINTS

MMPOSE = Path(__file__).parent / "data" / "real" / "mmpose"
REAL = [
    MMPOSE / "coco" / "test_coco.json",
    MMPOSE / "ochuman" / "test_ochuman.json",
    MMPOSE / "posetrack18" / "test_posetrack18_val.json",
]
COCO_SKELETON = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
    [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip
# A person facing the camera (their left on the image's right), 36 x 113 px.
TEMPLATE = [
    (50, 20), (53, 17), (47, 17), (56, 19), (44, 19), (62, 35), (38, 35), (66, 55), (34, 55),
    (68, 73), (32, 73), (58, 80), (42, 80), (59, 105), (41, 105), (60, 130), (40, 130),
]  # fmt: skip
K = {name: k for k, name in enumerate(COCO_KEYPOINTS)}
PL7 = "PL7,PL704,PL705"  # PL704 and PL705 are opt-in: named by their codes


def _category() -> dict[str, Any]:
    cat = copy.deepcopy(PERSON)
    cat["keypoints"] = list(COCO_KEYPOINTS)
    cat["skeleton"] = COCO_SKELETON
    return cat


def _pose(rng: random.Random, dx: float, dy: float, scale: float) -> list[float]:
    kp: list[float] = []
    for x, y in TEMPLATE:
        kp += [
            round(dx + scale * x + rng.uniform(-1.5, 1.5), 2),
            round(dy + scale * y + rng.uniform(-1.5, 1.5), 2),
            2,
        ]
    return kp


def _people(n: int = 12, per_image: int = 2) -> dict[str, Any]:
    """n plausible people, per_image side by side on each 400x300 image."""
    rng = random.Random(7)
    images, anns = [], []
    for i in range(n):
        img = i // per_image + 1
        if i % per_image == 0:
            images.append(image(img, f"img_{img:03d}.jpg", 400, 300))
        scale = rng.uniform(1.2, 2.0)
        kp = _pose(rng, 10 + 180 * (i % per_image), 10, scale)
        anns.append(person(i + 1, img, kp))
    return coco(images, anns, [_category()])


def _root(tmp_path: Path, train: dict[str, Any]) -> Path:
    val = coco([image(1, "v.jpg", 400, 300)], [], [_category()])
    return build_dataset(tmp_path / "data", {"train": train, "val": val})


def _root_as_is(tmp_path: Path, train: dict[str, Any]) -> Path:
    """A real file as the train split, its own categories in an empty val split."""
    val = coco([image(1, "v.jpg", 400, 300)], [], copy.deepcopy(train["categories"]))
    return build_dataset(tmp_path / "data", {"train": train, "val": val})


def _found(cli: Any, root: Path, code: str, *extra: object) -> list[tuple[str, str, str]]:
    result = cli("check", root, "--format", "json", "--select", PL7, *extra)
    assert result.code in (0, 1), result
    assert "PL000" not in result.codes(), result
    return sorted(
        (str(d["pointer"]), str(d["message"]), str(d["severity"]))
        for d in result.json()
        if d["code"] == code
    )


def test_plausible_people_have_no_pose_findings(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path, _people())
    result = cli("check", root, "--format", "json", "--select", PL7)
    assert result.code == 0 and result.json() == [], result


@pytest.mark.parametrize(
    "sample",
    [*REAL, *sorted(SAMPLES.rglob("person_keypoints_*.json"))],
    ids=lambda p: p.parent.parent.name + "/" + p.name if "samples" in str(p) else p.name,
)
def test_real_annotations_have_no_pose_errors(tmp_path: Path, cli: Any, sample: Path) -> None:
    root = tmp_path / "data"
    (root / "annotations").mkdir(parents=True)
    shutil.copy(sample, root / "annotations" / "person_keypoints_train.json")
    (root / "images" / "train").mkdir(parents=True)
    result = cli("check", root, "--format", "json", "--select", PL7)
    found = [(d["code"], d["pointer"]) for d in result.json()]
    if sample.name == "test_posetrack18_val.json":
        # knees that cross, a seated person seen from the side (hips 13 px apart, against the
        # shoulders), and a hip width against a crouched body: real poses that the opt-in
        # checks flag (docs/pose-checks.md counts them)
        assert found == [
            ("PL704", "/annotations/1/keypoints/39"),
            ("PL704", "/annotations/5/keypoints/33"),
            ("PL705", "/annotations/0/keypoints/36"),
        ]
    elif sample.name == "person_keypoints_Validation.json" and "datumaro-fork" in str(sample):
        # a one-person fixture whose face points lie on a line, the right eye twice as far
        # from the nose as the left: COCO's proportions let PL705 judge even one person
        assert found == [("PL705", "/annotations/0/keypoints/6")]
    else:
        assert found == []


def test_swap_and_limb_checks_are_opt_in(tmp_path: Path, cli: Any) -> None:
    """PL704 and PL705 are not yet quiet on real clean data (docs/pose-checks.md: several
    warnings per 100 real COCO people), so a plain check leaves them out."""
    doc = _people()
    _swap(doc["annotations"][5], "left_hip", "right_hip")
    kp = doc["annotations"][4]["keypoints"]
    e, w = K["left_elbow"], K["left_wrist"]
    kp[3 * w] = kp[3 * e] + 2.5 * (kp[3 * w] - kp[3 * e])
    kp[3 * w + 1] = kp[3 * e + 1] + 2.5 * (kp[3 * w + 1] - kp[3 * e + 1])
    root = _root(tmp_path, doc)
    # _root's val split holds nobody (PL608 would say so): the train people are under test
    result = cli("check", root, "--format", "json", "--ignore", "PL608")
    assert result.code == 0 and result.json() == [], result
    assert cli("check", root, "--format", "json", "--select", PL7).codes() == {"PL704", "PL705"}


# --- PL703 duplicate-person ------------------------------------------------------------


def test_duplicate_person(tmp_path: Path, cli: Any) -> None:
    doc = _people()
    twin = copy.deepcopy(doc["annotations"][3])
    twin["id"] = 99
    twin["keypoints"] = [v + 0.5 if i % 3 != 2 else v for i, v in enumerate(twin["keypoints"])]
    doc["annotations"].append(twin)
    root = _root(tmp_path, doc)
    found = _found(cli, root, "PL703")
    assert len(found) == 1
    pointer, message, severity = found[0]
    assert (pointer, severity) == ("/annotations/12", "error")
    assert message.startswith("annotation duplicates annotations/3 (id 4) on the same image: OKS")
    assert message.endswith(">= duplicate_oks 0.95; delete one of them")
    # a stricter threshold lets a half-pixel shift through
    (tmp_path / "poselint.toml").write_text("duplicate_oks = 0.9999\n")
    assert _found(cli, root, "PL703") == []


def test_partial_duplicate_is_found_from_the_smaller_side(tmp_path: Path, cli: Any) -> None:
    doc = _people()
    twin = copy.deepcopy(doc["annotations"][0])
    twin["id"] = 99
    for k in range(8, 17):  # only the head and arms labelled again
        twin["keypoints"][3 * k : 3 * k + 3] = [0, 0, 0]
    twin["num_keypoints"] = 8
    doc["annotations"].append(twin)
    assert [f[0] for f in _found(cli, _root(tmp_path, doc), "PL703")] == ["/annotations/12"]


def test_duplicate_of_a_person_with_two_labelled_points(tmp_path: Path, cli: Any) -> None:
    """A tenth of COCO's people have one or two labelled points; their copies are duplicates
    too. A full person whose nose lands on such a person's only point is not: the copy must
    label exactly the same points."""
    doc = _people()
    for ann in doc["annotations"][:2]:  # people 0 and 1: only the nose and left_eye labelled
        for k in range(2, 17):
            ann["keypoints"][3 * k : 3 * k + 3] = [0, 0, 0]
        ann["num_keypoints"] = 2
    twin = copy.deepcopy(doc["annotations"][0])
    twin["id"] = 99
    twin["keypoints"] = [v + 0.2 if i % 3 != 2 else v for i, v in enumerate(twin["keypoints"])]
    doc["annotations"].append(twin)
    stranger = copy.deepcopy(doc["annotations"][2])  # a full person on person 1's image
    stranger["id"] = 100
    stranger["image_id"] = doc["annotations"][1]["image_id"]
    nose = doc["annotations"][1]["keypoints"][:2]
    kp = stranger["keypoints"]
    dx, dy = nose[0] - kp[0], nose[1] - kp[1]
    stranger["keypoints"] = [v + (dx, dy, 0)[i % 3] for i, v in enumerate(kp)]
    doc["annotations"].append(stranger)
    found = _found(cli, _root(tmp_path, doc), "PL703")
    assert [f[0] for f in found] == ["/annotations/12"]
    assert found[0][1].startswith("annotation duplicates annotations/0 (id 1) on the same image")


def test_people_side_by_side_are_not_duplicates(tmp_path: Path, cli: Any) -> None:
    doc = _people(n=12, per_image=4)  # four people on each image, 180 px apart at most
    for j, ann in enumerate(doc["annotations"]):
        shift = 40 * (j % 4)
        ann["keypoints"] = [
            v - 180 * (j % 4) + shift if i % 3 == 0 else v for i, v in enumerate(ann["keypoints"])
        ]
    assert _found(cli, _root(tmp_path, doc), "PL703") == []


# --- PL704 left-right-swap ---------------------------------------------------------------


def _swap(ann: dict[str, Any], left: str, right: str) -> None:
    kp, a, b = ann["keypoints"], K[left], K[right]
    kp[3 * a : 3 * a + 3], kp[3 * b : 3 * b + 3] = kp[3 * b : 3 * b + 3], kp[3 * a : 3 * a + 3]


@pytest.mark.parametrize("part", ["shoulder", "elbow", "wrist", "hip", "knee", "ankle"])
def test_left_right_swap(tmp_path: Path, cli: Any, part: str) -> None:
    doc = _people()
    _swap(doc["annotations"][5], f"left_{part}", f"right_{part}")
    found = _found(cli, _root(tmp_path, doc), "PL704")
    assert found == [
        (
            f"/annotations/5/keypoints/{3 * K[f'left_{part}']}",
            f"'left_{part}' and 'right_{part}' look swapped: they run left-to-right against "
            "the person's other pairs, and exchanging them shortens the limbs through them",
            "warning",
        )
    ]


def _unlabel(ann: dict[str, Any], *names: str) -> None:
    for name in names:
        ann["keypoints"][3 * K[name] : 3 * K[name] + 3] = [0, 0, 0]
    ann["num_keypoints"] = sum(v > 0 for v in ann["keypoints"][2::3])


def _swap_finding(part: str) -> tuple[str, str, str]:
    return (
        f"/annotations/5/keypoints/{3 * K[f'left_{part}']}",
        f"'left_{part}' and 'right_{part}' look swapped: they run left-to-right against the "
        "person's other pairs, and exchanging them shortens the limbs through them",
        "warning",
    )


def test_swap_on_an_upper_body_with_one_other_pair(tmp_path: Path, cli: Any) -> None:
    """Shoulders and elbows only (a person cut off at the chest): the elbows alone give the
    facing, and the upper arms confirm the swap. With two pairs either one can be the swapped
    one, so both are named."""
    doc = _people()
    ann = doc["annotations"][5]
    keep = {"left_shoulder", "right_shoulder", "left_elbow", "right_elbow"}
    _unlabel(ann, *(n for n in COCO_KEYPOINTS if n not in keep))
    _swap(ann, "left_shoulder", "right_shoulder")
    found = _found(cli, _root(tmp_path, doc), "PL704")
    assert found == [_swap_finding("shoulder"), _swap_finding("elbow")]


def test_swap_confirmed_by_limbs_labelled_on_one_side(tmp_path: Path, cli: Any) -> None:
    """No limb through the elbows is labelled on both sides (right shoulder and right wrist
    unlabelled): the upper arm and forearm of the left side still show where the elbows
    belong."""
    doc = _people()
    ann = doc["annotations"][5]
    _unlabel(ann, "right_shoulder", "right_wrist")
    _swap(ann, "left_elbow", "right_elbow")
    assert _found(cli, _root(tmp_path, doc), "PL704") == [_swap_finding("elbow")]


@pytest.mark.parametrize(("ann", "part"), [(0, "shoulder"), (9, "knee"), (12, "wrist"), (8, "hip")])
def test_swap_on_a_real_coco_person(tmp_path: Path, cli: Any, ann: int, part: str) -> None:
    """Real COCO val2017 people (tests/data/real/mmpose/coco): the clean file has no PL704
    finding (test_real_annotations_have_no_pose_errors); one swapped pair is named."""
    doc = json.loads((MMPOSE / "coco" / "test_coco.json").read_text())
    _swap(doc["annotations"][ann], f"left_{part}", f"right_{part}")
    found = _found(cli, _root_as_is(tmp_path, doc), "PL704")
    assert found == [
        (
            f"/annotations/{ann}/keypoints/{3 * K[f'left_{part}']}",
            f"'left_{part}' and 'right_{part}' look swapped: they run left-to-right against "
            "the person's other pairs, and exchanging them shortens the limbs through them",
            "warning",
        )
    ]


def test_whole_person_seen_from_behind_is_no_swap(tmp_path: Path, cli: Any) -> None:
    doc = _people()
    for part in ("eye", "ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        _swap(doc["annotations"][5], f"left_{part}", f"right_{part}")
    assert _found(cli, _root(tmp_path, doc), "PL704") == []


# --- PL705 implausible-limb ----------------------------------------------------------------


def test_stretched_limb(tmp_path: Path, cli: Any) -> None:
    doc = _people()
    kp = doc["annotations"][4]["keypoints"]
    e, w = K["left_elbow"], K["left_wrist"]
    kp[3 * w] = kp[3 * e] + 2.5 * (kp[3 * w] - kp[3 * e])
    kp[3 * w + 1] = kp[3 * e + 1] + 2.5 * (kp[3 * w + 1] - kp[3 * e + 1])
    found = _found(cli, _root(tmp_path, doc), "PL705")
    assert [(f[0], f[2]) for f in found] == [("/annotations/4/keypoints/27", "warning")]
    assert found[0][1].startswith("limb 'left_elbow'-'left_wrist' is 2.")
    assert found[0][1].endswith(
        "x the length this person's other limbs predict (limb_factor 1.6); a point is misplaced"
    )
    (tmp_path / "poselint.toml").write_text("limb_factor = 3\n")
    assert _found(cli, _root(tmp_path / "again", doc), "PL705") == []


def _stretch(ann: dict[str, Any], start: str, end: str, factor: float, kp_k: Any = K) -> None:
    kp, a, b = ann["keypoints"], kp_k[start], kp_k[end]
    for c in (0, 1):
        kp[3 * b + c] = kp[3 * a + c] + factor * (kp[3 * b + c] - kp[3 * a + c])


def test_limb_check_on_a_small_split_uses_coco_proportions(tmp_path: Path, cli: Any) -> None:
    """Six people: too few for the split's own typical proportions (MIN_LIMB_SAMPLES), so
    COCO's stand in, and a small split is checked too."""
    doc = _people(n=6)
    assert _found(cli, _root(tmp_path / "clean", doc), "PL705") == []
    _stretch(doc["annotations"][4], "left_elbow", "left_wrist", 2.5)
    found = _found(cli, _root(tmp_path / "stretched", doc), "PL705")
    assert [(f[0], f[2]) for f in found] == [("/annotations/4/keypoints/27", "warning")]
    assert found[0][1].startswith("limb 'left_elbow'-'left_wrist' is 2.")


def test_limb_check_on_a_small_real_split_of_another_layout(tmp_path: Path, cli: Any) -> None:
    """JHMDB's three real people (15 points: neck, belly, head, ...): the arm and leg limbs
    are known to COCO by name, so a forearm stretched to twice its length is found."""
    doc = json.loads((MMPOSE / "jhmdb" / "test_jhmdb_sub1.json").read_text())
    names = {n: k for k, n in enumerate(doc["categories"][0]["keypoints"])}
    assert _found(cli, _root_as_is(tmp_path / "clean", doc), "PL705") == []
    _stretch(doc["annotations"][1], "right_elbow", "right_wrist", 2, names)
    found = _found(cli, _root_as_is(tmp_path / "stretched", doc), "PL705")
    assert [(f[0], f[2]) for f in found] == [
        (f"/annotations/1/keypoints/{3 * names['right_wrist']}", "warning")
    ]
    assert found[0][1].startswith("limb 'right_elbow'-'right_wrist' is ")


def test_small_split_with_unknown_limbs_is_not_judged(tmp_path: Path, cli: Any) -> None:
    """Names COCO does not know (p1..p17) give no typical proportion: six people are too few
    for the split's own, so the stretched limb is not judged rather than guessed at."""
    doc = _people(n=6)
    _stretch(doc["annotations"][4], "left_elbow", "left_wrist", 2.5)
    doc["categories"][0]["keypoints"] = [f"p{k + 1}" for k in range(17)]
    assert _found(cli, _root(tmp_path, doc), "PL705") == []


def test_bad_threshold_is_a_config_error(tmp_path: Path, cli: Any) -> None:
    root = _root(tmp_path, _people())
    (tmp_path / "poselint.toml").write_text("limb_factor = 1\n")
    result = cli("check", root)
    assert result.code == 2 and "'limb_factor' must be greater than 1" in result.err
    (tmp_path / "poselint.toml").write_text('duplicate_oks = "high"\n')
    result = cli("check", root)
    assert result.code == 2 and "'duplicate_oks' must be a number" in result.err


def test_malformed_keypoints_do_not_crash_pose_rules(tmp_path: Path, cli: Any) -> None:
    doc = _people()
    doc["annotations"][0]["keypoints"] = [1, 2]  # PL3xx's business
    doc["annotations"][1]["area"] = "big"
    doc["annotations"][2]["image_id"] = "x"
    doc["categories"][0]["skeleton"] = [[1, 99], "no"]
    result = cli("check", _root(tmp_path, doc), "--format", "json", "--select", PL7)
    assert "PL000" not in result.codes(), result
    assert json.dumps(result.json())  # a report, not a traceback


def test_huge_crowd_on_one_image_is_skipped(tmp_path: Path, cli: Any) -> None:
    # 201 copies of one person on one image: no quadratic blow-up, no findings for the crowd;
    # a duplicate on another image is still found
    doc = _people(n=2, per_image=1)
    crowd = [dict(copy.deepcopy(doc["annotations"][0]), id=100 + i) for i in range(201)]
    twin = dict(copy.deepcopy(doc["annotations"][1]), id=99)
    doc["annotations"] += [*crowd, twin]
    assert [f[0] for f in _found(cli, _root(tmp_path, doc), "PL703")] == ["/annotations/203"]


def test_limbs_as_long_as_their_mirror_images_are_a_build(tmp_path: Path, cli: Any) -> None:
    # both forearms 2.5x: the person is built (or drawn) that way, not one misplaced point
    doc = _people()
    kp = doc["annotations"][4]["keypoints"]
    for side in ("left", "right"):
        e, w = K[f"{side}_elbow"], K[f"{side}_wrist"]
        kp[3 * w] = kp[3 * e] + 2.5 * (kp[3 * w] - kp[3 * e])
        kp[3 * w + 1] = kp[3 * e + 1] + 2.5 * (kp[3 * w + 1] - kp[3 * e + 1])
    assert _found(cli, _root(tmp_path, doc), "PL705") == []


def test_hostile_numbers_raise_no_numpy_warnings(tmp_path: Path, cli: Any) -> None:
    doc = _people()  # two people per image: PL703 compares them
    doc["annotations"][0]["keypoints"][0] = 1e308  # beyond float32: inf in the pose arrays
    doc["annotations"][1]["bbox"] = [1e308, 1e308, 1e308, 1e308]  # its area overflows
    doc["annotations"][1]["area"] = 1e308
    doc["annotations"][2]["area"] = 0
    doc["annotations"][3]["keypoints"][3:6] = [-1e308, 1e308, 2]
    root = _root(tmp_path, doc)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy's overflow warning -> PL000
        result = cli("check", root, "--format", "json", "--select", PL7)
    assert "PL000" not in result.codes(), result
