"""The cache (poselint/cache.py): it never changes a verdict, and each change of an input
invalidates exactly the splits that read it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_adversarial import _corpus_datasets

from builders import PERSON, clean_docs, write_image, write_json
from poselint import cache as cache_module
from poselint import cachekey
from poselint.config import load_config
from poselint.load.dataset import Dataset
from poselint.rules import REGISTRY

TRAIN = Path("annotations") / "person_keypoints_train.json"
VAL = Path("annotations") / "person_keypoints_val.json"
FROM_CACHE = "unchanged, from the cache: "


def _settle() -> None:
    """Let the files just written age past the racy window: only then are they cached."""
    time.sleep(cachekey.RACY_SECONDS + 0.1)


def _cached(err: str) -> list[str]:
    """The annotation files -v says came from the cache, by file name."""
    return sorted(
        Path(line.split(FROM_CACHE, 1)[1]).name for line in err.splitlines() if FROM_CACHE in line
    )


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "the-cache"
    monkeypatch.setenv(cache_module.ENV_FOLDER, str(folder))
    return folder


def _run(cli: Callable[..., object], root: Path, *extra: object) -> tuple[str, list[str]]:
    result = cli("check", root, "--format", "json", "-v", *extra)
    assert result.code in (0, 1), result  # type: ignore[attr-defined]
    return result.out, _cached(result.err)  # type: ignore[attr-defined]


def test_the_corpus_gives_the_same_json_with_and_without_the_cache(tmp_path, cli, cache_dir):
    roots = list(_corpus_datasets(tmp_path / "corpus").values())
    _settle()
    hits = 0
    for root in roots:
        for extra in ((), ("--select", "ALL", "--ignore", "PL490")):
            cold, cold_hits = _run(cli, root, *extra)
            warm, warm_hits = _run(cli, root, *extra)
            bare, bare_hits = _run(cli, root, "--no-cache", *extra)
            assert cold_hits == [] and bare_hits == [], root
            assert warm == cold == bare, (root, extra)
            hits += len(warm_hits)
    # every annotation file that a run could read fully is served from the cache the 2nd time
    assert hits >= len(roots), hits


def _dataset(make_dataset: Callable[..., Path], name: str) -> Path:
    docs = clean_docs()
    return make_dataset(docs, name=name)


def _edit(root: Path) -> None:  # same size, same inode: only the content and mtime differ
    path = root / TRAIN
    data = path.read_bytes()
    assert b'"area": ' in data
    with open(path, "r+b") as f:
        f.write(data.replace(b'"id": 1,', b'"id": 7,', 1))


def _touch(root: Path) -> None:
    os.utime(root / TRAIN)


def _replace(root: Path) -> None:  # the same bytes under a new inode, as an editor saves
    path = root / TRAIN
    shutil.copyfile(path, path.with_suffix(".new"))
    os.replace(path.with_suffix(".new"), path)


def _rename_over(root: Path) -> None:  # train's file renamed away and val's renamed in
    os.replace(root / VAL, root / TRAIN)
    write_json(root / VAL, clean_docs()["val"])


def _add_image(root: Path) -> None:
    write_image(root / "images" / "train" / "extra.jpg", 64, 48)


def _remove_image(root: Path) -> None:
    (root / "images" / "train" / "img_003.jpg").unlink()


def _resize_image(root: Path) -> None:
    write_image(root / "images" / "train" / "img_001.jpg", 65, 48)


def _config(root: Path) -> None:
    (root.parent / "pyproject.toml").write_text("[tool.poselint]\nmax_findings_per_file = 3\n")


def _val_categories(root: Path) -> None:  # PL412 compares every split's categories
    doc = clean_docs()["val"]
    doc["categories"] = [dict(PERSON, name="human")]
    write_json(root / VAL, doc)


# change -> the annotation files no longer served from the cache (of train, val)
CHANGES: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "edit": (_edit, ["person_keypoints_val.json"]),
    "touch": (_touch, ["person_keypoints_val.json"]),
    "replace": (_replace, ["person_keypoints_val.json"]),
    "rename over": (_rename_over, []),
    "add image": (_add_image, ["person_keypoints_val.json"]),
    "remove image": (_remove_image, ["person_keypoints_val.json"]),
    "resize image": (_resize_image, ["person_keypoints_val.json"]),
    "config": (_config, []),
    "val categories": (_val_categories, ["person_keypoints_train.json"]),
}


def test_each_change_invalidates_exactly_the_splits_that_read_it(
    tmp_path, make_dataset, cli, cache_dir
):
    roots = {name: _dataset(make_dataset, f"ds-{i}/root") for i, name in enumerate(CHANGES)}
    _settle()
    both = ["person_keypoints_train.json", "person_keypoints_val.json"]
    for name, root in roots.items():
        change, still_cached = CHANGES[name]
        first, first_hits = _run(cli, root)
        again, again_hits = _run(cli, root)
        assert (first_hits, again_hits, again) == ([], both, first), name
        change(root)
        after, after_hits = _run(cli, root)
        bare, _ = _run(cli, root, "--no-cache")
        assert after_hits == still_cached, name
        assert after == bare, name
    # what the changes did is seen, not served stale from the cache
    assert "PL405" in {d["code"] for d in json.loads(_run(cli, roots["edit"])[0])}
    assert "PL504" in {d["code"] for d in json.loads(_run(cli, roots["resize image"])[0])}
    assert "PL412" in {d["code"] for d in json.loads(_run(cli, roots["val categories"])[0])}


def test_the_rule_selection_and_image_size_option_are_in_the_key(make_dataset, cli, cache_dir):
    root = _dataset(make_dataset, "root")
    _settle()
    both = ["person_keypoints_train.json", "person_keypoints_val.json"]
    assert _run(cli, root)[1] == []
    assert _run(cli, root)[1] == both
    assert _run(cli, root, "--ignore", "PL401")[1] == []
    assert _run(cli, root, "--ignore", "PL401")[1] == both
    assert _run(cli, root, "--no-image-size")[1] == []
    assert _run(cli, root, "--no-image-size")[1] == both
    # without header reads, an image's size is no input: resizing it keeps the entry
    write_image(root / "images" / "train" / "img_001.jpg", 65, 48)
    assert _run(cli, root, "--no-image-size")[1] == both
    assert _run(cli, root)[1] == ["person_keypoints_val.json"]


def test_files_changed_within_the_racy_window_are_not_cached(make_dataset, cli, cache_dir):
    root = _dataset(make_dataset, "root")  # just written: a later write could share its mtime
    _run(cli, root)
    assert _run(cli, root)[1] == []
    assert cache_dir.is_dir() and _entries(cache_dir) == []  # used, but nothing stored


def test_fix_and_diff_never_use_the_cache(make_dataset, cli, cache_dir):
    root = _dataset(make_dataset, "root")
    _settle()
    _run(cli, root)
    for extra in (("--diff",), ("--fix",)):
        result = cli("check", root, "-v", *extra)
        assert result.code == 0 and FROM_CACHE not in result.err, (extra, result)
    assert _run(cli, root)[1] == ["person_keypoints_train.json", "person_keypoints_val.json"]


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".json")


def test_corrupt_foreign_and_linked_entries_are_ignored(tmp_path, make_dataset, cli, cache_dir):
    root = _dataset(make_dataset, "root")
    _settle()
    expected, _ = _run(cli, root)
    train, val = _entries(cache_dir)
    train.write_bytes(b"\x80garbage{")
    entry = json.loads(val.read_bytes())
    entry["key"] = entry["key"].replace("person_keypoints", "other")
    entry["diagnostics"] = [["PL999", "", "", None, "error", False, 1]]
    val.write_text(json.dumps(entry))
    out, hits = _run(cli, root)
    assert (out, hits) == (expected, [])  # both rewritten now
    # an entry that is a link is not followed, even to a valid entry
    linked = _entries(cache_dir)[0]
    outside = tmp_path / "outside.json"
    shutil.move(linked, outside)
    linked.symlink_to(outside)
    out, hits = _run(cli, root)
    assert out == expected and len(hits) == 1
    assert not linked.is_symlink()  # replaced by a fresh entry, the link's target untouched


def test_a_cache_folder_that_is_a_link_is_not_used(tmp_path, make_dataset, cli, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "link"
    link.symlink_to(elsewhere)
    monkeypatch.setenv(cache_module.ENV_FOLDER, str(link))
    root = _dataset(make_dataset, "root")
    _settle()
    result = cli("check", root, "-v")
    assert result.code == 0, result
    assert "cannot be used; not cached" in result.err
    assert list(elsewhere.iterdir()) == []


def test_the_cache_sits_at_the_git_root_ignored_by_git(tmp_path, make_dataset, cli, monkeypatch):
    monkeypatch.delenv(cache_module.ENV_FOLDER)
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    root = _dataset(make_dataset, "repo/data/root")
    (repo / "sub").mkdir()
    _settle()
    assert cli("check", root, cwd=repo / "sub").code == 0
    folder = repo / cache_module.FOLDER_NAME
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert len(_entries(folder)) == 2
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    assert cache_module.FOLDER_NAME not in status.stdout
    assert not (root / cache_module.FOLDER_NAME).exists()


def test_no_cache_inside_a_dataset_root(make_dataset, cli, monkeypatch):
    monkeypatch.delenv(cache_module.ENV_FOLDER)
    root = _dataset(make_dataset, "root")  # no git: the cache would go to the cwd, the root
    _settle()
    result = cli("check", ".", "-v", cwd=root)
    assert result.code == 0, result
    assert "cannot be used; not cached" in result.err
    assert not (root / cache_module.FOLDER_NAME).exists()


def test_clean_removes_the_cache_and_nothing_else(tmp_path, make_dataset, cli, monkeypatch):
    monkeypatch.delenv(cache_module.ENV_FOLDER)
    work = tmp_path / "work"
    work.mkdir()
    root = _dataset(make_dataset, "root")
    _settle()
    assert cli("check", root, cwd=work).code == 0
    assert (work / cache_module.FOLDER_NAME / "CACHEDIR.TAG").is_file()
    result = cli("clean", cwd=work)
    assert result.code == 0 and "removed the cache" in result.err, result
    assert not (work / cache_module.FOLDER_NAME).exists()
    assert cli("clean", cwd=work).code == 0  # nothing to remove
    # a folder of that name that poselint did not make, or a link, is left alone
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "mine.txt").write_text("x")
    (work / cache_module.FOLDER_NAME).symlink_to(keep)
    result = cli("clean", cwd=work)
    assert result.code == 2 and "is not a poselint cache" in result.err, result
    assert (keep / "mine.txt").read_text() == "x"


def test_two_runs_writing_the_same_entries_at_once(make_dataset, cache_dir):
    root = _dataset(make_dataset, "root")
    _settle()
    env = dict(os.environ, **{cache_module.ENV_FOLDER: str(cache_dir)})
    argv = [sys.executable, "-m", "poselint", "check", str(root), "--format", "json"]
    runs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE) for _ in range(4)]
    outs = [run.communicate()[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert len(set(outs)) == 1
    assert len(_entries(cache_dir)) == 2
    assert not [p for p in cache_dir.iterdir() if p.name.startswith("tmp-")]
    after = subprocess.run([*argv, "-v"], env=env, capture_output=True, text=True)
    assert after.stdout.encode() == outs[0]
    assert len(_cached(after.stderr)) == 2


def test_the_cache_is_bounded(make_dataset, cli, cache_dir, monkeypatch):
    monkeypatch.setattr(cache_module, "MAX_ENTRIES", 3)
    roots = [_dataset(make_dataset, f"root{i}") for i in range(3)]
    _settle()
    for root in roots:
        _run(cli, root)
    assert len(_entries(cache_dir)) <= 3
    # the most recent root's entries are kept
    assert _run(cli, roots[-1])[1] == ["person_keypoints_train.json", "person_keypoints_val.json"]


def test_only_pl412_reads_documents_among_dataset_rules(tmp_path):
    """A cached split shows dataset-scope rules only its categories (engine._show_cached):
    no other dataset-scope rule may read a split's document."""
    readers = set()
    for root in _corpus_datasets(tmp_path / "corpus").values():
        for rule in (r for r in REGISTRY if r.scope == "dataset"):
            dataset = Dataset(root, load_config(None))
            list(rule.check(dataset))
            if any("loaded" in vars(split) for split in dataset.splits):
                readers.add(rule.code)
    assert readers == {"PL412"}


