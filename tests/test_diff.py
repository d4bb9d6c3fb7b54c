"""`poselint diff`: label changes between two git revisions, in real git and DVC repositories."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from dvcrepo import BIN, add_local_remote, drop_cache, dvc, git, init_repo, isolated_env, run
from test_html_report import (  # the browser the HTML report is tested in
    IMG_NAME,
    SCRIPT_FILE,
    SCRIPT_NAME,
    chromium,  # noqa: F401 (a fixture the tests below take)
    decode_data_url,
    highlighted_pixels,
)

from builders import PERSON, build_dataset, coco, image, person


def _before() -> dict[str, dict[str, Any]]:
    """Three images; two people far apart on the first, one on the second (with a point
    outside but still holding coordinates: a PL601 that stays in both versions)."""
    train = coco(
        [image(1, "img_001.jpg", 640, 480), image(2, "nested/img_002.png", 640, 480),
         image(3, "img_003.jpg", 640, 480)],
        [
            person(1, 1, [100, 100, 2, 110, 95, 2, 90, 95, 2, 120, 100, 1]),
            person(2, 1, [400, 300, 2, 410, 295, 2, 390, 295, 2, 420, 300, 2]),
            person(3, 2, [200, 200, 2, 210, 195, 2, 190, 195, 1, 220, 200, 1], num_keypoints=4),
        ],
        [PERSON],
    )  # fmt: skip
    train["annotations"][2]["keypoints"][8] = 0  # keypoint 2 outside, coordinates kept: PL601
    train["annotations"][2]["num_keypoints"] = 3
    val = coco(
        [image(9, "v.jpg", 640, 480)],
        [person(1, 9, [5, 6, 2, 7, 8, 2, 9, 10, 1, 11, 12, 2])],
        [PERSON],
    )
    return {"train": train, "val": val}


def _after(before: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What a CVAT re-export of the edited task gives: img_003 gone, img_004 new with one
    person, person 1 deleted, person 3 edited, and every annotation id renumbered 1..n."""
    docs = copy.deepcopy(before)
    train = docs["train"]
    train["images"] = [i for i in train["images"] if i["file_name"] != "img_003.jpg"]
    train["images"].append(image(4, "img_004.jpg", 640, 480))
    anns = train["annotations"][1:]  # person 1 deleted
    kp = anns[1]["keypoints"]  # person 3
    kp[0] += 3.0  # keypoint 0 moved 3 px
    kp[4] += 0.5  # keypoint 1 moved 0.5 px: under the 1 px threshold
    kp[11] = 2  # keypoint 3: occluded -> visible
    new = person(9, 4, [300, 300, 2, 310, 295, 2, 290, 295, 2, 0, 0, 0])
    new["keypoints"][9:11] = [50, 60]  # an outside point keeping coordinates: a new PL601
    anns.append(new)
    for n, ann in enumerate(anns, start=1):
        ann["id"] = n  # the re-export's numbering: person 2 is now 1, person 3 is now 2
    train["annotations"] = anns
    return docs


def _write(root: Path, docs: dict[str, dict[str, Any]]) -> None:
    shutil.rmtree(root, ignore_errors=True)
    build_dataset(root, docs)


EXPECTED_TRAIN = {
    "split": "train",
    "images_added": ["img_004.jpg"],
    "images_removed": ["img_003.jpg"],
    "people_added": [{"image": "img_004.jpg", "id": 3}],
    "people_removed": [{"image": "img_001.jpg", "id": 1}],
    "people_renumbered": 2,
    "keypoints_moved": [
        {"image": "nested/img_002.png", "id": 2, "id_before": 3, "keypoint": 0, "name": "nose",
         "before": [200.0, 200.0, 2.0], "after": [203.0, 200.0, 2.0], "distance": 3.0}
    ],
    "visibility_changed": [
        {"image": "nested/img_002.png", "id": 2, "id_before": 3, "keypoint": 3,
         "name": "left_ear", "before": [220.0, 200.0, 1.0], "after": [220.0, 200.0, 2.0],
         "distance": 0.0}
    ],
    "categories": [],
}  # fmt: skip
EXPECTED_VAL = {
    "split": "val", "images_added": [], "images_removed": [], "people_added": [],
    "people_removed": [], "people_renumbered": 0, "keypoints_moved": [],
    "visibility_changed": [], "categories": [],
}  # fmt: skip


