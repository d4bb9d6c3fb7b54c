"""SIGKILL the fixer at every mutating step; the next --fix must finish the job.

Fault injection: POSELINT_FAULT_AFTER=N makes the process SIGKILL itself at its Nth mutating
filesystem step (poselint.fsutil.fault_point: each atomic write has two, before and after its
os.replace; each rename one). The killed run is a real subprocess; the recovery runs in-process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_fix import BOM, outside_docs, snapshot

from builders import clean_docs

# TRAIN: outside points + a case-only rename (two steps each for the file and the folder).
# Validation: a BOM + a plain rename. 2+2 writes, 2+1 annotation renames, 2+1 folder renames.
STEPS = 10


def build(make_dataset) -> Path:
    docs = outside_docs()
    root = make_dataset({"TRAIN": docs["train"], "Validation": clean_docs()["val"]}, name="ds")
    val = root / "annotations" / "person_keypoints_Validation.json"
    val.write_bytes(BOM + val.read_bytes())
    return root


def split_of(name: str) -> str:
    """The split a (possibly temporary or renamed) file or folder name belongs to."""
    name = name.removeprefix(".poselint-rename-to-").removeprefix("person_keypoints_")
    name = name.removesuffix(".json").lower()
    return {"validation": "val"}.get(name, name)


def images(root: Path) -> dict[tuple[str, str], bytes]:
    out = {}
    for folder in (root / "images").iterdir():
        for f in folder.rglob("*"):
            if f.is_file():
                out[(split_of(folder.name), f.relative_to(folder).as_posix())] = f.read_bytes()
    return out


def annotation_states(root: Path) -> dict[str, bytes]:
    out = {}
    for f in (root / "annotations").iterdir():
        if f.name.endswith(".json"):
            assert split_of(f.name) not in out, f"two files for one split: {f.name}"
            out[split_of(f.name)] = f.read_bytes()
    return out


@pytest.fixture
def reference(make_dataset, cli, tmp_path):
    """Old and new state of an uninterrupted run."""
    root = build(make_dataset)
    old_root = shutil.copytree(root, tmp_path / "old")
    assert cli("check", root, "--fix", "--unsafe-fixes").code == 1
    assert cli("check", root).code == 0
    return old_root, root


def test_fault_injection_is_live(make_dataset, tmp_path):
    root = build(make_dataset)
    before = snapshot(root)
    env = {**os.environ, "POSELINT_FAULT_AFTER": str(STEPS + 1)}  # after the last step
    run = subprocess.run(
        [sys.executable, "-m", "poselint", "check", str(root), "--fix", "--unsafe-fixes"],
        env=env,
        capture_output=True,
        cwd=tmp_path,
    )
    assert run.returncode == 1, run.stderr  # finished: exactly STEPS steps, no kill
    assert snapshot(root) != before


@pytest.mark.parametrize("kill_at", range(1, STEPS + 1))
def test_sigkill_at_each_step_then_fix_again(make_dataset, cli, reference, tmp_path, kill_at):
    old_root, new_root = reference
    root = shutil.copytree(old_root, tmp_path / f"killed{kill_at}")
    env = {**os.environ, "POSELINT_FAULT_AFTER": str(kill_at)}
    run = subprocess.run(
        [sys.executable, "-m", "poselint", "check", str(root), "--fix", "--unsafe-fixes"],
        env=env,
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == -signal.SIGKILL, (run.returncode, run.stderr)

    # Every image is still there (under its old, temporary or new folder name).
    assert images(root) == images(old_root)
    # Every annotation file parses and is either its old or its new self, never a mix.
    old, new = annotation_states(old_root), annotation_states(new_root)
    now = annotation_states(root)
    assert set(now) == {"train", "val"}
    for split, data in now.items():
        json.loads(data.removeprefix(BOM))
        assert data in (old[split], new[split]), split

    # A second --fix completes the job: the result is exactly the uninterrupted run's.
    assert cli("check", root, "--fix", "--unsafe-fixes").code in (0, 1)
    assert snapshot(root) == snapshot(new_root)
    assert cli("check", root).code == 0