def test_a_file_gone_between_the_walk_and_its_stat_changes_the_key(tmp_path):
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.jpg")
        write_image(paths[-1], 8, 8)
    names = [str(p) for p in paths]
    present, newest = cachekey._stats(names)
    assert newest == max(max(p.stat().st_mtime_ns, p.stat().st_ctime_ns) for p in paths)
    paths[1].unlink()
    gone, _ = cachekey._stats(names)  # no exception: the file is marked, not skipped
    assert len(gone) == len(present) and gone != present


def test_baseline_html_and_metrics_read_the_data_of_cached_splits(
    tmp_path, make_dataset, cli, cache_dir
):
    """They need the parsed documents: a split served from the cache is parsed for them on
    demand, so their output is the same as without the cache."""
    docs = clean_docs()
    docs["train"]["annotations"][0]["image_id"] = 99  # PL404
    docs["val"]["annotations"][0]["keypoints"][0] = 500  # outside the image (PL403)
    root = make_dataset(docs, name="root")
    out = tmp_path / "out"
    out.mkdir()
    baseline = out / "baseline.json"
    assert cli("check", root, "--write-baseline", baseline, "--no-cache").code == 0
    docs["val"]["annotations"][0]["keypoints"][3] = 600  # a new finding, not in the baseline
    write_json(root / VAL, docs["val"])
    _settle()
    runs = {}
    for name in ("cold", "warm", "bare"):
        extra = ("--no-cache",) if name == "bare" else ()
        html, metrics = out / f"{name}.html", out / f"{name}-metrics.json"
        base = cli("check", root, "--baseline", baseline, "--format", "json", "-v", *extra)
        page = cli("check", root, "--format", "html", "--output", html, "-v", *extra)
        counted = cli("check", root, "--metrics", metrics, "--format", "json", "-v", *extra)
        runs[name] = (
            (base.code, base.out, page.code, counted.code, counted.out),
            html.read_text().replace(f"{name}.html", ""),
            metrics.read_bytes(),
            [_cached(r.err) for r in (base, page, counted)],
        )
    assert runs["warm"][:3] == runs["cold"][:3] == runs["bare"][:3]
    assert runs["warm"][0][0] == 1 and runs["warm"][0][1] != "[]"
    both = ["person_keypoints_train.json", "person_keypoints_val.json"]
    assert runs["warm"][3] == [both, both, both]


