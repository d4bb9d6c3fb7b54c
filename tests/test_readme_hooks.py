"""The README's hook snippets work verbatim: each yaml block holding `repos:` is run by a real
pre-commit in a dataset repo, with only the repository URL replaced by a local copy of this
working tree (tagged as the release the snippet names). Clean data passes, broken data fails;
the snippet's `rev:` is this version's tag and CHANGELOG.md has an entry for it."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from dvcrepo import BIN, git, run

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
URL = "https://github.com/poselint/poselint"
EXAMPLE = REPO / "example-repo"
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def _snippets() -> list[str]:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
    return [b for b in blocks if b.startswith("repos:")]


SNIPPETS = _snippets()


def test_snippets_name_this_release():
    assert len(SNIPPETS) >= 2  # Hooks and DVC
    for snippet in SNIPPETS:
        [entry] = yaml.safe_load(snippet)["repos"]
        assert entry["repo"] == URL
        assert entry["rev"] == f"v{VERSION}"
    example = yaml.safe_load((EXAMPLE / ".pre-commit-config.yaml").read_text())
    assert [(r["repo"], r["rev"]) for r in example["repos"]] == [(URL, f"v{VERSION}")]
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert re.search(rf"^## {re.escape(VERSION)}\b", changelog, flags=re.MULTILINE), VERSION


def _dataset_repo(path: Path, env: dict[str, str], config: str, data: Path) -> Path:
    path.mkdir()
    git("init", "-q", cwd=path, env=env)
    shutil.copytree(data, path / "data" / "pose")
    (path / ".pre-commit-config.yaml").write_text(config)
    git("add", "-A", cwd=path, env=env)
    return path


@pytest.mark.e2e
@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_snippet_runs_verbatim(index, tmp_path, hook_env, hooks_repo):
    snippet = SNIPPETS[index]
    assert snippet.count(URL) == 1
    config = snippet.replace(URL, str(hooks_repo))
    pre_commit = [str(BIN / "pre-commit"), "run", "--all-files"]

    clean = _dataset_repo(tmp_path / "clean", hook_env, config, EXAMPLE / "data" / "pose")
    passed = run(pre_commit, clean, hook_env, check=False)
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    assert "Passed" in output and "Failed" not in output and "Skipped" not in output, output

    broken = _dataset_repo(tmp_path / "broken", hook_env, config, EXAMPLE / "incoming")
    failed = run(pre_commit, broken, hook_env, check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "Failed" in output and "PL201" in output, output
    assert "Traceback" not in output and "PL000" not in output, output
