"""DVC-native poselint against real `dvc` repositories: discovery of tracked datasets,
not-pulled datasets (PL100), stale workspaces (PL108), --no-pull through a local remote,
split leakage (PL413) and --stats. The repositories are built with the real dvc CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from dvcrepo import (
    add_local_remote,
    cache_files,
    drop_cache,
    dvc,
    init_repo,
    isolated_env,
)
from PIL import Image

from builders import build_dataset, clean_docs, write_image


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Isolated env for dvc/git subprocesses, also applied to this process (in-process CLI)."""
    environment = isolated_env(tmp_path / "home")
    for key, value in environment.items():
        if key.startswith(("DVC_", "GIT_CONFIG")):
            monkeypatch.setenv(key, value)
    return environment


@pytest.fixture(scope="session")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `git init` + `dvc init`, copied by each test (saves ~2 s of process starts each)."""
    base = tmp_path_factory.mktemp("dvc-template")
    return init_repo(base / "repo", isolated_env(base / "home"))


@pytest.fixture
def repo(tmp_path: Path, env: dict[str, str], initialised: Path) -> Path:
    return Path(shutil.copytree(initialised, tmp_path / "repo", symlinks=True))


def _broken_docs() -> dict[str, dict]:
    docs = clean_docs()
    return {"Train": docs["train"], "val": docs["val"]}


def _leaky_docs() -> dict[str, dict]:
    """val's frame is named as a copy of train's img_001 (_make_leak makes it one)."""
    docs = clean_docs()
    docs["val"]["images"][0]["file_name"] = "copy_of_img_001.jpg"
    return docs


def _build_leaky(root: Path, leak: bool) -> Path:
    build_dataset(root, _leaky_docs())
    # builders paint every image alike: give the val frame its own picture first
    Image.new("RGB", (64, 48), (10, 200, 30)).save(
        root / "images" / "val" / "copy_of_img_001.jpg", "JPEG"
    )
    if leak:
        _make_leak(root)
    return root


def _make_leak(root: Path) -> None:
    write_image(root / "images" / "train" / "img_001.jpg", 64, 48)
    shutil.copyfile(
        root / "images" / "train" / "img_001.jpg", root / "images" / "val" / "copy_of_img_001.jpg"
    )


def test_plain_folder_does_not_import_dvc(make_dataset):
    root = make_dataset()
    code = (
        "import sys\nfrom poselint.cli import main\n"
        f"rc = main(['check', {str(root)!r}, '-q'])\n"
        "loaded = sorted(m for m in sys.modules if m == 'dvc' or m.startswith('dvc.'))\n"
        "print(rc, loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "0 []"


def test_tracked_dataset_imports_dvc_for_the_stale_check(repo, env):
    """The counter-test: the probe above would see dvc if poselint imported it."""
    build_dataset(repo / "data" / "pose")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    code = (
        "import sys\nfrom poselint.cli import main\n"
        "rc = main(['check', 'data/pose.dvc', '-q'])\n"
        "print(rc, 'dvc' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True
    )
    assert proc.stdout.strip() == "0 True", proc


def test_no_path_lints_every_tracked_dataset_and_skips_models(repo, env, cli):
    build_dataset(repo / "data" / "a", _broken_docs())
    build_dataset(repo / "data" / "b")
    build_dataset(repo / "stage_out" / "c", _broken_docs())
    (repo / "models").mkdir()
    (repo / "models" / "model.bin").write_bytes(b"\0" * 64)
    (repo / "models" / "weights").mkdir()
    (repo / "models" / "weights" / "w.bin").write_bytes(b"\1" * 64)
    dvc("add", "-q", "data/a", "data/b", "models/model.bin", "models/weights", cwd=repo, env=env)
    (repo / "dvc.yaml").write_text(
        "stages:\n  prepare:\n    cmd: 'true'\n    outs:\n      - stage_out\n"
    )
    dvc("commit", "-q", "-f", "prepare", cwd=repo, env=env)
    assert "stage_out" in (repo / "dvc.lock").read_text()

    result = cli("check", "--format", "json", cwd=repo)
    assert result.code == 1, result
    paths = {str(d["path"]) for d in result.json()}
    assert {p for p in paths if p.endswith("images/Train")} == {
        "data/a/images/Train",
        "stage_out/c/images/Train",
    }
    assert not any(p.startswith("models") for p in paths)
    assert {d["code"] for d in result.json()} == {"PL201"}, [
        d["message"] for d in result.json() if d["code"] != "PL201"
    ]

    # A subfolder is no different: the whole repo is searched.
    below = cli("check", "--format", "json", cwd=repo / "models").json()
    assert len(below) == len(result.json()) and {d["message"] for d in below} == {
        d["message"] for d in result.json()
    }


def test_model_dvc_file_lints_nothing(repo, env, cli):
    (repo / "model.bin").write_bytes(b"\0" * 64)
    dvc("add", "-q", "model.bin", cwd=repo, env=env)
    (repo / "model.bin").unlink()  # not pulled, and still not a dataset
    result = cli("check", "model.bin.dvc", cwd=repo)
    assert result.code == 0 and "All checks passed!" in result.out


def test_not_pulled_fails_naming_dvc_pull(repo, env, cli):
    build_dataset(repo / "data" / "pose")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    shutil.rmtree(repo / "data" / "pose")
    for argv in (["data/pose.dvc"], [], ["data/pose"]):
        result = cli("check", *argv, "--format", "json", cwd=repo)
        assert result.code == 1, (argv, result)
        [d] = result.json()
        assert d["code"] == "PL100" and d["path"] == "data/pose"
        assert "`dvc pull data/pose.dvc`" in d["message"] and "--no-pull" in d["message"]
    drop_cache(repo)  # no manifest anywhere: still a failure, never a pass
    result = cli("check", "--format", "json", cwd=repo)
    assert result.code == 1 and [d["code"] for d in result.json()] == ["PL100"]


def test_not_pulled_dvc_yaml_output_names_the_output(repo, env, cli):
    build_dataset(repo / "out" / "pose")
    (repo / "dvc.yaml").write_text("stages:\n  make:\n    cmd: 'true'\n    outs:\n      - out\n")
    dvc("commit", "-q", "-f", "make", cwd=repo, env=env)
    shutil.rmtree(repo / "out")
    result = cli("check", "dvc.lock", "--format", "json", cwd=repo)
    [d] = result.json()
    assert d["code"] == "PL100" and "`dvc pull out`" in d["message"], d


def test_pl108_stale_workspace(repo, env, cli):
    root = build_dataset(repo / "data" / "pose")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    assert cli("check", "data/pose.dvc", "--format", "json", cwd=repo).json() == []

    # Same content, other bytes: clean for every other rule, but not what pose.dvc records.
    ann = root / "annotations" / "person_keypoints_val.json"
    ann.write_text(json.dumps(json.loads(ann.read_text()), indent=2))
    write_image(root / "images" / "val" / "extra.png", 64, 48)
    result = cli("check", "data/pose.dvc", "--format", "json", "--ignore", "PL505", cwd=repo)
    assert result.code == 1
    [d] = result.json()
    assert d["code"] == "PL108" and d["path"] == "data/pose"
    assert "modified: annotations/person_keypoints_val.json" in d["message"]
    assert "added: images/val/extra.png" in d["message"]
    assert "`dvc add data/pose`" in d["message"]

    # The folder (or a file in it) names the same tracked dataset as its .dvc file.
    result = cli(
        "check", "data/pose/annotations", "--format", "json", "--ignore", "PL505", cwd=repo
    )
    assert [d["code"] for d in result.json()] == ["PL108"]

    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    result = cli("check", "data/pose.dvc", "--format", "json", "--ignore", "PL505", cwd=repo)
    assert result.code == 0 and result.json() == []


def test_pl108_is_silent_outside_a_dvc_repo(make_dataset, cli, tmp_path):
    """A .dvc file without a DVC repo cannot be compared: no PL108, no PL000."""
    root = make_dataset()
    (tmp_path / "ds.dvc").write_text(
        f"outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: {root.name}\n"
    )
    assert cli("check", tmp_path / "ds.dvc", "--format", "json").json() == []


def _pushed(
    repo: Path, env: dict[str, str], docs: dict | None = None, leak: bool | None = None
) -> Path:
    """dvc add + dvc push to ../remote, then delete the workspace copy AND the cache."""
    root = repo / "data" / "pose"
    if leak is None:
        build_dataset(root, docs)
    else:
        _build_leaky(root, leak)
    (root / "images" / "val" / "gone.jpg").unlink(missing_ok=True)
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    add_local_remote(repo, repo.parent / "remote", env)
    dvc("push", "-q", cwd=repo, env=env)
    shutil.rmtree(root)
    drop_cache(repo)
    return root


@pytest.fixture(scope="module")
def pushed_once(tmp_path_factory: pytest.TempPathFactory, initialised: Path) -> Path:
    base = tmp_path_factory.mktemp("pushed")
    repo = Path(shutil.copytree(initialised, base / "repo", symlinks=True))
    _pushed(repo, isolated_env(base / "home"))
    return base


@pytest.fixture
def pushed(tmp_path: Path, env: dict[str, str], pushed_once: Path) -> Path:
    """A clean dataset pushed to a local remote (a relative path), with no workspace copy and
    no cache: a fresh copy per test, so a test may damage the remote."""
    shutil.copytree(pushed_once / "remote", tmp_path / "remote")
    return Path(shutil.copytree(pushed_once / "repo", tmp_path / "repo", symlinks=True))


def test_no_pull_reads_through_the_remote(pushed, cli):
    repo, root = pushed, pushed / "data" / "pose"
    result = cli("check", "--no-pull", "--format", "json", cwd=repo)
    assert result.code == 0 and result.json() == [], result
    assert "image sizes (headers) are not checked" in result.err
    assert not root.exists() and cache_files(repo) == []  # nothing pulled, nothing cached

    # The same dataset as the .dvc file names it, and by its (absent) folder.
    assert cli("check", "--no-pull", "data/pose.dvc", cwd=repo).code == 0
    assert cli("check", "--no-pull", "data/pose", cwd=repo).code == 0


def test_no_pull_finds_problems_without_the_data(repo, env, cli):
    docs = _broken_docs()
    docs["val"]["images"].append({**docs["val"]["images"][0], "id": 9, "file_name": "gone.jpg"})
    _pushed(repo, env, docs)
    result = cli("check", "--no-pull", "--format", "json", cwd=repo)
    assert result.code == 1
    codes = {d["code"] for d in result.json()}
    assert {"PL201", "PL501"} <= codes and "PL000" not in codes, result.json()
    assert any("gone.jpg" in str(d["message"]) for d in result.json() if d["code"] == "PL501")


def test_no_pull_never_reads_image_bytes(pushed, cli):
    """Delete every image object from the remote: --no-pull must not notice."""
    repo = pushed
    pose_dvc = (repo / "data" / "pose.dvc").read_text()
    manifest_md5 = pose_dvc.split("md5: ")[1].split(".dir")[0]
    remote = repo.parent / "remote"
    manifest = json.loads(
        (remote / "files" / "md5" / manifest_md5[:2] / f"{manifest_md5[2:]}.dir").read_text()
    )
    images = [e["md5"] for e in manifest if e["relpath"].startswith("images/")]
    for md5 in images:
        (remote / "files" / "md5" / md5[:2] / md5[2:]).unlink(missing_ok=True)
    result = cli("check", "--no-pull", "--format", "json", cwd=repo)
    assert result.code == 0 and result.json() == [], result


def test_no_pull_without_a_remote_fails_clearly(repo, env, cli):
    build_dataset(repo / "data" / "pose")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    shutil.rmtree(repo / "data" / "pose")
    drop_cache(repo)
    result = cli("check", "--no-pull", "data/pose.dvc", "--format", "json", cwd=repo)
    assert result.code == 1, result
    [d] = result.json()
    assert d["code"] == "PL100" and "could not read it through DVC" in d["message"]


def test_no_pull_stats_match_the_workspace_stats(pushed, cli, tmp_path):
    repo = pushed
    build_dataset(tmp_path / "disk" / "data" / "pose")
    cli("check", "data/pose", "--stats", tmp_path / "disk.json", cwd=tmp_path / "disk")
    cli("check", "--no-pull", "--stats", tmp_path / "dvc.json", cwd=repo)
    disk = json.loads((tmp_path / "disk.json").read_text())
    assert disk == json.loads((tmp_path / "dvc.json").read_text())
    assert disk == {
        "data/pose": {
            "train": {
                "annotations": 2,
                "images": 3,
                "keypoints": {"total": 8, "v0": 1, "v1": 2, "v2": 5},
                "outside_share": 0.125,
            },
            "val": {
                "annotations": 1,
                "images": 1,
                "keypoints": {"total": 4, "v0": 0, "v1": 1, "v2": 3},
                "outside_share": 0.0,
            },
        }
    }


# --- PL413 split leakage ----------------------------------------------------------------


def _leakage(result) -> list[dict]:
    assert result.code in (0, 1), result
    return [d for d in result.json() if d["code"] == "PL413"]


def test_pl413_uses_dvc_md5s_without_opt_in(repo, env, cli):
    _build_leaky(repo / "data" / "pose", leak=True)
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    [d] = _leakage(cli("check", "data/pose.dvc", "--format", "json", cwd=repo))
    assert d["path"] == "data/pose/images/val/copy_of_img_001.jpg"
    assert "images/train/img_001.jpg" in d["message"] and "2 splits" in d["message"]


def test_pl413_hashes_only_what_changed_since_dvc_add(repo, env, cli):
    root = _build_leaky(repo / "data" / "pose", leak=False)
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    assert _leakage(cli("check", "data/pose.dvc", "--format", "json", cwd=repo)) == []
    _make_leak(root)  # after `dvc add`: the recorded md5 of the val copy is stale
    result = cli("check", "data/pose.dvc", "--format", "json", cwd=repo)
    assert {d["code"] for d in result.json()} == {"PL108", "PL413"}


def test_pl413_with_no_pull(repo, env, cli):
    _pushed(repo, env, leak=True)
    [d] = _leakage(cli("check", "--no-pull", "--format", "json", cwd=repo))
    assert "images/train/img_001.jpg" in d["message"]


def test_pl413_without_dvc_is_opt_in_hashing(make_dataset, cli, tmp_path):
    root = _build_leaky(tmp_path / "leaky", leak=True)
    assert _leakage(cli("check", root, "--format", "json")) == []
    (tmp_path / "poselint.toml").write_text("leakage_hash_images = true\n")
    [d] = _leakage(cli("check", root, "--format", "json"))
    assert d["path"].endswith("images/val/copy_of_img_001.jpg")


def test_pl413_clean_when_splits_differ(make_dataset, cli, tmp_path):
    (tmp_path / "poselint.toml").write_text("leakage_hash_images = true\n")
    assert _leakage(cli("check", make_dataset(), "--format", "json")) == []


def test_stats_counts_visibility_per_split(make_dataset, cli, tmp_path):
    docs = clean_docs()
    docs["train"]["annotations"][0]["keypoints"][2] = 0  # one more v=0
    root = make_dataset(docs)
    target = tmp_path / "metrics" / "dataset.json"  # the folder is created
    cli("check", root, "--stats", target)
    stats = json.loads(target.read_text())
    [key] = stats
    assert stats[key]["train"]["keypoints"] == {"total": 8, "v0": 2, "v1": 2, "v2": 4}
    assert stats[key]["train"]["outside_share"] == 0.25
    assert stats[key]["val"]["images"] == 1


def test_stats_skip_a_split_that_does_not_parse(make_dataset, cli, tmp_path):
    root = make_dataset()
    (root / "annotations" / "person_keypoints_val.json").write_text("{")
    result = cli("check", root, "--stats", tmp_path / "s.json")
    assert result.code == 1
    assert next(iter(json.loads((tmp_path / "s.json").read_text()).values())).keys() == {"train"}


def test_fix_with_no_pull_is_refused(pushed, cli):
    result = cli("check", "--no-pull", "--fix", cwd=pushed)
    assert result.code == 2 and "dvc pull" in result.err


def test_without_dvc_the_stale_check_is_an_error_naming_the_fix(repo, env):
    """Never a silent pass: a DVC-tracked dataset whose staleness cannot be checked blocks."""
    root = build_dataset(repo / "data" / "pose")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    (root / "annotations" / "person_keypoints_val.json").write_text(
        json.dumps(clean_docs()["val"], indent=3)
    )
    code = (
        "import sys\nsys.modules['dvc'] = None  # as in a hook venv without dvc\n"
        "from poselint.cli import main\nsys.exit(main(['check', 'data/pose.dvc', '-q']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 1, proc
    assert "data/pose: PL108 cannot tell whether the workspace is what data/pose.dvc " in (
        proc.stdout
    )
    assert "dvc is not installed where poselint runs: install it: pip install 'poselint[dvc]'" in (
        proc.stdout
    )
    assert "PL000" not in proc.stdout

    hook = subprocess.run(  # as pre-commit runs it: the fix is the hook's, not pip's
        [sys.executable, "-c", code], cwd=repo, env={**env, "PRE_COMMIT": "1"}, **_text
    )
    assert hook.returncode == 1, hook
    assert 'use the `poselint-dvc` hook id, or add "dvc>=3,<4" to this hook\'s ' in hook.stdout

    with_dvc = subprocess.run(
        [sys.executable, "-m", "poselint", "check", "data/pose.dvc", "-q"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert with_dvc.returncode == 1 and "PL108" in with_dvc.stdout


_text: dict[str, Any] = {"capture_output": True, "text": True}


def test_remote_manifest_agrees_with_dvcs_own_listing(pushed, env):
    """The fast path (the .dir object from the remote) and DVC's data-index walk agree."""
    from poselint.sources.dvc.cache import cached_manifest
    from poselint.sources.dvc.files import outputs_of_dvc_file
    from poselint.sources.dvc.remote import DvcReader
    from poselint.sources.dvc.session import DvcSession

    with DvcSession() as session:
        [output] = outputs_of_dvc_file(pushed / "data" / "pose.dvc")
        reader = DvcReader(session, pushed)
        fast = reader._remote_manifest(output)
        assert fast is not None and len(fast) == 6
        assert fast == reader._walk(output)
        assert cached_manifest(output) is None  # it did not come from the cache
        ann = pushed / "data" / "pose" / "annotations" / "person_keypoints_val.json"
        by_md5 = reader.read(ann, 10**6, output, fast["annotations/person_keypoints_val.json"])
        by_index = reader.read(ann, 10**6, output, "")  # no md5: DVC's data index
        assert isinstance(by_md5, bytes) and by_md5 == by_index
        assert json.loads(by_md5) == clean_docs()["val"]