def _check(report: dict[str, Any], root: str = "data/pose") -> None:
    [diffed] = report["roots"]
    assert diffed["root"] == root and diffed["missing"] == {}
    assert diffed["splits"] == [EXPECTED_TRAIN, EXPECTED_VAL]
    # the PL601 on person 3 (id 2 now) is in both versions: neither introduced nor fixed
    assert [(d["code"], d["pointer"]) for d in diffed["findings_introduced"]] == [
        ("PL601", "/annotations/2/keypoints/9")
    ]
    assert diffed["findings_fixed"] == []


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return isolated_env(tmp_path / "home")


@pytest.fixture
def git_repo(tmp_path: Path, env: dict[str, str]) -> Path:
    """A git-tracked dataset in two commits: before, then the renumbering re-export."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo, env=env)
    before = _before()
    _write(repo / "data" / "pose", before)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "before", cwd=repo, env=env)
    _write(repo / "data" / "pose", _after(before))
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "re-export", cwd=repo, env=env)
    return repo


def test_git_tracked_diff_names_exactly_what_changed(git_repo, cli):
    result = cli("diff", "HEAD~1", "--format", "json", cwd=git_repo)
    assert result.code == 0, result
    report = json.loads(result.out)
    assert (report["from"], report["to"], report["to_commit"]) == ("HEAD~1", "working tree", None)
    _check(report)
    # two revisions, and a PATH: the same answer; reversed, the changes are mirrored
    assert (
        json.loads(cli("diff", "HEAD~1", "HEAD", "data/pose", "--format", "json").out)["roots"]
        == report["roots"]
    )
    back = json.loads(cli("diff", "HEAD", "HEAD~1", "--format", "json").out)["roots"][0]
    assert back["splits"][0]["images_added"] == ["img_003.jpg"]
    assert [(d["code"]) for d in back["findings_fixed"]] == ["PL601"]


def test_text_and_github_output(git_repo, cli):
    text = cli("diff", "HEAD~1", cwd=git_repo).out
    assert text.splitlines() == [
        "poselint diff HEAD~1 -> working tree",
        "data/pose",
        "  train: images +1 -1, people +1 -1, 1 keypoint moved, 1 visibility flag changed, "
        "2 people matched by keypoints (id changed)",
        "    + image img_004.jpg",
        "    - image img_003.jpg",
        "    + person 3 on img_004.jpg",
        "    - person 1 on img_001.jpg",
        "    ~ nested/img_002.png person 2 (was 3) keypoint 0 (nose) moved 3.0 px: "
        "(200, 200) -> (203, 200)",
        "    ~ nested/img_002.png person 2 (was 3) keypoint 3 (left_ear) visibility 1 -> 2",
        "  val: no label changes",
        "  findings introduced (1):",
        "    data/pose/annotations/person_keypoints_train.json:/annotations/2/keypoints/9: "
        "PL601 keypoint 3 (left_ear) is outside (v=0) but keeps coordinates (50, 60); "
        "set x=y=0",
    ]
    github = cli("diff", "HEAD~1", "--format", "github").out
    assert "| data/pose | train | +1 -1 | +1 -1 | 1 | 1 | +1 -0 |" in github
    assert "<details><summary>data/pose: 1 findings introduced</summary>" in github


def test_threshold_flag(git_repo, cli):
    report = json.loads(
        cli("diff", "HEAD~1", "--threshold", "0.1", "--format", "json", cwd=git_repo).out
    )
    moved = report["roots"][0]["splits"][0]["keypoints_moved"]
    assert [(m["keypoint"], m["distance"]) for m in moved] == [(0, 3.0), (1, 0.5)]


def test_bad_revision_exits_2(git_repo, cli):
    result = cli("diff", "no-such-rev", cwd=git_repo)
    assert result.code == 2
    assert result.err.startswith("poselint: error: 'no-such-rev' is not a commit in ")


def _dvc_repo(tmp_path: Path, env: dict[str, str]) -> Path:
    """A DVC-tracked dataset in two commits, each version pushed to a local remote."""
    repo = init_repo(tmp_path / "dvcrepo", env)
    add_local_remote(repo, tmp_path / "remote", env)
    before = _before()
    _write(repo / "data" / "pose", before)
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "before", cwd=repo, env=env)
    dvc("push", "-q", cwd=repo, env=env)
    _write(repo / "data" / "pose", _after(before))
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "re-export", cwd=repo, env=env)
    dvc("push", "-q", cwd=repo, env=env)
    return repo


def _poselint_diff(repo: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    proc = run([str(BIN / "poselint"), "diff", *args, "--format", "json"], repo, env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


@pytest.mark.e2e
def test_dvc_tracked_diff_from_the_cache_then_from_the_remote(tmp_path, env):
    repo = _dvc_repo(tmp_path, env)
    # the remote out of reach: the old version can only come from the cache
    (tmp_path / "remote").rename(tmp_path / "remote-away")
    _check(_poselint_diff(repo, env, "HEAD~1"))
    # no cache at all: both versions from the local remote, by the md5s each commit recorded
    (tmp_path / "remote-away").rename(tmp_path / "remote")
    drop_cache(repo)
    shutil.rmtree(repo / "data" / "pose")
    _check(_poselint_diff(repo, env, "HEAD~1", "HEAD"))
    assert not (repo / "data" / "pose").exists()  # nothing was checked out or pulled
    assert not (repo / ".dvc" / "cache").exists()  # nor fetched into the cache


@pytest.mark.e2e
def test_dvc_tracked_diff_in_a_fresh_clone(tmp_path, env):
    """What CI has for a pull request: git files only, the data in the remote."""
    repo = _dvc_repo(tmp_path, env)
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path, env=env)
    shutil.copytree(repo / ".dvc", clone / ".dvc", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("cache", "tmp"))  # fmt: skip
    _check(_poselint_diff(clone, env, "HEAD~1", "HEAD"))


def test_a_root_new_in_the_second_revision(tmp_path, env, cli):
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo, env=env)
    (repo / "README").write_text("x")
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "empty", cwd=repo, env=env)
    _write(repo / "data" / "pose", _before())
    report = json.loads(cli("diff", "HEAD", "--format", "json", cwd=repo).out)
    [diffed] = report["roots"]
    assert diffed["missing"] == {
        "before": f"data/pose is not in commit {report['from_commit'][:12]}"
    }
    assert diffed["splits"][0]["images_added"] == [
        "img_001.jpg",
        "img_003.jpg",
        "nested/img_002.png",
    ]
    assert diffed["findings_introduced"] and diffed["findings_fixed"] == []


EXAMPLE = Path(__file__).resolve().parents[1] / "example-repo"


@pytest.mark.e2e
def test_example_repo_walkthrough_step_5(tmp_path, env):
    """example-repo/README.md, step 5: diff a DVC-tracked change, then adopt a baseline."""
    repo = init_repo(tmp_path / "pose-data", env)
    shutil.copytree(EXAMPLE / "data", repo / "data")
    shutil.copy2(EXAMPLE / "pyproject.toml", repo / "pyproject.toml")
    shutil.copytree(EXAMPLE / "incoming", tmp_path / "cvat-export")
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "pose dataset", cwd=repo, env=env)
    train = repo / "data" / "pose" / "annotations" / "person_keypoints_train.json"
    doc = json.loads(train.read_text())
    doc["annotations"][1]["keypoints"][3] = 47  # person 2's left_eye: x 45 -> 47
    train.write_text(json.dumps(doc))
    dvc("add", "-q", "data/pose", cwd=repo, env=env)
    git("commit", "-qam", "relabel", cwd=repo, env=env)
    poselint = str(BIN / "poselint")
    diff = run([poselint, "diff", "HEAD~1"], repo, env)
    assert diff.stdout.splitlines() == [
        "poselint diff HEAD~1 -> working tree",
        "data/pose",
        "  train: images +0 -0, people +0 -0, 1 keypoint moved, 0 visibility flags changed",
        "    ~ nested/dir/img_002.png person 2 keypoint 1 (left_eye) moved 2.0 px: "
        "(45, 25) -> (47, 25)",
        "  val: no label changes",
    ]
    run([poselint, "diff", "HEAD~1", "--format", "html", "--output", "diff.html"], repo, env)
    [(kind, figure)] = _figures((repo / "diff.html").read_text("utf-8"))
    assert kind == "edited" and "k=1: (45, 25) v=2 → (47, 25) v=2" in figure
    assert sorted(_thumbs(figure)) == ["after", "before"]
    export = ["../cvat-export", "--write-baseline", "poselint-baseline.json"]
    assert run([poselint, "check", *export], repo, env).returncode == 0
    checked = run(
        [poselint, "check", "../cvat-export", "--baseline", "poselint-baseline.json"], repo, env
    )
    assert checked.stdout == "All checks passed!\n"


def test_a_root_outside_the_git_repository_exits_2(git_repo, cli, make_dataset):
    elsewhere = make_dataset(name="elsewhere")  # tmp_path/elsewhere: not in git_repo
    result = cli("diff", "HEAD~1", elsewhere, cwd=git_repo)
    assert result.code == 2
    assert result.err == (
        f"poselint: error: {elsewhere} is not inside the git repository {git_repo}\n"
    )


def test_category_and_skeleton_changes(tmp_path, env, cli):
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo, env=env)
    before = _before()
    _write(repo / "data" / "pose", before)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "before", cwd=repo, env=env)
    after = copy.deepcopy(before)
    [cat] = after["train"]["categories"]
    cat["skeleton"] = [[4, 2], [2, 1], [1, 3]]  # the same bones, reversed: no change
    cat["keypoints"][3] = "left_ear_tip"
    after["train"]["categories"].append({"id": 2, "name": "hand", "keypoints": [], "skeleton": []})
    after["val"]["categories"][0]["skeleton"] = [[2, 4], [1, 2]]
    _write(repo / "data" / "pose", after)
    report = json.loads(cli("diff", "HEAD", "--format", "json", cwd=repo).out)
    train, val = report["roots"][0]["splits"]
    assert train["categories"] == [
        "category 1 ('person'): keypoints ['nose', 'left_eye', 'right_eye', 'left_ear'] -> "
        "['nose', 'left_eye', 'right_eye', 'left_ear_tip']",
        "category 2 ('hand') added",
    ]
    assert val["categories"] == [
        "category 1 ('person'): skeleton [[1, 2], [1, 3], [2, 4]] -> [[1, 2], [2, 4]]"
    ]
    assert train["keypoints_moved"] == train["visibility_changed"] == train["people_added"] == []


def test_the_dataset_root_is_the_repository_itself(tmp_path, env, cli):
    repo = tmp_path / "repo"
    before = _before()
    _write(repo, before)
    git("init", "-q", cwd=repo, env=env)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "before", cwd=repo, env=env)
    _write_keep_git(repo, _after(before))
    report = json.loads(cli("diff", "HEAD", "--format", "json", cwd=repo).out)
    [diffed] = report["roots"]
    assert diffed["root"] == "." and diffed["splits"] == [EXPECTED_TRAIN, EXPECTED_VAL]


def _write_keep_git(root: Path, docs: dict[str, dict[str, Any]]) -> None:
    for folder in ("images", "annotations"):
        shutil.rmtree(root / folder)
    build_dataset(root, docs)


@pytest.mark.e2e
def test_dvc_yaml_output_diff_reads_dvc_lock_at_each_revision(tmp_path, env):
    """A root that a pipeline stage outputs: its md5s come from dvc.lock at each revision."""
    repo = init_repo(tmp_path / "pipeline", env)
    before = _before()
    _write(repo / "data" / "pose", before)
    dvc("stage", "add", "-q", "-n", "pose", "-o", "data/pose", "true", cwd=repo, env=env)
    dvc("commit", "-q", "-f", cwd=repo, env=env)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "before", cwd=repo, env=env)
    _write(repo / "data" / "pose", _after(before))
    dvc("commit", "-q", "-f", cwd=repo, env=env)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "re-export", cwd=repo, env=env)
    shutil.rmtree(repo / "data" / "pose")  # both versions from the cache
    _check(_poselint_diff(repo, env, "HEAD~1", "HEAD"))


# --- --format html: the changed people drawn before/after, checked in a real browser -------

BROWN = (120, 80, 40)  # builders.write_image's pixels: the thumbnail shows the real image


def _brown_pixels(thumb: Any) -> int:
    rgb = thumb.convert("RGB")
    return sum(
        n
        for n, (r, g, b) in rgb.getcolors(1 << 20) or []
        if abs(r - BROWN[0]) < 20 and abs(g - BROWN[1]) < 20 and abs(b - BROWN[2]) < 20
    )


def _figures(dom: str) -> list[tuple[str, str]]:
    return re.findall(r'<figure class="person (\w+)">(.*?)</figure>', dom, re.S)


def _thumbs(figure: str) -> dict[str, Any]:
    """side -> the decoded thumbnail drawn there."""
    return {
        side: decode_data_url(url)
        for side, url in re.findall(r'<div class="side (\w+)">\s*<img src="([^"]+)"', figure)
    }


def _check_html(dom: str) -> None:
    assert "<title>poselint diff</title>" in dom and "<script" not in dom
    assert '<p id="drawn">3 of 3 changed people drawn.</p>' in dom
    figures = _figures(dom)
    assert [kind for kind, _ in figures] == ["edited", "added", "removed"]
    edited, added, removed = (body for _, body in figures)
    assert '<span class="mono image-name">nested/img_002.png</span>' in edited
    assert "id 2 (was 3)" in edited
    assert re.findall(r'<span class="mono change">([^<]*)</span>', edited) == [
        "k=0: (200, 200) v=2 → (203, 200) v=2",
        "k=3: (220, 200) v=1 → (220, 200) v=2",
    ]
    assert "img_004.jpg" in added and "id 3" in added
    assert "img_001.jpg" in removed and "id 1" in removed
    thumbs = [_thumbs(body) for _, body in figures]
    assert [sorted(t) for t in thumbs] == [["after", "before"], ["after"], ["before"]]
    for t in thumbs:
        for thumb in t.values():
            assert _brown_pixels(thumb) > 1000  # the image itself, read from that version
            assert highlighted_pixels(thumb) > 20  # the changed points ringed, the box red
    # the removed person's image comes from the old revision: the file is gone from the tree
    assert 'class="absent">not in this version' in added and "not in this version" in removed


def test_html_diff_in_headless_chromium(git_repo, cli, chromium, tmp_path):  # noqa: F811
    out = tmp_path / "diff.html"
    (git_repo / "data" / "pose" / "images" / "train" / "img_001.jpg").unlink()
    result = cli("diff", "HEAD~1", "--format", "html", "--output", out, cwd=git_repo)
    assert result.code == 0 and result.out == "", result
    _check_html(chromium("--dump-dom", out.as_uri()))


def test_html_diff_needs_output(git_repo, cli):
    result = cli("diff", "HEAD~1", "--format", "html", cwd=git_repo)
    assert result.code == 2
    assert "poselint: error: --format html needs --output FILE" in result.err


@pytest.mark.e2e
def test_html_diff_of_a_dvc_dataset_draws_images_from_the_remote(tmp_path, env, chromium):  # noqa: F811
    repo = _dvc_repo(tmp_path, env)
    drop_cache(repo)
    shutil.rmtree(repo / "data" / "pose")
    out = tmp_path / "diff.html"
    proc = run(
        [str(BIN / "poselint"), "diff", "HEAD~1", "HEAD", "--format", "html", "--output", str(out)],
        repo, env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _check_html(chromium("--dump-dom", out.as_uri()))
    assert not (repo / "data" / "pose").exists() and not (repo / ".dvc" / "cache").exists()


def test_html_diff_escapes_names_and_caps_the_drawings(tmp_path, env, cli, chromium):  # noqa: F811
    """A hostile file_name, id and category name show as text; 105 people added, 100 drawn."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo, env=env)
    cat = dict(PERSON, name=IMG_NAME)
    doc = coco([image(1, SCRIPT_FILE, 640, 480)], [], [cat])
    _write(repo / "data" / "pose", {"train": doc})
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "empty", cwd=repo, env=env)
    doc["annotations"] = [
        person(n, 1, [10 + n, 10 + n, 2, 12 + n, 10 + n, 2, 8 + n, 10 + n, 2, 0, 0, 0])
        for n in range(1, 106)
    ]
    doc["annotations"][0]["id"] = SCRIPT_NAME  # an id that is markup
    _write(repo / "data" / "pose", {"train": doc})
    out = tmp_path / "diff.html"
    result = cli("diff", "HEAD", "--format", "html", "--output", out, cwd=repo)
    assert result.code == 0, result
    dom = chromium("--dump-dom", out.as_uri())
    assert "<title>poselint diff</title>" in dom and 'data-pwned="1"' not in dom
    assert "<script" not in dom and "<img src=x" not in dom
    assert "&lt;script&gt;document.title='pwned'" in dom
    assert (
        '<p id="drawn">100 of 105 changed people drawn (at most 100 per page; '
        "<code>--format json</code> lists every change).</p>"
    ) in dom
    assert len(_figures(dom)) == 100
    shown = "id " + SCRIPT_NAME.replace("<", "&lt;").replace(">", "&gt;")
    assert f'<span class="mono">{shown}</span>' in dom  # the markup id, as text


