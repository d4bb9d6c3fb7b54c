"""Real annotation files nobody here wrote (tests/data/real/, see its SOURCES.md): each one's
exact set of findings, judged by hand, and pycocotools as a second opinion."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import build_dataset, clean_docs

REAL = Path(__file__).parent / "data" / "real"


# --- COCO's own split names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("train", "val"),
    [("train2017", "val2017"), ("training", "validation"), ("Train2014", "valid")],
)
def test_coco_split_names_are_fixable_variants(tmp_path, cli, train, val):
    """COCO ships annotations/person_keypoints_val2017.json and images/val2017/: PL201 (a
    variant, renamed by --fix), not PL203 (an unknown split)."""
    docs = clean_docs()
    root = build_dataset(tmp_path / "coco", {train: docs["train"], val: docs["val"]})
    result = cli("check", root, "--format", "json")
    found = {(d["code"], Path(str(d["path"])).name, d["message"]) for d in result.json()}
    assert {code for code, _, _ in found} == {"PL201"}, result
    assert (
        "PL201",
        f"person_keypoints_{val}.json",
        f"split '{val}' should be 'val': rename annotations/person_keypoints_{val}.json -> "
        "annotations/person_keypoints_val.json",
    ) in found
    assert len(found) == 4  # two splits, each its folder and its file
    assert cli("check", "--fix", root).code == 1  # it changed something
    assert sorted(p.name for p in (root / "annotations").iterdir()) == [
        "person_keypoints_train.json",
        "person_keypoints_val.json",
    ]
    assert sorted(p.name for p in (root / "images").iterdir()) == ["train", "val"]
    assert cli("check", root, "--format", "json").json() == []


def test_a_year_alone_is_not_a_split_variant(tmp_path, cli):
    docs = clean_docs()
    root = build_dataset(tmp_path / "coco", {**docs, "2017": docs["val"]})
    result = cli("check", root, "--format", "json")
    assert {d["code"] for d in result.json()} == {"PL203"}, result
