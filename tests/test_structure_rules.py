"""PL1xx and PL2xx: one clean case and one broken case per rule, on real folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from builders import clean_docs, write_image
from conftest import codes_for


def test_clean_dataset_has_no_findings(make_dataset, cli):
    root = make_dataset()
    result = cli("check", root, "--format", "json")
    assert result.code == 0, result
    assert result.json() == []


def test_pl100_dataset_missing_names_dvc_pull(tmp_path, cli):
    (tmp_path / "pose.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: pose\n"
    )
    result = cli("check", tmp_path / "pose.dvc", "--format", "json")
    assert result.code == 1
    [d] = result.json()
    assert d["code"] == "PL100" and "dvc pull pose.dvc" in d["message"]


def test_pl101_stray_entry_in_root(make_dataset, cli):
    root = make_dataset()
    assert "PL101" not in codes_for(cli, root)
    (root / "notes.txt").write_text("x")
    (root / "Images").mkdir()
    result = cli("check", root, "--format", "json")
    stray = [d for d in result.json() if d["code"] == "PL101"]
    assert {Path(str(d["path"])).name for d in stray} == {"notes.txt", "Images"}
    assert any("rename it to 'images'" in str(d["message"]) for d in stray)


@pytest.mark.parametrize("folder", ["images", "annotations"])
def test_pl102_missing_folder(make_dataset, cli, folder):
    root = make_dataset()
    assert "PL102" not in codes_for(cli, root)
    shutil.rmtree(root / folder)
    result = cli("check", root, "--format", "json")
    assert any(d["code"] == "PL102" and folder in str(d["message"]) for d in result.json())


def test_pl103_file_directly_in_images(make_dataset, cli):
    root = make_dataset()
    assert "PL103" not in codes_for(cli, root)
    write_image(root / "images" / "loose.jpg", 8, 8)
    assert "PL103" in codes_for(cli, root)


def test_pl104_stray_annotation_file(make_dataset, cli):
    root = make_dataset()
    assert "PL104" not in codes_for(cli, root)
    (root / "annotations" / "instances_train.json").write_text("{}")
    (root / "annotations" / "person_keypoints_train.json.bak").write_text("{}")
    result = cli("check", root, "--format", "json")
    assert sum(d["code"] == "PL104" for d in result.json()) == 2


def test_pl105_images_without_annotations(make_dataset, cli):
    root = make_dataset()
    assert "PL105" not in codes_for(cli, root)
    (root / "images" / "test").mkdir()
    assert "PL105" in codes_for(cli, root)


def test_pl106_annotations_without_images(make_dataset, cli):
    root = make_dataset()
    assert "PL106" not in codes_for(cli, root)
    shutil.rmtree(root / "images" / "val")
    assert "PL106" in codes_for(cli, root)


def test_pl107_required_split_missing(make_dataset, cli):
    docs = clean_docs()
    root = make_dataset({"train": docs["train"]})
    result = cli("check", root, "--format", "json")
    [d] = [d for d in result.json() if d["code"] == "PL107"]
    assert "'val'" in str(d["message"])
    assert "PL107" not in codes_for(cli, make_dataset())


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("Train", "train"),
        ("TRAIN", "train"),
        ("Training", "train"),
        ("Validation", "val"),
        ("Val", "val"),
        ("valid", "val"),
        ("Test", "test"),
        ("Testing", "test"),
    ],
)
def test_pl201_variant_names_the_rename(make_dataset, cli, variant, canonical):
    docs = clean_docs()
    split_docs = {"train": docs["train"], "val": docs["val"]}
    split_docs[variant] = split_docs.pop(canonical, docs["val"])
    root = make_dataset(split_docs)
    result = cli("check", root, "--format", "json")
    variants = [d for d in result.json() if d["code"] == "PL201"]
    assert len(variants) == 2  # the image folder and the annotation file
    assert all(d["fixable"] for d in variants)
    assert any(f"images/{variant}/ -> images/{canonical}/" in str(d["message"]) for d in variants)
    assert "PL107" not in result.codes()  # a misspelt split is one rename, not a missing split


def test_pl201_not_raised_for_canonical_names(make_dataset, cli):
    assert "PL201" not in codes_for(cli, make_dataset())


def test_pl202_default_subset(make_dataset, cli):
    docs = clean_docs()
    root = make_dataset({"default": docs["train"]})
    result = cli("check", root, "--format", "json")
    default = [d for d in result.json() if d["code"] == "PL202"]
    assert default and "assign each task a subset" in str(default[0]["message"])
    assert not any(d["fixable"] for d in default)
    assert "PL202" not in codes_for(cli, make_dataset())


def test_pl203_unknown_split(make_dataset, cli):
    docs = clean_docs()
    root = make_dataset({**docs, "holdout": docs["val"]})
    assert "PL203" in codes_for(cli, root)
    assert "PL203" not in codes_for(cli, make_dataset())


def test_test_split_not_allowed_by_config_is_unknown(make_dataset, cli, tmp_path):
    docs = clean_docs()
    root = make_dataset({**docs, "test": docs["val"]})
    (tmp_path / "poselint.toml").write_text('splits = ["train", "val"]\n')
    result = cli("check", root, "--format", "json")
    assert any(d["code"] == "PL203" and "images/test/" in str(d["message"]) for d in result.json())


def test_real_cvat_export_layout_is_flagged(make_cvat_export, cli):
    root = make_cvat_export()
    result = cli("check", root, "--format", "json")
    renames = {str(d["message"]).split("rename ")[1] for d in result.json() if d["code"] == "PL201"}
    assert renames == {
        "images/Train/ -> images/train/",
        "annotations/person_keypoints_Train.json -> annotations/person_keypoints_train.json",
        "images/Validation/ -> images/val/",
        "annotations/person_keypoints_Validation.json -> annotations/person_keypoints_val.json",
    }


@pytest.mark.parametrize(
    ("old", "new", "images"),
    [("train", "Train", True), ("val", "VAL", True), ("train", "Train", False)],
)
def test_one_renamed_split_half_is_one_diagnostic(make_dataset, cli, old, new, images):
    """images/train -> images/Train (or only the annotation file renamed) is one cause: PL201
    names the rename; PL105/PL106 ("add person_keypoints_Train.json", "add images/train/")
    would contradict it."""
    root = make_dataset()
    if images:
        (root / "images" / old).rename(root / "images" / new)
        renamed = f"images/{new}"
    else:
        annotations = root / "annotations"
        (annotations / f"person_keypoints_{old}.json").rename(
            annotations / f"person_keypoints_{new}.json"
        )
        renamed = f"annotations/person_keypoints_{new}.json"
    result = cli("check", root, "--format", "json", cwd=root)
    assert result.code == 1, result
    [d] = result.json()
    assert (d["code"], d["path"]) == ("PL201", renamed)
    assert f"split '{new}' should be '{old}'" in str(d["message"])


def test_a_misspelt_split_without_its_other_half_still_gets_pl105(make_dataset, cli):
    root = make_dataset()
    (root / "images" / "Test").mkdir()  # no test annotations under any spelling
    found = sorted((d["code"], d["message"]) for d in cli("check", root, "--format", "json").json())
    assert [code for code, _ in found] == ["PL105", "PL201"]
    # the advice agrees with the rename: the file to add is named for 'test', not 'Test'
    assert "add annotations/person_keypoints_test.json or remove the folder" in found[0][1]
    assert "rename images/Test/ -> images/test/" in found[1][1]