# --- hostile revisions and names ---------------------------------------------------------------


@pytest.mark.parametrize("rev", ["--upload-pack=touch pwned", "--output=pwned", "-n"])
def test_a_revision_that_looks_like_an_option_is_refused(git_repo, cli, rev):
    for argv in ([rev], ["HEAD~1", rev]):  # as REV_A and as REV_B
        result = cli("diff", "--format", "json", "--", *argv, cwd=git_repo)
        assert (result.code, result.out) == (2, ""), result
        assert result.err == (
            f"poselint: error: {rev!r} is not a revision (a revision does not start with '-')\n"
        )
    assert sorted(p.name for p in git_repo.iterdir()) == [".git", "data"]


@pytest.mark.parametrize("rev", ["HEAD:data", "HEAD^{tree}", "/etc/passwd", "HEAD:../../etc"])
def test_a_revision_naming_a_tree_or_a_path_is_not_a_commit(git_repo, cli, rev):
    result = cli("diff", "--format", "json", "--", rev, cwd=git_repo)
    assert (result.code, result.out) == (2, ""), result
    assert result.err == f"poselint: error: {rev!r} is not a commit in {git_repo.resolve()}\n"


def test_non_utf8_root_and_split_names_in_every_format(tmp_path, env, cli):
    """Linux allows any bytes in a file name: the diff shows them as \\xff, never crashes."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo, env=env)
    root = repo / os.fsdecode(b"d\xff")
    doc = coco([image(1, "a.jpg", 64, 48)], [person(1, 1, [1, 1, 2, 2, 2, 2, 3, 3, 2, 4, 4, 2])],
               [PERSON])  # fmt: skip
    split = os.fsdecode(b"tr\xffain")
    _write(root, {split: doc})
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "a", cwd=repo, env=env)
    doc["annotations"][0]["keypoints"][0] = 9
    _write(root, {split: doc})
    result = cli("diff", "HEAD", "--format", "json", cwd=repo)
    assert result.code == 0, result
    [diffed] = json.loads(result.out)["roots"]
    assert diffed["root"] == "d\\xff" and diffed["splits"][0]["split"] == "tr\\xffain"
    assert [c["after"] for c in diffed["splits"][0]["keypoints_moved"]] == [[9.0, 1.0, 2.0]]
    line = "  tr\\xffain: images +0 -0, people +0 -0, 1 keypoint moved, 0 visibility flags changed"
    assert line + "\n" in cli("diff", "HEAD", cwd=repo).out
    assert "| d\\xff | tr\\xffain |" in cli("diff", "HEAD", "--format", "github", cwd=repo).out
    for fmt in ("text", "html"):
        out = tmp_path / f"diff.{fmt}"
        result = cli("diff", "HEAD", "--format", fmt, "--output", out, cwd=repo)
        assert (result.code, result.err) == (0, ""), result
        assert "tr\\xffain" in out.read_text("utf-8")


def test_terminal_escapes_in_names_and_labels_are_shown_escaped(tmp_path, env, cli):
    """An image renamed, and a category relabelled, with `\\x1b[2J` (clear the screen): the
    text and github diffs show the escape as text, as `check` does, never the raw bytes."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo, env=env)
    root = repo / "pose"
    docs = _before()
    _write(root, docs)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-qm", "a", cwd=repo, env=env)
    docs["train"]["images"][0]["file_name"] = "\x1b[2Jx.jpg"
    docs["train"]["categories"][0]["name"] = "\x1b]0;title\x07person"
    _write(root, docs)
    text = cli("diff", "HEAD", cwd=repo).out
    github = cli("diff", "HEAD", "--format", "github", cwd=repo).out
    for out in (text, github):
        assert "\x1b" not in out and "\x07" not in out
    assert "    + image \\x1b[2Jx.jpg\n" in text
    assert "- + image \\x1b[2Jx.jpg\n" in github
    assert "name person -&gt; \\x1b]0;title\\x07person" in github