def test_one_report_names_paths_in_one_form(repo, env, cli, tmp_path):
    """From outside the repo, the diagnostic's path and the command in its message are both
    absolute (relative to the cwd only when under it): never `../repo/...` beside `/tmp/...`."""
    root = build_dataset(repo / "data" / "pose")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    ann = root / "annotations" / "person_keypoints_val.json"
    ann.write_text(json.dumps(json.loads(ann.read_text()), indent=2))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    [d] = cli("check", root, "--format", "json", cwd=elsewhere).json()
    assert d["code"] == "PL108" and d["path"] == root.as_posix()
    assert f"what {repo.as_posix()}/data/pose.dvc records" in d["message"], d
    assert (
        f"`dvc add {root.as_posix()}` and stage {repo.as_posix()}/data/pose.dvc" in (d["message"])
    )
    [d] = cli("check", root, "--format", "json", cwd=repo).json()
    assert "`dvc add data/pose` and stage data/pose.dvc" in d["message"], d


def test_pl108_for_a_dvc_yaml_output(repo, env, cli):
    root = build_dataset(repo / "out" / "pose")
    (repo / "dvc.yaml").write_text("stages:\n  make:\n    cmd: 'true'\n    outs:\n      - out\n")
    dvc("commit", "-q", "-f", "make", cwd=repo, env=env)
    assert cli("check", "dvc.yaml", "--format", "json", cwd=repo).json() == []
    (root / "annotations" / "person_keypoints_val.json").write_text(
        json.dumps(clean_docs()["val"], indent=1)
    )
    [d] = cli("check", "dvc.lock", "--format", "json", cwd=repo).json()
    assert d["code"] == "PL108" and "`dvc commit out`" in d["message"], d


