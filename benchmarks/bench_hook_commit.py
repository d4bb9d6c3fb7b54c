"""Benchmark the commit gate: a commit staging 10,000 images, through a real pre-commit.

    .venv/bin/python benchmarks/bench_hook_commit.py [--images N] [--root DIR]

Builds a git repo holding one dataset root of N real JPEGs (bench_dvc.build: one person per
image, ~N/10 in val), stages all of it (`git add -A`: N images + 2 annotation files), and
installs the `poselint` hook from a git copy of this working tree tagged v<version>, as a
dataset repo's .pre-commit-config.yaml names it. Then, best of 3 fresh processes each:

- `pre-commit run` (what `git commit` runs): the whole command, and the hook's own duration
  as `pre-commit run -v` reports it;
- `poselint check data/pose`, once, in the same environment.

pre-commit would split 10,000 file arguments into batches of at most 128 KiB of command line
(one process each, even with require_serial); the hooks take no file arguments and ask git for
the staged paths instead, so the root is linted once. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

from bench_dvc import build  # noqa: E402
from dvcrepo import BIN, commit_working_tree, git, isolated_env  # noqa: E402

from poselint import __version__  # noqa: E402


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
    return elapsed, proc.stdout + proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--root", type=Path, default=Path("/tmp/poselint-bench-hook"))
    args = parser.parse_args()
    shutil.rmtree(args.root, ignore_errors=True)
    env = isolated_env(args.root / "home")
    env["PRE_COMMIT_HOME"] = str(args.root / "home" / "pre-commit")

    hooks = args.root / "poselint"
    hooks.mkdir(parents=True)
    commit_working_tree(REPO, hooks, env)
    git("tag", f"v{__version__}", cwd=hooks, env=env)

    repo = args.root / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo, env=env)
    build(repo, args.images)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks}\n    rev: v{__version__}\n    hooks:\n      - id: poselint\n"
    )
    git("add", "-A", cwd=repo, env=env)
    staged = git("diff", "--cached", "--name-only", cwd=repo, env=env).stdout.count("\n")
    pre_commit = str(BIN / "pre-commit")
    timed([pre_commit, "install-hooks"], repo, env)  # one-time hook venv, not measured

    runs, durations = [], []
    for _ in range(3):
        elapsed, output = timed([pre_commit, "run", "-v"], repo, env)
        runs.append(elapsed)
        [duration] = re.findall(r"- duration: ([0-9.]+)s", output)
        durations.append(float(duration))
    check = min(
        timed([str(BIN / "poselint"), "check", "data/pose"], repo, env)[0] for _ in range(3)
    )

    print(f"{staged:,} staged files ({args.images:,} images), one dataset root")
    print(f"poselint check data/pose:           {check:.2f} s")
    print(
        f"pre-commit run, the poselint hook:  {min(durations):.2f} s "
        f"({min(durations) / check:.2f}x)"
    )
    print(f"pre-commit run, whole command:      {min(runs):.2f} s ({min(runs) / check:.2f}x)")


if __name__ == "__main__":
    main()
