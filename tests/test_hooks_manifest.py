""".pre-commit-hooks.yaml: valid for pre-commit itself, and matching the files it should."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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


def test_hooks_declared_as_required():
    by_id = {h["id"]: h for h in HOOKS}
    assert set(by_id) == {"poselint", "poselint-dvc", "poselint-structure", "poselint-fix"}
    for hook in by_id.values():
        assert hook["language"] == "python"
        assert hook["entry"].startswith("poselint check --staged")
        assert hook["require_serial"] is True
        assert hook["minimum_pre_commit_version"]
        # poselint asks git what the commit touches (deletions too, which pre-commit does not
        # pass) and lints each root once: no file arguments, so no batches,
        assert hook["always_run"] is True and hook["pass_filenames"] is False
        # and no file list for pre-commit to build (it classifies each file's type first)
        assert hook["files"] == "^$" and "types" not in hook
    assert by_id["poselint-dvc"]["additional_dependencies"] == ["dvc>=3,<4"]
    assert by_id["poselint-dvc"]["entry"] == by_id["poselint"]["entry"]
    assert by_id["poselint-fix"]["entry"] == "poselint check --staged --fix"
