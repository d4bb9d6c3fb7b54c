"""The installed poselint, as a user gets it: console script, `pip install .`, pre-commit run.

1. The `poselint` console script of the environment running the tests.
2. Acceptance: a fresh venv, the README's `pip install "poselint @ git+<url>@v<version>"` (not
   editable) of a copy of the working tree tagged as the release, then that venv's `poselint`
   on the example dataset (exit 0) and on a copy with `images/Train`
   (exit 1, PL201 naming `train`); `--format json` is valid JSON with the contract's keys.
3. `pre-commit run <hook> --all-files` in a temp git repo holding a dataset committed to git,
   the hooks installed from this working tree at its release tag (conftest.py: hooks_repo):
   it fails on a broken dataset and passes on a clean one.

The working tree is copied into a temp git repo and committed there (see test_e2e_dvc.py): pip
builds in that copy, so no build artefacts land in the repo. The hooks run through
`pre-commit run` with the session's PRE_COMMIT_HOME, not `try-repo`, which builds the hook
venv afresh on every call.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dvcrepo import BIN, commit_working_tree, git, isolated_env, run

from poselint import __version__

REPO = Path(__file__).resolve().parents[1]
URL = "https://github.com/poselint/poselint"
EXAMPLE = REPO / "example-repo"
CLEAN = EXAMPLE / "data" / "pose"
KEYS = {"code", "severity", "path", "message", "fixable"}
TRAIN_ERROR = "split 'Train' should be 'train'"


def _dataset_copy(dest: Path, split_dir: str = "train") -> Path:
    """The example dataset at dest; split_dir renames the train split as CVAT would."""
    shutil.copytree(CLEAN, dest)
    if split_dir != "train":
        (dest / "images" / "train").rename(dest / "images" / split_dir)
        annotations = dest / "annotations"
        (annotations / "person_keypoints_train.json").rename(
            annotations / f"person_keypoints_{split_dir}.json"
        )
    return dest


def _with_bad_visibility(root: Path) -> Path:
    """A problem inside a JSON file, so the JSON report carries a pointer: v=5 is no flag."""
    ann = root / "annotations" / "person_keypoints_val.json"
    doc = json.loads(ann.read_text())
    doc["annotations"][0]["keypoints"][2] = 5
    ann.write_text(json.dumps(doc))
    return root


def _assert_report(stdout: str) -> list[dict[str, object]]:
    report = json.loads(stdout)
    assert isinstance(report, list)
    for diagnostic in report:
        assert set(diagnostic) >= KEYS, diagnostic
        assert diagnostic["severity"] in ("error", "warning")
        assert isinstance(diagnostic["fixable"], bool)
        assert isinstance(diagnostic["path"], str) and isinstance(diagnostic["message"], str)
        if "pointer" in diagnostic:
            pointer = diagnostic["pointer"]
            assert isinstance(pointer, str) and (pointer == "" or pointer.startswith("/"))
    return report  # type: ignore[no-any-return]


def _no_crash(proc: subprocess.CompletedProcess[str]) -> None:
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output and "PL000" not in output, output


# 1. The console script of the environment running the tests ----------------------------------


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("install-home")
    environment = isolated_env(home)
    environment["PRE_COMMIT_HOME"] = str(home / "pre-commit")  # nothing lands in ~/.cache
    return environment


def test_console_script_of_this_environment(tmp_path, env):
    poselint = str(BIN / "poselint")
    assert Path(poselint).is_file()

    version = run([poselint, "--version"], tmp_path, env)
    assert version.stdout.strip() == f"poselint {__version__}"

    clean = run([poselint, "check", str(_dataset_copy(tmp_path / "clean"))], tmp_path, env)
    assert "All checks passed!" in clean.stdout

    missing = run([poselint, "check", "broken"], tmp_path, env, check=False)
    assert missing.returncode == 2, missing  # a path that does not exist: could not run
    _dataset_copy(tmp_path / "broken", "Train")
    broken = run([poselint, "check", "broken"], tmp_path, env, check=False)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"broken/images/Train: PL201 [*] {TRAIN_ERROR}" in broken.stdout
    _no_crash(broken)


# 2. A fresh venv, `pip install .` -------------------------------------------------------------


@pytest.fixture(scope="module")
def source_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    """This repository's working tree (what a clone holds, plus local edits), committed and
    tagged as the release the README names."""
    dest = tmp_path_factory.mktemp("poselint-src")
    commit_working_tree(REPO, dest, env)
    git("tag", f"v{__version__}", cwd=dest, env=env)
    return dest


def readme_install_command() -> list[str]:
    """The README's `pip install` line for a dataset repo, as written."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [line] = re.findall(r"^pip install .*git\+https://.*$", readme, flags=re.MULTILINE)
    return shlex.split(line)


def test_readme_install_command_names_this_release():
    assert readme_install_command() == [
        "pip",
        "install",
        f"poselint @ git+{URL}@v{__version__}",
    ]


@pytest.fixture(scope="module")
def fresh_venv(
    tmp_path_factory: pytest.TempPathFactory, source_repo: Path, env: dict[str, str]
) -> Path:
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    run([sys.executable, "-m", "venv", str(venv)], venv.parent, env)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    # the README's command verbatim, the URL replaced by the local copy (a file: URL in a
    # requirement needs a host to parse)
    [requirement] = readme_install_command()[2:]
    local = requirement.replace(f"git+{URL}", f"git+file://localhost{source_repo}")
    run([*pip, "--disable-pip-version-check", local], venv.parent, env)
    return venv