def test_fix_of_a_dvc_yaml_output_names_dvc_commit(repo, env, cli):
    """A stage output is recorded with `dvc commit` (DVC refuses `dvc add` on it); the hint
    was missing for a root reached through dvc.yaml (issue 14). The command it names works."""
    root = build_dataset(repo / "out" / "pose")
    (repo / "dvc.yaml").write_text("stages:\n  make:\n    cmd: 'true'\n    outs:\n      - out\n")
    dvc("commit", "-q", "-f", "make", cwd=repo, env=env)
    (root / "images" / "val").rename(root / "images" / "Validation")
    result = cli("check", "dvc.yaml", "--fix", cwd=repo)
    assert result.code == 1, result
    assert result.out.splitlines()[-1] == (
        "out is tracked by DVC: run `dvc commit out` to record the fixes"
    ), result.out
    dvc("commit", "-q", "-f", "out", cwd=repo, env=env)
    assert cli("check", "dvc.yaml", "--format", "json", cwd=repo).json() == []  # no PL108


def test_no_pull_without_dvc_installed_cannot_run(pushed, env):
    code = (
        "import sys\nsys.modules['dvc'] = None\n"
        "from poselint.cli import main\nsys.exit(main(['check', '--no-pull']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=pushed, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 2, proc
    assert "--no-pull: dvc is not installed" in proc.stderr, proc.stderr
    assert "poselint[dvc]" in proc.stderr and "Traceback" not in proc.stderr


def test_stats_after_fix_describe_the_fixed_data(make_dataset, cli, tmp_path):
    docs = clean_docs()
    root = make_dataset({"Train": docs["train"], "val": docs["val"]})
    target = tmp_path / "s.json"
    assert cli("check", root, "--fix", "--stats", target).code == 1  # it renamed Train
    [splits] = json.loads(target.read_text()).values()
    assert set(splits) == {"train", "val"}


def test_no_pull_refuses_a_hostile_manifest_hash_and_reads_nothing(pushed, cli, tmp_path):
    """Issue 11.4: a `.dir` manifest (here in the repo's own remote) whose md5 for the
    annotation file is `xx/<absolute path>` made the cache path absolute: the outside file
    was read and its content echoed. Every hash is checked before it names a cache object."""
    repo = pushed
    secret = tmp_path / "secret.json"
    secret.write_text('{"images": "TOP-SECRET-VALUE", "annotations": [], "categories": []}')
    manifest_md5 = (repo / "data" / "pose.dvc").read_text().split("md5: ")[1].split(".dir")[0]
    manifest_path = (
        repo.parent / "remote" / "files" / "md5" / manifest_md5[:2] / f"{manifest_md5[2:]}.dir"
    )
    manifest = json.loads(manifest_path.read_text())
    for entry in manifest:
        if entry["relpath"] == "annotations/person_keypoints_train.json":
            entry["md5"] = f"xx{secret}"
    manifest_path.chmod(0o644)
    manifest_path.write_text(json.dumps(manifest))
    result = cli("check", "--no-pull", "--format", "json", cwd=repo)
    assert "TOP-SECRET-VALUE" not in result.out + result.err, result
    assert result.code == 1, result
    [d] = result.json()
    assert d["code"] == "PL100", d
    assert f"the .dir manifest {manifest_md5}.dir lists md5 'xx{secret}'" in d["message"]
    assert "pose.dvc" in d["message"] and "not a DVC hash" in d["message"]


@pytest.mark.parametrize(
    "md5", ["../../../../etc/passwd.dir", "0123.dir", "0123456789ABCDEF0123456789ABCDEF.dir"]
)
def test_a_dvc_file_with_an_invalid_md5_is_refused_naming_it(tmp_path, cli, md5):
    (tmp_path / ".dvc").mkdir()
    (tmp_path / "pose.dvc").write_text(f"outs:\n- md5: {md5}\n  path: pose\n")
    result = cli("check", tmp_path / "pose.dvc", "--format", "json")
    assert result.code == 2, result
    assert f"pose.dvc: output 'pose' records md5 '{md5}', which is not a DVC hash" in result.err


def test_symlink_cache_type_with_a_cache_outside_the_repo_is_read_and_packed(
    repo, env, cli, tmp_path
):
    """DVC's symlink cache type, the cache in a shared folder named by .dvc/config: every
    image a link out of the root into that cache. check reads them and pack packs their
    bytes: the confinement allows the cache DVC's config names."""
    root = build_dataset(repo / "data" / "pose")
    dvc("cache", "dir", str(tmp_path / "shared-cache"), cwd=repo, env=env)
    dvc("config", "cache.type", "symlink", cwd=repo, env=env)
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    dvc("checkout", "-q", "--relink", cwd=repo, env=env)
    image = root / "images" / "train" / "img_001.jpg"
    assert image.is_symlink() and str(tmp_path / "shared-cache") in str(image.resolve())
    assert cli("check", "data/pose", "--format", "json", cwd=repo).json() == []
    assert cli("pack", "data/pose", "-o", tmp_path / "out.zip", cwd=repo).code == 0
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.read("images/train/img_001.jpg") == image.read_bytes()


@pytest.mark.parametrize("where", ["../outside", "ABSOLUTE"])
def test_a_dvc_file_naming_a_folder_outside_the_repo_is_refused(repo, cli, tmp_path, where):
    """A hostile repo's .dvc file whose output is a folder outside the repository: plain
    `poselint check` in a clone linted that folder and echoed its annotation values."""
    outside = build_dataset(tmp_path / "outside")
    (outside / "annotations" / "person_keypoints_train.json").write_text(
        '{"images": "TOP-SECRET-VALUE", "annotations": [], "categories": []}'
    )
    path = str(outside) if where == "ABSOLUTE" else where
    (repo / "evil.dvc").write_text(
        f"outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: {path}\n"
    )
    result = cli("check", "--format", "json", cwd=repo)
    assert "TOP-SECRET-VALUE" not in result.out + result.err, result
    assert result.code == 2, result
    assert f"evil.dvc: output path '{path}' leads outside the repository" in result.err


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_tracked_folder_that_is_a_symlink_out_of_the_repo_is_refused(repo, env, cli, tmp_path):
    """Red team 2.2: the tracked folder moved to another disk and linked back made PL108 an
    internal error (relative_to on the link's target). DVC refuses to track a symlinked
    folder, and a hostile repo could commit such a link to make --fix rewrite a folder
    elsewhere: the output is refused, naming the link, and nothing is read."""
    build_dataset(repo / "pose", _broken_docs())
    dvc("add", "-q", "pose", cwd=repo, env=env)
    shutil.move(repo / "pose", tmp_path / "bigdisk")
    (repo / "pose").symlink_to(tmp_path / "bigdisk")
    before = _snapshot(tmp_path / "bigdisk")
    for argv in (["pose.dvc"], [], ["--fix", "pose.dvc"]):
        result = cli("check", *argv, cwd=repo)
        assert result.code == 2, (argv, result)
        assert result.err == (
            f"poselint: error: {repo / 'pose.dvc'}: output path 'pose' is a symlink to a folder "
            f"outside the repository ({tmp_path / 'bigdisk'}), which DVC cannot track: refusing "
            "to read it\n"
        ), argv
    assert _snapshot(tmp_path / "bigdisk") == before


def test_dvc_yaml_stage_outs_are_relative_to_its_wdir(repo, env, cli):
    """Red team 2.3: `wdir` was ignored. Before the first `dvc repro` the hook's
    `poselint check dvc.yaml` linted nothing; after it, dvc.lock's (wdir-relative) outs gave
    a false PL100 for data/pose, and the stage's real output sub/data/pose went unlinted."""
    build_dataset(repo / "sub" / "data" / "pose", _broken_docs())
    (repo / "dvc.yaml").write_text(
        "stages:\n  make_pose:\n    wdir: sub\n"
        "    cmd: mkdir -p data && cp -R src data/pose\n    outs:\n      - data/pose\n"
    )
    result = cli("check", "dvc.yaml", "--format", "json", cwd=repo)
    assert result.code == 1, result
    broken = [
        ("PL201", "sub/data/pose/annotations/person_keypoints_Train.json"),
        ("PL201", "sub/data/pose/images/Train"),
    ]
    # PL108: not `dvc repro`'d yet, DVC records nothing for it
    assert sorted((d["code"], d["path"]) for d in result.json()) == [
        ("PL108", "sub/data/pose"),
        *broken,
    ]

    shutil.move(repo / "sub" / "data" / "pose", repo / "sub" / "src")
    dvc("repro", "-q", cwd=repo, env=env)
    assert "path: data/pose" in (repo / "dvc.lock").read_text()  # wdir-relative, as DVC writes
    for argv in ([], ["dvc.lock"], ["sub/data/pose"]):
        result = cli("check", *argv, "--format", "json", cwd=repo)
        assert result.code == 1, (argv, result)
        assert sorted((d["code"], d["path"]) for d in result.json()) == broken, argv
    assert cli("check", "--format", "json", "--ignore", "PL201", cwd=repo).json() == []


def test_a_dvc_yaml_wdir_out_of_the_repo_is_refused(repo, cli, tmp_path):
    build_dataset(tmp_path / "outside" / "pose")
    (repo / "dvc.yaml").write_text(
        "stages:\n  s:\n    wdir: ../outside\n    cmd: 'true'\n    outs:\n      - pose\n"
    )
    result = cli("check", "dvc.yaml", "--format", "json", cwd=repo)
    assert result.code == 2, result
    assert "dvc.yaml: output path 'pose' leads outside the repository" in result.err


@pytest.mark.parametrize(
    "relpath", ["x\0y/images/train/img_001.jpg", "..\\victim/images/Train/a.jpg", "./images/a.jpg"]
)
def test_a_manifest_relpath_that_is_no_plain_path_is_refused_never_a_root(repo, env, cli, relpath):
    """Red team 2.4: a `.dir` manifest relpath became a dataset root as written (an absolute
    one outside the repo; a NUL made an internal error). It is a corrupt manifest, named."""
    build_dataset(repo / "data" / "pose")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    shutil.rmtree(repo / "data" / "pose")
    [manifest] = [p for p in cache_files(repo) if p.name.endswith(".dir")]
    manifest.chmod(0o644)
    manifest.write_text(json.dumps([{"md5": "0" * 32, "relpath": relpath}]))
    result = cli("check", "data/pose.dvc", "--format", "json", cwd=repo)
    assert result.code == 2, result
    assert (
        f"pose.dvc: the .dir manifest {manifest.parent.name}{manifest.name} lists the path "
        f"{relpath!r}, which is not a relative path inside the folder: the manifest is corrupt "
        "or hostile; nothing was read"
    ) in result.err


@pytest.mark.parametrize("target", ["/dev/zero", "OUTSIDE", "FIFO"])
def test_a_cache_manifest_that_is_a_link_to_a_device_or_out_of_the_cache_is_refused(
    repo, env, tmp_path, target
):
    """Red team 2.5: the `.dir` object was read with read_bytes(): a cache (here named by the
    repo's own .dvc/config) whose object links to /dev/zero made `poselint check` read
    until memory ran out, and a FIFO blocked it. Every cache object is a bounded read of a
    regular file that stays in the cache, so nothing outside it is read either."""
    build_dataset(repo / "data" / "pose")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    shutil.rmtree(repo / "data" / "pose")
    [manifest] = [p for p in cache_files(repo) if p.name.endswith(".dir")]
    outside = tmp_path / "outside.dir"
    outside.write_bytes(manifest.read_bytes())
    manifest.unlink()
    if target == "FIFO":
        os.mkfifo(manifest)
    else:
        manifest.symlink_to(target if target != "OUTSIDE" else outside)
    code = (
        "import resource, sys\nfrom poselint.cli import main\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "sys.exit(main(['check', 'data/pose.dvc', '--format', 'json']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2, proc
    real = os.path.realpath(target if target != "OUTSIDE" else outside)
    cache = os.path.realpath(repo / ".dvc" / "cache")
    reason = (
        "not a regular file: not read"
        if target == "FIFO"
        else f"a symlink to {real}, outside {cache}: not followed"
    )
    assert (
        f"pose.dvc: the .dir manifest {manifest.parent.name}{manifest.name} in the DVC cache: "
        f"{manifest} is {reason}; the cache is corrupt or hostile"
    ) in proc.stderr, proc.stderr


def test_a_symlinked_dvc_file_is_read_where_it_is_and_never_out_of_the_repo(repo, cli, tmp_path):
    """Red team 2.6: a `.dvc` file was resolved before its outs were read, so a link to
    ../elsewhere/pose.dvc made `check --fix pose.dvc` rewrite ../elsewhere/pose. A DVC file
    whose real path leaves the repository is not read; one linked inside it declares outs
    relative to where the link is."""
    elsewhere = build_dataset(tmp_path / "elsewhere" / "pose", _broken_docs())
    dvc_text = "outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: pose\n  hash: md5\n"
    (tmp_path / "elsewhere" / "pose.dvc").write_text(dvc_text)
    before = _snapshot(elsewhere)
    build_dataset(repo / "pose", _broken_docs())
    (repo / "pose.dvc").symlink_to(tmp_path / "elsewhere" / "pose.dvc")
    result = cli("check", "--fix", "pose.dvc", cwd=repo)
    assert result.code == 2, result
    assert (
        f"pose.dvc: cannot read this DVC file: {repo / 'pose.dvc'} is a symlink to "
        f"{tmp_path / 'elsewhere' / 'pose.dvc'}, outside {repo}: not followed"
    ) in result.err
    assert _snapshot(elsewhere) == before

    (repo / "meta").mkdir()
    (repo / "meta" / "pose.dvc").write_text(dvc_text)
    (repo / "pose.dvc").unlink()
    (repo / "pose.dvc").symlink_to("meta/pose.dvc")
    result = cli("check", "pose.dvc", "--format", "json", "--select", "PL1,PL2", cwd=repo)
    assert sorted((d["code"], d["path"]) for d in result.json()) == [
        ("PL108", "pose"),  # its md5 is made up
        ("PL201", "pose/annotations/person_keypoints_Train.json"),
        ("PL201", "pose/images/Train"),
    ], result


def test_a_dvc_file_linked_out_of_the_repo_or_not_yaml_is_never_echoed(repo, cli, tmp_path):
    """Red team 2.6: `dvc.yaml -> ../credentials` was read and PyYAML's error printed a line
    of it. Such a link is not followed, and a YAML error names the line and column only."""
    secret = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
    (tmp_path / "credentials").write_text(secret)
    (repo / "dvc.yaml").symlink_to(tmp_path / "credentials")
    result = cli("check", cwd=repo)
    assert result.code == 2 and "AKIA" not in result.out + result.err, result
    assert (
        f"dvc.yaml: cannot read this DVC file: {repo / 'dvc.yaml'} is a symlink to "
        f"{tmp_path / 'credentials'}, outside {repo}: not followed"
    ) in result.err

    (repo / "dvc.yaml").unlink()
    (repo / "dvc.yaml").write_text(secret)
    result = cli("check", cwd=repo)
    assert result.code == 2 and "AKIA" not in result.out + result.err, result
    assert result.err == (
        f"poselint: error: {repo / 'dvc.yaml'}: cannot read this DVC file: not valid YAML at "
        "line 2, column 1: did not find expected <document start>\n"
    )


def test_an_image_linked_into_another_repos_dvc_cache_is_not_read(
    repo, env, cli, tmp_path, initialised
):
    """Red team 2.13: a link whose target merely looked like a DVC cache object (ab/cdef...)
    was followed wherever it led: another project's cache object had its header read and
    its pixels embedded in the HTML report. Only this repo's configured cache is allowed
    (fsutil.Confinement), so the image rules, the report and pack never open it."""
    other = Path(shutil.copytree(initialised, tmp_path / "other", symlinks=True))
    Image.new("RGB", (64, 48), (0, 255, 0)).save(other / "green.jpg", "JPEG")
    dvc("add", "-q", "green.jpg", cwd=other, env=env)
    [green] = [
        p for p in cache_files(other) if p.read_bytes() == (other / "green.jpg").read_bytes()
    ]
    root = build_dataset(repo / "data" / "pose")
    image = root / "images" / "train" / "img_001.jpg"
    image.unlink()
    image.symlink_to(green)
    result = cli("check", "data/pose", "--format", "json", "--select", "PL5", cwd=repo)
    assert result.code == 1, result
    [d] = result.json()
    assert (d["code"], d["path"]) == ("PL501", "data/pose/annotations/person_keypoints_train.json")
    assert d["message"] == (
        "image 'img_001.jpg' is not a regular file; images/<split>/img_001.jpg: symlink to a "
        "file outside the dataset root and its DVC cache"
    )


def test_a_dvc_config_linked_to_dev_zero_is_not_read_by_poselint_or_dvc(repo, env):
    """Second pass: a hostile repo commits `.dvc/config -> /dev/zero`. poselint read it (for
    cache.dir) with no bound, and so did the dvc Repo it opens for PL108: all memory, then an
    internal error. Neither reads it now; PL108 says why it cannot tell."""
    build_dataset(repo / "data" / "pose")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    (repo / ".dvc" / "config").unlink()
    (repo / ".dvc" / "config").symlink_to("/dev/zero")
    code = (
        "import resource, sys\nfrom poselint.cli import main\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "sys.exit(main(['check', 'data/pose.dvc', '--format', 'json']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1, proc
    refused = f"{repo / '.dvc' / 'config'} is a symlink to /dev/zero, outside {repo}: not followed"
    assert proc.stderr == f"poselint: note: skipped a DVC config file: {refused}\n", proc.stderr
    [d] = json.loads(proc.stdout)
    assert d["code"] == "PL108" and d["message"].endswith(f"DVC's config is not opened: {refused}")


def test_a_nul_in_a_dvc_path_or_cache_dir_is_named_not_an_internal_error(repo, env, cli):
    """Second pass: a NUL in an output path, a stage wdir or cache.dir (legal YAML and INI)
    reached os calls: `internal error (ValueError: embedded null byte)`."""
    build_dataset(repo / "data" / "pose")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    with (repo / ".dvc" / "config").open("a") as f:
        f.write("[cache]\n    dir = a\0b\n")
    result = cli("check", "data/pose.dvc", "--format", "json", cwd=repo)
    assert result.code == 1, result
    # no PL000: only PL108, passing on what dvc itself makes of that cache
    assert [d["code"] for d in result.json()] == ["PL108"], result
    assert "skipped " in result.err and "its cache.dir is not a path (it holds a NUL)" in result.err

    (repo / "evil.dvc").write_text('outs:\n- path: "a\\0b"\n')
    result = cli("check", "evil.dvc", cwd=repo)
    assert result.code == 2, result
    assert "evil.dvc: output path 'a\\x00b' is not a path (it holds a NUL)" in result.err
    (repo / "evil.dvc").unlink()
    (repo / "dvc.yaml").write_text('stages:\n  s:\n    wdir: "a\\0"\n    cmd: x\n    outs: [p]\n')
    result = cli("check", "dvc.yaml", cwd=repo)
    assert result.code == 2, result
    assert "dvc.yaml: output path 'p' is not a path (it holds a NUL)" in result.err


def test_a_huge_dvc_file_is_refused_unread(repo, cli):
    """Second pass: a .dvc file was read whole and parsed however big (a hostile repo can
    ship gigabytes). DVC files list outputs, not files: 16 MiB is far beyond any."""
    (repo / "big.dvc").write_text("# " + "x" * (16 << 20) + "\nouts: []\n")
    result = cli("check", "big.dvc", cwd=repo)
    assert result.code == 2, result
    assert result.err == (
        f"poselint: error: {repo / 'big.dvc'}: cannot read this DVC file: {repo / 'big.dvc'} "
        "is over the bound of 16,777,216 bytes: not read\n"
    )


def test_a_folder_search_does_not_follow_a_link_out_of_where_it_started(repo, cli, tmp_path):
    """Second pass: in a cloned repo holding `ds -> ~/other-dataset`, `poselint check --fix`
    (no PATH: the cwd is searched) rewrote the linked dataset outside the repo. A symlinked
    folder is searched only while it stays inside the folder the search started from."""
    outside = build_dataset(tmp_path / "other-dataset", _broken_docs())
    before = _snapshot(outside)
    build_dataset(repo / "own")
    (repo / "ds").symlink_to(outside)
    (repo / "inner").symlink_to("own")  # a link inside the repo is still searched
    result = cli("check", "--fix", repo, "--format", "json", cwd=tmp_path)
    assert result.code == 0 and result.json() == [], result
    assert _snapshot(outside) == before
    assert cli("check", repo / "ds", "--format", "json").code == 1  # named: it is linted


def test_quiet_silences_the_notes(repo, cli, tmp_path):
    """-q: the findings only. A DVC config poselint will not read is a note, said once
    without -q and not at all with it."""
    build_dataset(repo / "data" / "pose")
    outside = tmp_path / "elsewhere.cfg"
    outside.write_text("[cache]\ndir = /tmp/x\n")
    (repo / ".dvc" / "config").unlink(missing_ok=True)
    (repo / ".dvc" / "config").symlink_to(outside)
    loud = cli("check", "data/pose", cwd=repo)
    assert loud.err.startswith("poselint: note: skipped a DVC config file: "), loud
    quiet = cli("check", "data/pose", "-q", cwd=repo)
    assert (quiet.code, quiet.err) == (loud.code, "")
