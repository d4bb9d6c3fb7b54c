"""Configuration is found from the dataset being linted (ruff-style), not from the cwd."""

from __future__ import annotations

from pathlib import Path

from builders import build_dataset


def _repo_with_config(tmp_path: Path) -> Path:
    """A dataset repo whose pyproject ignores PL101, with a stray file PL101 would flag."""
    repo = tmp_path / "repo"
    root = build_dataset(repo / "data" / "pose")
    (root / "notes.txt").write_text("x")
    (repo / "pyproject.toml").write_text('[tool.poselint]\nignore = ["PL101"]\n')
    return repo


def test_same_verdict_from_the_repo_and_from_its_parent(tmp_path, cli):
    repo = _repo_with_config(tmp_path)
    inside = cli("check", "data/pose", "--format", "json", cwd=repo)
    assert (inside.code, inside.json()) == (0, [])
    above = cli("check", "repo/data/pose", "--format", "json", cwd=tmp_path)
    assert (above.code, above.json()) == (0, [])
    elsewhere = cli("check", repo / "data" / "pose", "--format", "json", cwd=tmp_path / "repo/data")
    assert (elsewhere.code, elsewhere.json()) == (0, [])


def test_config_next_to_the_root_wins_over_the_cwds(tmp_path, cli):
    _repo_with_config(tmp_path)
    (tmp_path / "poselint.toml").write_text("ignore = []\n")  # the cwd's: not the dataset's
    result = cli("check", "repo/data/pose", "--format", "json", cwd=tmp_path)
    assert (result.code, result.json()) == (0, [])


def test_config_option_still_overrides(tmp_path, cli):
    repo = _repo_with_config(tmp_path)
    (tmp_path / "strict.toml").write_text("ignore = []\n")
    result = cli(
        "check", "data/pose", "--config", tmp_path / "strict.toml", "--format", "json", cwd=repo
    )
    assert result.code == 1
    assert [(d["code"], d["path"]) for d in result.json()] == [("PL101", "data/pose/notes.txt")]


def test_each_root_gets_its_own_config(tmp_path, cli):
    _repo_with_config(tmp_path)
    other = build_dataset(tmp_path / "other")
    (other / "notes.txt").write_text("x")
    result = cli("check", "repo/data/pose", "other", "--format", "json", cwd=tmp_path)
    assert result.code == 1
    assert [(d["code"], d["path"]) for d in result.json()] == [("PL101", "other/notes.txt")]
