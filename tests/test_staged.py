"""`poselint check --staged` (what the hooks run): the roots a commit touches, from real git.

pre-commit passes a hook neither deleted paths nor the old side of a rename, and splits long
file lists into batches; poselint asks git itself, so these are the cases to hold.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dvcrepo import git, isolated_env

from builders import build_dataset, write_image


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return isolated_env(tmp_path / "home")


@pytest.fixture
def repo(tmp_path: Path, env: dict[str, str]) -> Path:
    """A git repo with two clean datasets committed to git: data/pose and data/other."""
    path = tmp_path / "repo"
    path.mkdir()
    git("init", "-q", cwd=path, env=env)
    build_dataset(path / "data" / "pose")
    build_dataset(path / "data" / "other")
    (path / "README.md").write_text("datasets\n")
    git("add", "-A", cwd=path, env=env)
    git("commit", "-qm", "datasets", cwd=path, env=env)
    return path


def _staged(cli, repo: Path) -> tuple[int, list[tuple[str, str]]]:
    result = cli("check", "--staged", "--format", "json", cwd=repo)
    assert result.code in (0, 1), result
    return result.code, sorted((str(d["code"]), str(d["path"])) for d in result.json())


def test_an_image_added_to_a_misnamed_split_is_linted(repo, env, cli):
    write_image(repo / "data" / "pose" / "images" / "Train" / "img_009.jpg", 8, 8)
    git("add", "data/pose/images/Train/img_009.jpg", cwd=repo, env=env)
    code, found = _staged(cli, repo)
    assert code == 1
    assert ("PL201", "data/pose/images/Train") in found
    assert all(path.startswith("data/pose/") for _, path in found)  # data/other untouched


def test_a_git_rm_of_a_referenced_image_is_linted(repo, env, cli):
    git("rm", "-q", "data/pose/images/train/img_003.jpg", cwd=repo, env=env)
    code, found = _staged(cli, repo)
    assert code == 1
    assert found == [("PL501", "data/pose/annotations/person_keypoints_train.json")]


def test_a_renamed_split_folder_is_linted(repo, env, cli):
    git("mv", "data/pose/images/val", "data/pose/images/VAL", cwd=repo, env=env)
    code, found = _staged(cli, repo)
    assert code == 1
    assert found == [("PL201", "data/pose/images/VAL")]


def test_a_deleted_split_folder_is_linted(repo, env, cli):
    git("rm", "-rq", "data/pose/images/val", cwd=repo, env=env)
    assert (repo / "data" / "pose" / "images").is_dir()
    code, found = _staged(cli, repo)
    assert code == 1
    assert found == [("PL106", "data/pose/annotations/person_keypoints_val.json")]


def test_a_commit_touching_no_dataset_lints_nothing(repo, env, cli):
    shutil.rmtree(repo / "data" / "other" / "images" / "val")  # broken, but not staged
    (repo / "README.md").write_text("changed\n")
    git("add", "README.md", cwd=repo, env=env)
    result = cli("check", "--staged", cwd=repo)
    assert result.code == 0, result
    assert result.out == "All checks passed!\n"


def test_nothing_staged_lints_every_dataset(repo, env, cli):
    """`pre-commit run --all-files` (or CI) with an empty index diff: every root git tracks."""
    shutil.rmtree(repo / "data" / "other" / "images" / "val")
    code, found = _staged(cli, repo)
    assert code == 1
    assert found == [("PL106", "data/other/annotations/person_keypoints_val.json")]


def test_staged_from_a_subfolder_names_paths_from_there(repo, env, cli):
    git("mv", "data/pose/images/val", "data/pose/images/VAL", cwd=repo, env=env)
    code, found = _staged(cli, repo / "data")
    assert (code, found) == (1, [("PL201", "pose/images/VAL")])


def test_staged_outside_git_cannot_run(tmp_path, cli):
    result = cli("check", "--staged", cwd=tmp_path)
    assert result.code == 2 and "--staged: `git rev-parse" in result.err, result
