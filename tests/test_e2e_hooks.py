"""The commit gate, as a dataset repo that uses poselint's hooks at a release tag sees it.

Real processes only: git, pre-commit (installing the hooks from a git repo holding this
working tree, tagged v<version>), dvc, and the hook's own poselint. Each test is one
scenario of issue 12; each commit that must be refused is asserted refused, with the
message that names the problem and the fix. One hook environment per hook id for the
whole session (conftest.py: hook_env, hooks_repo).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from dvcrepo import BIN, dvc, git, init_repo, run

from builders import write_image
from poselint import __version__

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
CLEAN = REPO / "example-repo" / "data" / "pose"


def _use_hooks(repo: Path, hooks_repo: Path, *hook_ids: str) -> None:
    config = {
        "repos": [
            {
                "repo": str(hooks_repo),
                "rev": f"v{__version__}",
                "hooks": [{"id": hook_id} for hook_id in hook_ids],
            }
        ]
    }
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def _git_dataset_repo(path: Path, env: dict[str, str], hooks_repo: Path, *hook_ids: str) -> Path:
    """A git repo with the clean example dataset at data/pose, committed through the hooks."""
    path.mkdir()
    git("init", "-q", cwd=path, env=env)
    shutil.copytree(CLEAN, path / "data" / "pose")
    _use_hooks(path, hooks_repo, *hook_ids)
    run([str(BIN / "pre-commit"), "install"], path, env)
    first = _commit(path, env, "clean dataset", "-A")
    assert first.returncode == 0, first.stdout + first.stderr
    return path


def _commit(
    repo: Path, env: dict[str, str], message: str, *add: str
) -> subprocess.CompletedProcess[str]:
    if add:
        git("add", *add, cwd=repo, env=env)
    return git("commit", "-m", message, cwd=repo, env=env, check=False)


def _refused(
    repo: Path, env: dict[str, str], proc: subprocess.CompletedProcess[str], commits: int = 1
) -> str:
    """The hook output of a commit that must have been refused (and left HEAD alone)."""
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "Failed" in output and "- exit code: 1" in output, output
    assert "Traceback" not in output and "PL000" not in output, output
    assert git("rev-list", "--all", "--count", cwd=repo, env=env).stdout.strip() == str(commits)
    return output


def _diagnostics(output: str) -> list[str]:
    """The `path: CODE message` lines of poselint's text report in pre-commit's output."""
    return [line for line in output.splitlines() if ": PL" in line]


def test_scenario_1_image_commits_run_the_hook(tmp_path, hook_env, hooks_repo):
    env = hook_env
    repo = _git_dataset_repo(tmp_path / "ds", env, hooks_repo, "poselint")
    root = repo / "data" / "pose"

    # An image added into a misnamed split folder, staged on its own.
    write_image(root / "images" / "Train" / "img_009.jpg", 64, 48)
    added = _refused(
        repo, env, _commit(repo, env, "one more image", "data/pose/images/Train/img_009.jpg")
    )
    assert "data/pose/images/Train: PL201 [*] split 'Train' should be 'train'" in added, added
    git("reset", "-q", "--hard", cwd=repo, env=env)
    git("clean", "-qfd", cwd=repo, env=env)

    # `git rm` of an image the annotations reference: the file is gone from disk.
    git("rm", "-q", "data/pose/images/train/img_003.jpg", cwd=repo, env=env)
    removed = _refused(repo, env, _commit(repo, env, "drop an image"))
    assert re.search(
        r"data/pose/annotations/person_keypoints_train\.json:1:\d+: PL501 .* "
        r"\(at /images/2/file_name\)",
        removed,
    ), removed
    git("reset", "-q", "--hard", cwd=repo, env=env)

    # A split folder renamed.
    git("mv", "data/pose/images/val", "data/pose/images/VAL", cwd=repo, env=env)
    renamed = _refused(repo, env, _commit(repo, env, "rename val"))
    assert _diagnostics(renamed) == [
        "data/pose/images/VAL: PL201 [*] split 'VAL' should be 'val': rename images/VAL/ -> "
        "images/val/"
    ], renamed
    git("reset", "-q", "--hard", cwd=repo, env=env)

    # A commit touching no dataset passes without linting one.
    (repo / "README.md").write_text("notes\n")
    other = _commit(repo, env, "notes", "README.md")
    assert other.returncode == 0, other.stdout + other.stderr


def test_scenario_2_dvc_dataset_without_dvc_in_the_hook(tmp_path, hook_env, hooks_repo):
    """`poselint` (no dvc in its environment) on a DVC-tracked dataset: blocked, naming the
    hook id that has dvc; `poselint-dvc` then checks it, and refuses a stale .dvc file."""
    env = hook_env
    repo = init_repo(tmp_path / "ds", env)
    shutil.copytree(CLEAN, repo / "data" / "pose")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    _use_hooks(repo, hooks_repo, "poselint")
    run([str(BIN / "pre-commit"), "install"], repo, env)

    blocked = _refused(repo, env, _commit(repo, env, "track the dataset", "-A"))
    assert "data/pose: PL108 cannot tell whether the workspace is what data/pose.dvc records" in (
        blocked
    ), blocked
    assert 'use the `poselint-dvc` hook id, or add "dvc>=3,<4" to this hook\'s ' in blocked

    _use_hooks(repo, hooks_repo, "poselint-dvc")  # what the README's DVC snippet says
    tracked = _commit(repo, env, "track the dataset", "-A")
    assert tracked.returncode == 0, tracked.stdout + tracked.stderr

    # Stale: a new version is `dvc add`ed and its .dvc staged, then the data changes again.
    ann = repo / "data" / "pose" / "annotations" / "person_keypoints_val.json"
    text = ann.read_text()
    ann.unlink()  # dvc add may have linked it into the cache: never edit through it
    ann.write_text(text + "\n")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    git("add", "data/pose.dvc", cwd=repo, env=env)
    ann.unlink()
    ann.write_text(text + "\n\n")
    stale = _commit(repo, env, "stale")
    output = _refused(repo, env, stale, commits=2)
    assert "data/pose: PL108 the workspace differs from what data/pose.dvc records" in output
    assert "run `dvc add data/pose` and stage data/pose.dvc" in output, output


def test_scenario_5_same_verdict_from_any_directory(tmp_path, hook_env, hooks_repo):
    env = hook_env
    repo = tmp_path / "ds"
    repo.mkdir()
    git("init", "-q", cwd=repo, env=env)
    shutil.copytree(CLEAN, repo / "data" / "pose")
    (repo / "data" / "pose" / "notes.txt").write_text("kept on purpose\n")
    (repo / "pyproject.toml").write_text('[tool.poselint]\nignore = ["PL101"]\n')
    poselint = str(BIN / "poselint")
    for cwd, path in ((repo, "data/pose"), (tmp_path, "ds/data/pose"), (repo / "data", "pose")):
        proc = run([poselint, "check", path], cwd, env, check=False)
        assert (proc.returncode, proc.stdout) == (0, "All checks passed!\n"), (cwd, proc)
    _use_hooks(repo, hooks_repo, "poselint")
    run([str(BIN / "pre-commit"), "install"], repo, env)
    committed = _commit(repo, env, "dataset with a note", "-A")
    assert committed.returncode == 0, committed.stdout + committed.stderr


def test_scenario_6_a_renamed_split_is_one_diagnostic(tmp_path, hook_env, hooks_repo):
    env = hook_env
    repo = _git_dataset_repo(tmp_path / "ds", env, hooks_repo, "poselint")
    git("mv", "data/pose/images/train", "data/pose/images/Train", cwd=repo, env=env)
    output = _refused(repo, env, _commit(repo, env, "as CVAT names it"))
    assert _diagnostics(output) == [
        "data/pose/images/Train: PL201 [*] split 'Train' should be 'train': rename "
        "images/Train/ -> images/train/"
    ], output
    # Under pre-commit the fix is named as the hook to run, not a CLI the user lacks.
    assert (
        "1 fixable: run the `poselint-fix` hook: pre-commit run poselint-fix --all-files" in output
    )


def test_scenario_4_the_fix_hook(tmp_path, hook_env, hooks_repo):
    """poselint-fix follows the fixer convention: it applies the safe fixes, prints each
    change and fails the run when it changed something; then the data passes."""
    env = hook_env
    repo = _git_dataset_repo(tmp_path / "ds", env, hooks_repo, "poselint", "poselint-fix")
    git("mv", "data/pose/images/train", "data/pose/images/Train", cwd=repo, env=env)
    pre_commit = [str(BIN / "pre-commit"), "run", "poselint-fix", "--all-files"]
    fixed = run(pre_commit, repo, env, check=False)
    output = fixed.stdout + fixed.stderr
    assert fixed.returncode == 1, output
    assert "renamed data/pose/images/Train -> data/pose/images/train" in output, output
    assert (repo / "data" / "pose" / "images" / "train").is_dir()
    git("add", "-A", cwd=repo, env=env)
    again = run([str(BIN / "pre-commit"), "run", "--all-files"], repo, env, check=False)
    assert again.returncode == 0, again.stdout + again.stderr


def test_scenario_4b_the_fix_hook_applies_unsafe_fixes_only_when_told(
    tmp_path, hook_env, hooks_repo
):
    """PL601's fix is unsafe (zeroing discards the positions CVAT drew): the poselint-fix hook
    leaves it and says how to opt in; with `args: [--unsafe-fixes]` it zeroes them."""
    env = hook_env
    repo = _git_dataset_repo(tmp_path / "ds", env, hooks_repo, "poselint-fix")
    ann = repo / "data" / "pose" / "annotations" / "person_keypoints_train.json"
    doc = json.loads(ann.read_text())
    assert doc["annotations"][0]["keypoints"][6:9] == [0, 0, 0]  # an outside point
    doc["annotations"][0]["keypoints"][6:8] = [71, 33]  # where CVAT drew it
    ann.write_text(json.dumps(doc))
    stale = ann.read_bytes()
    pre_commit = [str(BIN / "pre-commit"), "run", "poselint-fix", "--all-files"]
    kept = run(pre_commit, repo, env, check=False)
    output = kept.stdout + kept.stderr
    assert kept.returncode == 1 and "PL601" in output and "fixed" not in output, output
    assert (
        "1 fixable with --unsafe-fixes: add `args: [--unsafe-fixes]` to the `poselint-fix` hook"
        in output
    )
    assert ann.read_bytes() == stale
    config = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())
    config["repos"][0]["hooks"][0]["args"] = ["--unsafe-fixes"]
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    fixed = run(pre_commit, repo, env, check=False)
    output = fixed.stdout + fixed.stderr
    assert fixed.returncode == 1, output  # it changed something: the fixer convention
    assert "fixed 1 outside point in data/pose/annotations/person_keypoints_train.json" in output
    assert json.loads(ann.read_text())["annotations"][0]["keypoints"][6:9] == [0, 0, 0]
    assert run(pre_commit, repo, env, check=False).returncode == 0