@pytest.mark.e2e
def test_a_hostile_dvc_file_at_a_revision(tmp_path, env, cli, monkeypatch):
    """A .dvc file a revision records pointing out of the repository is refused; a huge one is
    not read."""
    from poselint.sources.dvc import files as dvc_files

    repo = _dvc_repo(tmp_path, env)
    dvc_file = repo / "data" / "pose.dvc"
    good = dvc_file.read_text()
    dvc_file.write_text(good.replace("path: pose", "path: ../../../outside"))
    git("commit", "-qam", "points outside", cwd=repo, env=env)
    dvc_file.write_text(good)
    result = cli("diff", "HEAD", "--format", "json", cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo, env=env).stdout.strip()
    # refused as `check` refuses such an output in the workspace: named, nothing read
    assert (result.code, result.out) == (2, ""), result
    assert result.err.startswith(f"poselint: error: at {head[:12]}: "), result
    assert "outside the repository" in result.err and result.err.endswith("refusing to read it\n")

    dvc_file.write_text(good + "#" * 2000 + "\n")
    git("commit", "-qam", "huge", cwd=repo, env=env)
    dvc_file.write_text(good)  # the working tree's is fine: only the revision's is huge
    monkeypatch.setattr(dvc_files, "MAX_DVC_FILE_BYTES", 1000)
    result = cli("diff", "HEAD", "--format", "json", cwd=repo)
    assert (result.code, result.out) == (2, ""), result
    size = len((good + "#" * 2000 + "\n").encode())
    head = git("rev-parse", "HEAD", cwd=repo, env=env).stdout.strip()
    assert result.err == (
        f"poselint: error: {head}:data/pose.dvc: {size:,} bytes, over the bound of 1,000\n"
    )