def test_a_key_taken_in_threads_sees_every_file(tmp_path, monkeypatch):
    """Slow storage (here: any) makes the stats go to threads: the key is the one thread's."""
    one_thread = cachekey._stats  # the probe finds a page-cache stat fast
    monkeypatch.setattr(cachekey, "_STAT_PROBE", 10)
    paths = []
    for i in range(100):
        paths.append(tmp_path / f"{i}.jpg")
        paths[-1].write_bytes(b"x" * i)
    names = [str(p) for p in paths]
    serial = one_thread(names)
    monkeypatch.setattr(cachekey, "_SLOW_STAT_SECONDS", -1.0)
    threaded, newest = cachekey._stats(names)
    assert (threaded, newest) == serial
    for i in (0, 57, 99):  # a change anywhere changes the key
        os.utime(paths[i], ns=(1, 1))
        changed, _ = cachekey._stats(names)
        assert changed != threaded, i
        threaded = changed
    paths[42].unlink()
    assert cachekey._stats(names)[0] != threaded


def _listing(folder: Path) -> dict[str, bytes | None]:
    return {p.name: None if p.is_dir() else p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_folder_poselint_did_not_make_is_neither_used_nor_removed(
    tmp_path, make_dataset, cli, monkeypatch
):
    """$POSELINT_CACHE_DIR set to a folder of the user's (their home, /tmp): poselint writes
    nothing in it, evicts nothing from it, and `clean` does not delete it."""
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("precious")
    (mine / "sub" / "f.txt").write_text("x")
    old = mine / "tmp-report.txt"  # a name eviction would take for a killed run's temp file
    old.write_text("keep")
    os.utime(old, (0, 0))
    before = _listing(mine)
    monkeypatch.setenv(cache_module.ENV_FOLDER, str(mine))
    root = _dataset(make_dataset, "root")
    _settle()
    for _ in range(2):
        result = cli("check", root, "-v")
        assert result.code == 0, result
        assert "cannot be used; not cached" in result.err
    assert _listing(mine) == before
    result = cli("clean")
    assert result.code == 2 and "is not a poselint cache" in result.err, result
    assert _listing(mine) == before and (mine / "sub" / "f.txt").read_text() == "x"


def test_clean_removes_only_the_files_poselint_wrote(tmp_path, make_dataset, cli, cache_dir):
    """A file someone put in the cache folder (or a committed one with a copied CACHEDIR.TAG)
    is not deleted: clean removes the entries and leaves the folder, saying why."""
    root = _dataset(make_dataset, "root")
    _settle()
    _run(cli, root)
    assert len(_entries(cache_dir)) == 2
    (cache_dir / "mine.txt").write_text("precious")
    (cache_dir / "folder").mkdir()
    (cache_dir / "folder" / "f.txt").write_text("x")
    result = cli("clean")
    assert result.code == 2, result
    assert "holds files poselint did not write (folder, mine.txt)" in result.err, result
    assert sorted(p.name for p in cache_dir.iterdir()) == [
        ".gitignore",  # kept: what is left stays out of git
        "CACHEDIR.TAG",
        "folder",
        "mine.txt",
    ]
    assert (cache_dir / "mine.txt").read_text() == "precious"
    assert (cache_dir / "folder" / "f.txt").read_text() == "x"
    (cache_dir / "mine.txt").unlink()
    shutil.rmtree(cache_dir / "folder")
    result = cli("clean")
    assert result.code == 0 and "removed the cache" in result.err, result
    assert not cache_dir.exists()


def test_where_reads_may_go_is_in_the_key(tmp_path):
    """An annotation file linked into the DVC cache (cache.type symlink) is read only while
    that is the cache the repository configures: after `dvc cache dir` moves it, the link
    leads outside the root and the cache, and the cached verdict must not hide PL301."""
    from dvcrepo import BIN, dvc, init_repo, isolated_env, run

    from builders import build_dataset

    env = isolated_env(tmp_path / "home")
    env[cache_module.ENV_FOLDER] = str(tmp_path / "the-cache")
    repo = init_repo(tmp_path / "repo", env)
    root = build_dataset(repo / "ds")
    dvc("config", "cache.type", "symlink", cwd=repo, env=env)
    dvc("add", "-q", "ds", cwd=repo, env=env)
    for image in [p for p in (root / "images").rglob("*") if p.is_symlink()]:
        shutil.copyfile(image.resolve(), image.with_suffix(".tmp"))  # a copy in its place:
        os.replace(image.with_suffix(".tmp"), image)  # only the annotation files stay links
    assert (root / TRAIN).is_symlink()
    _settle()
    argv = [str(BIN / "poselint"), "check", "ds", "--format", "json", "-v"]
    first = run(argv, repo, env)
    again = run(argv, repo, env)
    assert json.loads(first.stdout) == [] and again.stdout == first.stdout
    assert len(_cached(again.stderr)) == 2
    dvc("config", "cache.dir", str(tmp_path / "elsewhere"), cwd=repo, env=env)
    bare = run([*argv, "--no-cache"], repo, env, check=False)
    after = run(argv, repo, env, check=False)
    assert sorted(d["code"] for d in json.loads(bare.stdout)) == ["PL301", "PL301"]
    assert (after.returncode, after.stdout) == (bare.returncode, bare.stdout)
    assert _cached(after.stderr) == []


def test_categories_nested_as_deep_as_a_document_may_be_are_not_cached(
    make_dataset, cli, cache_dir
):
    """The loader accepts 1,024 levels; what the cache stores of a split (its categories) is
    encoded with the interpreter's recursion limit: such a split is linted, not cached, and
    the verdict is the one without a cache (it was an internal error)."""
    docs = clean_docs()
    docs["val"]["categories"].append("DEEP")
    root = make_dataset(docs, name="root")
    path = root / VAL
    path.write_text(path.read_text().replace('"DEEP"', "[" * 1000 + "]" * 1000))
    _settle()
    bare = cli("check", root, "--format", "json", "--no-cache")
    assert bare.code == 1 and bare.codes() == {"PL310"}, bare
    assert _run(cli, root) == (bare.out, [])
    assert _run(cli, root) == (bare.out, ["person_keypoints_train.json"])  # val: not stored


def test_an_upgraded_dependency_is_in_the_key(tmp_path, make_dataset, cli, cache_dir, monkeypatch):
    """Pillow reads the image headers, pycocotools runs PL490, jsonschema-rs the schema: a
    `pip install -U` of one of them may change a verdict, so it is a miss, as a poselint
    upgrade is. (A newer Pillow's dist-info on the path stands for the upgrade.)"""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    root = _dataset(make_dataset, "root")
    _settle()
    cold, _ = _run(cli, root)
    assert _run(cli, root) == (cold, ["person_keypoints_train.json", "person_keypoints_val.json"])
    (site / "pillow-99.0.dist-info").mkdir()
    (site / "pillow-99.0.dist-info" / "METADATA").write_text("Name: pillow\nVersion: 99.0\n")
    assert _run(cli, root) == (cold, [])
    unrelated = site / "some_tool-1.0.dist-info"  # an unrelated package: still a hit
    unrelated.mkdir()
    assert _run(cli, root) == (cold, ["person_keypoints_train.json", "person_keypoints_val.json"])


def test_no_cache_inside_a_dataset_root_that_is_not_being_linted(make_dataset, cli, monkeypatch):
    """Run from inside one dataset (no git: the cache would go to the cwd) to lint another:
    the cache is not written into the first, where PL505 would find it among the images."""
    monkeypatch.delenv(cache_module.ENV_FOLDER)
    here = _dataset(make_dataset, "here")
    other = _dataset(make_dataset, "other")
    _settle()
    cwd = here / "images" / "train"
    result = cli("check", other, "-v", cwd=cwd)
    assert result.code == 0, result
    assert "cannot be used; not cached" in result.err
    assert not (cwd / cache_module.FOLDER_NAME).exists()
    assert cli("check", here, "--format", "json", "--no-cache", cwd=cwd).out == "[]\n"
