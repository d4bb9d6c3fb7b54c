"""Shared fixtures: datasets built on disk in the CVAT layout, with real images."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The suite's runs share one cache (poselint/cache.py) outside the checkout; tests of where
# the cache goes unset this.
os.environ.setdefault("POSELINT_CACHE_DIR", tempfile.mkdtemp(prefix="poselint-test-cache-"))

from builders import build_dataset, cvat_export
from poselint.cli import main


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    """make_dataset(docs=None, name="ds", folders=None, images=True) -> root path.

    docs maps a split name as written on disk to its COCO document (default: a clean
    train + val dataset). Every image a document lists is written as a real JPEG/PNG
    of the listed size unless images=False.
    """
    counter = iter(range(1000))

    def make(
        docs: dict[str, dict] | None = None, name: str | None = None, **kwargs: object
    ) -> Path:
        root = tmp_path / (name or f"ds{next(counter)}")
        return build_dataset(root, docs, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_cvat_export(tmp_path: Path) -> Callable[..., Path]:
    """A raw CVAT COCO Keypoints 1.0 export (Train/Validation, outside points with coords)."""

    def make(name: str = "export") -> Path:
        return cvat_export(tmp_path / name)

    return make


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> list[dict[str, object]]:
        import json

        return json.loads(self.out)  # type: ignore[no-any-return]

    def codes(self) -> set[str]:
        return {d["code"] for d in self.json()}  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[..., CliResult]]:
    """cli("check", path, "--format", "json", cwd=...) -> CliResult, calling main() in-process."""
    monkeypatch.chdir(tmp_path)

    def run(*argv: object, cwd: Path | None = None) -> CliResult:
        if cwd is not None:
            os.chdir(cwd)
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    yield run


def codes_for(cli: Callable[..., CliResult], root: Path, *extra: object) -> set[str]:
    result = cli("check", root, "--format", "json", *extra)
    assert result.code in (0, 1), result
    return result.codes()


# --- the hooks as a dataset repo uses them (end-to-end tests) --------------------------------


@pytest.fixture(scope="session")
def hook_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Isolated git/dvc environment with one PRE_COMMIT_HOME for the whole session: each hook
    environment (with and without dvc) is installed once and shared by every e2e test."""
    from dvcrepo import isolated_env

    home = tmp_path_factory.mktemp("hooks-home")
    environment = isolated_env(home)
    environment["PRE_COMMIT_HOME"] = str(home / "pre-commit")
    return environment


@pytest.fixture(scope="session")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory, hook_env: dict[str, str]) -> Path:
    """This working tree committed into a temp git repo, tagged v<version> as a release is:
    what `repo:` + `rev:` in a dataset repo's .pre-commit-config.yaml name."""
    from dvcrepo import commit_working_tree, git

    from poselint import __version__

    dest = tmp_path_factory.mktemp("hooks-src") / "poselint"
    commit_working_tree(Path(__file__).resolve().parents[1], dest, hook_env)
    git("tag", f"v{__version__}", cwd=dest, env=hook_env)
    return dest