@pytest.mark.e2e
def test_fresh_venv_holds_a_real_install(fresh_venv, env, tmp_path):
    where = run(
        [str(fresh_venv / "bin" / "python"), "-c", "import poselint; print(poselint.__file__)"],
        tmp_path,
        env,
    ).stdout.strip()
    assert Path(where).is_relative_to(fresh_venv / "lib"), where  # not the editable checkout
    assert (Path(where).parent / "schemas" / "coco-keypoints.schema.json").is_file()
    version = run([str(fresh_venv / "bin" / "poselint"), "--version"], tmp_path, env)
    assert version.stdout.strip() == f"poselint {__version__}"


@pytest.mark.e2e
def test_fresh_venv_example_dataset_passes(fresh_venv, env, tmp_path):
    poselint = str(fresh_venv / "bin" / "poselint")
    # In example-repo, as its README says: no PATH lints [tool.poselint] datasets.
    for argv in ([poselint, "check"], [poselint, "check", "data/pose"]):
        proc = run(argv, EXAMPLE, env, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "All checks passed!" in proc.stdout
    report = run([poselint, "check", str(CLEAN), "--format", "json"], tmp_path, env)
    assert _assert_report(report.stdout) == []


@pytest.mark.e2e
def test_fresh_venv_train_split_fails(fresh_venv, env, tmp_path):
    poselint = str(fresh_venv / "bin" / "poselint")
    shutil.copy2(EXAMPLE / "pyproject.toml", tmp_path / "pyproject.toml")
    _dataset_copy(tmp_path / "data" / "pose", "Train")

    proc = run([poselint, "check"], tmp_path, env, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"data/pose/images/Train: PL201 [*] {TRAIN_ERROR}" in proc.stdout
    assert "rename images/Train/ -> images/train/" in proc.stdout
    _no_crash(proc)

    proc = run([poselint, "check", "--format", "json"], tmp_path, env, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = _assert_report(proc.stdout)
    assert {(d["code"], d["path"], d["severity"], d["fixable"]) for d in report} == {
        ("PL201", "data/pose/images/Train", "error", True),
        ("PL201", "data/pose/annotations/person_keypoints_Train.json", "error", True),
    }
    assert all("'train'" in str(d["message"]) for d in report)


@pytest.mark.e2e
def test_fresh_venv_json_report_has_pointers(fresh_venv, env, tmp_path):
    _with_bad_visibility(_dataset_copy(tmp_path / "ds"))
    proc = run(
        [str(fresh_venv / "bin" / "poselint"), "check", "ds", "--format", "json"],
        tmp_path,
        env,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = _assert_report(proc.stdout)
    [bad_flag] = [d for d in report if d["code"] == "PL602"]
    assert bad_flag["path"] == "ds/annotations/person_keypoints_val.json"
    assert bad_flag["pointer"] == "/annotations/0/keypoints/2"
    assert bad_flag["severity"] == "error"


@pytest.mark.e2e
def test_fresh_venv_same_verdict_from_any_directory(fresh_venv, env, tmp_path):
    """The dataset's own [tool.poselint] applies wherever poselint is run from (scenario 5)."""
    repo = tmp_path / "repo"
    _dataset_copy(repo / "data" / "pose")
    (repo / "data" / "pose" / "notes.txt").write_text("kept on purpose\n")
    (repo / "pyproject.toml").write_text('[tool.poselint]\nignore = ["PL101"]\n')
    poselint = str(fresh_venv / "bin" / "poselint")
    for cwd, path in ((repo, "data/pose"), (tmp_path, "repo/data/pose"), (repo / "data", "pose")):
        proc = run([poselint, "check", path], cwd, env, check=False)
        assert (proc.returncode, proc.stdout) == (0, "All checks passed!\n"), (cwd, proc)


# 3. pre-commit run ----------------------------------------------------------------------------


def _dataset_git_repo(path: Path, env: dict[str, str], split_dir: str) -> Path:
    """A git repo with the example dataset committed to git (not DVC) under data/pose."""
    path.mkdir()
    git("init", "-q", cwd=path, env=env)
    _dataset_copy(path / "data" / "pose", split_dir)
    git("add", "-A", cwd=path, env=env)
    git("commit", "-qm", "dataset", cwd=path, env=env)
    return path


def _run_hook(
    repo: Path, hook: str, hooks_repo: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`pre-commit run HOOK --all-files` with the hook from hooks_repo at its release tag."""
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks_repo}\n    rev: v{__version__}\n    hooks:\n      - id: {hook}\n"
    )
    argv = [str(BIN / "pre-commit"), "run", hook, "--all-files"]
    return run(argv, repo, env, check=False)


@pytest.mark.e2e
def test_pre_commit_runs_the_hooks(tmp_path, hook_env, hooks_repo):
    env = hook_env  # conftest.py: one hook environment for the session
    broken = _dataset_git_repo(tmp_path / "broken", env, "Train")
    failed = _run_hook(broken, "poselint", hooks_repo, env)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output
    assert "poselint (pose dataset lint)" in output and "Failed" in output, output
    assert "- exit code: 1" in output, output  # violations, not "could not run" (2)
    assert "PL201" in output and TRAIN_ERROR in output, output
    _no_crash(failed)

    structure = _run_hook(broken, "poselint-structure", hooks_repo, env)
    output = structure.stdout + structure.stderr
    assert structure.returncode != 0, output
    assert "poselint structure (folders and split names)" in output and "Failed" in output
    assert "- exit code: 1" in output, output
    assert "PL201" in output and TRAIN_ERROR in output, output
    _no_crash(structure)

    clean = _dataset_git_repo(tmp_path / "clean", env, "train")
    passed = _run_hook(clean, "poselint", hooks_repo, env)
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    # "Skipped" would mean the hook did not run: a pass that proves nothing.
    assert "poselint (pose dataset lint)" in output and "Passed" in output, output
    assert "Skipped" not in output and "PL2" not in output, output
