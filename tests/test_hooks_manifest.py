""".pre-commit-hooks.yaml: valid for pre-commit itself, and matching the files it should."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())


def test_manifest_validates_with_pre_commit():
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    proc = subprocess.run(
        [pre_commit, "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_own_pre_commit_config_validates():
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    proc = subprocess.run(
        [pre_commit, "validate-config", str(REPO / ".pre-commit-config.yaml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_both_hooks_declared_as_required():
    by_id = {h["id"]: h for h in HOOKS}
    assert set(by_id) >= {"poselint", "poselint-structure"}
    for hook in by_id.values():
        assert hook["language"] == "python"
        assert hook["entry"].startswith("poselint check")
        assert hook["require_serial"] is True
        assert hook["minimum_pre_commit_version"]


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        ("data/pose/annotations/person_keypoints_train.json", True),
        ("annotations/person_keypoints_Validation.json", True),
        ("data/pose.dvc", True),
        ("dvc.yaml", True),
        ("data/pose/images/train/a.jpg", False),
        ("package.json", False),
        ("data/annotations/instances_train.json", False),
    ],
)
def test_files_regex(path, matches):
    for hook in HOOKS:
        assert bool(re.search(hook["files"], path)) is matches
