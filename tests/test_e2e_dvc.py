"""End to end, with real processes only: git, dvc, pre-commit and the installed poselint.

1. pre-commit (this repo's hooks, installed by pre-commit into its own venv) refuses a commit
   of a broken DVC-tracked dataset, and of a stale workspace; it passes once fixed + `dvc add`.
2. `dvc repro` of example-repo's validation stage fails on a broken dataset, passes on a
   clean one, and writes the metrics file that `dvc metrics diff` compares.
3. `--no-pull` in a fresh `git clone` (no data, no cache), against a local directory remote.

pre-commit installs hooks from a git repo at a commit. So that a fresh clone of main (CI) and
a working tree with uncommitted edits (a developer) both test what is on disk, the working
tree is copied into a temp git repo, committed and tagged there (conftest.py: hooks_repo);
its venv is built once per session (PRE_COMMIT_HOME), which needs the package index once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from dvcrepo import (
    BIN,
    add_local_remote,
    dvc,
    git,
    init_repo,
    run,
)

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "example-repo"
CLEAN = EXAMPLE / "data" / "pose"
BROKEN = EXAMPLE / "incoming"  # a raw CVAT export: Train/Validation, outside points with coords


@pytest.fixture(scope="session")
def env(hook_env: dict[str, str]) -> dict[str, str]:
    return hook_env  # conftest.py: one PRE_COMMIT_HOME, so hook venvs are shared


def _dataset_repo(path: Path, env: dict[str, str], data: Path) -> Path:
    """example-repo's files in a new git + DVC repo, with `data` as data/pose (dvc add-ed)."""
    init_repo(path, env)
    for name in ("pyproject.toml", "dvc.yaml", ".pre-commit-config.yaml", "README.md"):
        shutil.copy2(EXAMPLE / name, path / name)
    _replace_data(path, data)
    dvc("add", "-q", "data/pose", cwd=path, env=env)
    return path


def _replace_data(repo: Path, data: Path) -> None:
    shutil.rmtree(repo / "data" / "pose", ignore_errors=True)
    shutil.copytree(data, repo / "data" / "pose")


def _use_hooks_from(repo: Path, hooks_repo: Path) -> None:
    """Point example-repo's .pre-commit-config.yaml at the poselint under test (its rev, the
    release tag, is kept: hooks_repo carries it)."""
    config_path = repo / ".pre-commit-config.yaml"
    config = yaml.safe_load(config_path.read_text())
    [entry] = [r for r in config["repos"] if any(h["id"] == "poselint-dvc" for h in r["hooks"])]
    entry["repo"] = str(hooks_repo)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))


def _commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    git("add", "-A", cwd=repo, env=env)
    return git("commit", "-m", message, cwd=repo, env=env, check=False)


def test_pre_commit_refuses_broken_and_stale_datasets(tmp_path, env, hooks_repo):
    repo = _dataset_repo(tmp_path / "ds", env, BROKEN)
    _use_hooks_from(repo, hooks_repo)
    run([str(BIN / "pre-commit"), "install"], repo, env)

    refused = _commit(repo, env, "add the raw CVAT export")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "poselint (pose dataset lint, with dvc)" in output and "Failed" in output
    assert "PL201" in output and "split 'Train' should be 'train'" in output
    assert "PL601" in output
    assert "Traceback" not in output and "PL000" not in output
    assert git("rev-list", "--all", "--count", cwd=repo, env=env).stdout.strip() == "1"

    _replace_data(repo, CLEAN)  # the fix; git sees only data/pose.dvc change after dvc add
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    passed = _commit(repo, env, "add the clean dataset")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout + passed.stderr

    # Stale: the data changes after `dvc add`, the staged .dvc file records the old data.
    ann = repo / "data" / "pose" / "annotations" / "person_keypoints_val.json"
    ann.unlink()  # dvc add may have made it a link into the cache: never edit through it
    labels = json.loads((CLEAN / "annotations" / ann.name).read_text())
    ann.write_text(json.dumps(labels, indent=1))  # a clean change, added and staged
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    git("add", "data/pose.dvc", cwd=repo, env=env)
    ann.unlink()
    ann.write_text(json.dumps(labels, indent=2))  # then changed again: same labels, new bytes
    stale = _commit(repo, env, "commit a stale .dvc")
    output = stale.stdout + stale.stderr
    assert stale.returncode != 0, output
    assert "PL108" in output and "run `dvc add data/pose`" in output, output

    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    fixed = _commit(repo, env, "commit what was linted")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def test_dvc_repro_validation_stage(tmp_path, env):
    repo = _dataset_repo(tmp_path / "ds", env, CLEAN)
    dvc("repro", "-q", cwd=repo, env=env)
    assert json.loads((repo / "reports" / "poselint.json").read_text()) == []
    metrics = json.loads((repo / "metrics" / "dataset.json").read_text())
    assert metrics["data/pose"]["train"]["annotations"] == 2
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "validated", cwd=repo, env=env)

    _replace_data(repo, BROKEN)
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    failed = dvc("repro", cwd=repo, env=env, check=False)
    assert failed.returncode != 0
    assert "failed to reproduce 'validate'" in failed.stdout + failed.stderr
    report = json.loads((repo / "reports" / "poselint.json").read_text())
    assert {"PL201", "PL601"} <= {d["code"] for d in report}

    # A clean change: one train annotation fewer. The stage passes; metrics diff shows it.
    _replace_data(repo, CLEAN)
    train = repo / "data" / "pose" / "annotations" / "person_keypoints_train.json"
    doc = json.loads(train.read_text())
    doc["annotations"] = doc["annotations"][:1]
    train.unlink()
    train.write_text(json.dumps(doc))
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    dvc("repro", "-q", cwd=repo, env=env)
    diff = json.loads(dvc("metrics", "diff", "--json", cwd=repo, env=env).stdout)
    [changes] = diff.values()
    assert changes["data/pose.train.annotations"] == {"old": 2, "new": 1, "diff": -1}


def test_no_pull_in_a_fresh_clone(tmp_path, env):
    origin = _dataset_repo(tmp_path / "origin", env, CLEAN)
    add_local_remote(origin, tmp_path / "remote", env)
    dvc("push", "-q", cwd=origin, env=env)
    git("add", "-A", cwd=origin, env=env)
    git("commit", "-qm", "clean dataset", cwd=origin, env=env)

    clone = tmp_path / "clone"  # what CI has: git files only, no data, no DVC cache
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path, env=env)
    assert not (clone / "data" / "pose").exists()
    poselint = str(BIN / "poselint")

    pulled_not = run([poselint, "check"], clone, env, check=False)
    assert pulled_not.returncode == 1 and "`dvc pull data/pose.dvc`" in pulled_not.stdout

    remote = run([poselint, "check", "--no-pull"], clone, env, check=False)
    assert remote.returncode == 0, remote.stdout + remote.stderr
    assert "All checks passed!" in remote.stdout
    assert "image sizes (headers) are not checked" in remote.stderr
    assert not (clone / "data" / "pose").exists()

    # The broken export, pushed and committed: --no-pull finds what is wrong with it.
    _replace_data(origin, BROKEN)
    dvc("add", "-q", "data/pose", cwd=origin, env=env)
    dvc("push", "-q", cwd=origin, env=env)
    git("commit", "-qam", "raw export", cwd=origin, env=env)
    git("pull", "-q", cwd=clone, env=env)
    broken = run([poselint, "check", "--no-pull", "--format", "json"], clone, env, check=False)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    codes = {d["code"] for d in json.loads(broken.stdout)}
    assert {"PL201", "PL601"} <= codes and "PL000" not in codes
