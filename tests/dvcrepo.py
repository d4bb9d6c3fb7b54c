"""Real git + DVC repositories in temp dirs, driven through the real `git` and `dvc` commands.

Every process gets an isolated environment: no analytics (no network), DVC's global, system
and site-cache folders and git's global config inside the test's temp dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent  # the venv running the tests: dvc, poselint, pre-commit


def isolated_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / "gitconfig"
    if not gitconfig.exists():
        gitconfig.write_text(
            "[user]\n\tname = poselint tests\n\temail = tests@example.invalid\n"
            "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
            "[advice]\n\tdetachedHead = false\n"
        )
    env = dict(os.environ)
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(home / "dvc-site"),
            "DVC_GLOBAL_CONFIG_DIR": str(home / "dvc-global"),
            "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system"),
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "NO_COLOR": "1",
        }
    )
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(name, None)
    return env


def run(
    argv: list[str], cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def dvc(
    *args: str, cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    return run([str(BIN / "dvc"), *args], cwd, env, check)


def git(
    *args: str, cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    return run(["git", *args], cwd, env, check)


def init_repo(path: Path, env: dict[str, str]) -> Path:
    """git init + dvc init, committed."""
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q", cwd=path, env=env)
    dvc("init", "-q", cwd=path, env=env)
    git("commit", "-qm", "dvc init", cwd=path, env=env)
    return path


def add_local_remote(repo: Path, remote: Path, env: dict[str, str]) -> None:
    """A local directory remote, written as a relative path so the pair can be copied."""
    remote.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(remote, repo)
    dvc("remote", "add", "-d", "store", relative, cwd=repo, env=env)


def drop_cache(repo: Path) -> None:
    shutil.rmtree(repo / ".dvc" / "cache", ignore_errors=True)


def cache_files(repo: Path) -> list[Path]:
    cache = repo / ".dvc" / "cache"
    return sorted(p for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def _working_tree_files(repo: Path) -> list[str]:
    """What a clone would hold, plus uncommitted and new (not ignored) files."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=repo,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an sdist)
        skip = {".venv", ".git", ".ci", "__pycache__", ".mypy_cache", ".ruff_cache"}
        return [
            p.relative_to(repo).as_posix()
            for p in repo.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(repo).parts)
        ]
    return [name for name in out.decode().split("\0") if name and (repo / name).is_file()]


def commit_working_tree(repo: Path, dest: Path, env: dict[str, str]) -> str:
    """Copy repo's working tree (a clone plus local edits) into a new git repo at dest and
    commit it, so pre-commit and pip install what is under test; returns the commit."""
    for name in _working_tree_files(repo):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, target)
    git("init", "-q", cwd=dest, env=env)
    git("add", "-A", cwd=dest, env=env)
    git("commit", "-qm", "poselint under test", cwd=dest, env=env)
    return git("rev-parse", "HEAD", cwd=dest, env=env).stdout.strip()
