"""example-repo/: its clean dataset passes, its incoming CVAT export fails the way a raw
export does, its config files are valid, and the export can be fixed into a clean dataset."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml
from dvcrepo import BIN

from builders import SAMPLES

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "example-repo"


def test_clean_dataset_passes(cli):
    result = cli("check", EXAMPLE / "data" / "pose", "--format", "json")
    assert result.code == 0 and result.json() == [], result


def test_no_path_uses_the_configured_dataset(cli, tmp_path):
    copy = shutil.copytree(EXAMPLE, tmp_path / "example")
    result = cli("check", "--format", "json", "--metrics", "metrics/dataset.json", cwd=copy)
    assert result.code == 0 and result.json() == [], result
    assert (copy / "metrics" / "dataset.json").is_file()  # only data/pose, not incoming/
    assert "incoming" not in (copy / "metrics" / "dataset.json").read_text()


def test_incoming_export_is_broken_like_a_raw_cvat_export(cli):
    result = cli("check", EXAMPLE / "incoming", "--format", "json")
    assert result.code == 1
    codes = [d["code"] for d in result.json()]
    assert set(codes) == {"PL201", "PL601"}, result.json()  # images are real
    assert codes.count("PL201") == 4  # Train and Validation, folder and file each
    assert any("(900, -20)" in str(d["message"]) for d in result.json() if d["code"] == "PL601")


def test_incoming_annotations_are_the_real_exporter_output():
    src = SAMPLES / "datumaro-export" / "cvat-ai-datumaro-fork" / "annotations"
    for sample in src.glob("person_keypoints_*.json"):
        assert (EXAMPLE / "incoming" / "annotations" / sample.name).read_bytes() == (
            sample.read_bytes()
        )
    names = {
        p.relative_to(EXAMPLE / "incoming" / "images").as_posix()
        for p in (EXAMPLE / "incoming" / "images").rglob("*")
        if p.is_file()
    }
    assert names == {
        "Train/img_001.jpg",
        "Train/img_003.jpg",
        "Train/nested/dir/img_002.png",
        "Validation/frame_000007.PNG",
    }


def test_fix_turns_the_export_into_a_passing_dataset(cli, tmp_path):
    export = shutil.copytree(EXAMPLE / "incoming", tmp_path / "export")
    assert cli("check", "--fix", "--unsafe-fixes", export).code == 1  # changed something
    result = cli("check", export, "--format", "json")
    assert result.code == 0 and result.json() == [], result


def test_pre_commit_config_uses_this_repos_hook():
    config = yaml.safe_load((EXAMPLE / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    used = [h for r in config["repos"] for h in r["hooks"]]
    assert used and {h["id"] for h in used} <= set(hooks)
    # a DVC repo: the hook's environment has dvc (the poselint-dvc id carries it)
    assert any(
        "dvc" in dep
        for h in used
        for dep in h.get(
            "additional_dependencies", hooks[h["id"]].get("additional_dependencies", [])
        )
    )
    proc = subprocess.run(
        [str(BIN / "pre-commit"), "validate-config", str(EXAMPLE / ".pre-commit-config.yaml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dvc_yaml_validation_stage():
    stage = yaml.safe_load((EXAMPLE / "dvc.yaml").read_text())["stages"]["validate"]
    assert stage["cmd"] == (
        "poselint check data/pose --output reports/poselint.json --metrics metrics/dataset.json"
    )
    assert "data/pose" in stage["deps"]
    assert stage["metrics"] == [{"metrics/dataset.json": {"cache": False}}]
