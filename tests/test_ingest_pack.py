"""ingest and pack: the CVAT round trip, and every refusal that keeps data safe."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_fix import snapshot


def zip_tree(folder: Path, archive: Path, top: str = "") -> Path:
    """Zip a folder the way CVAT does (optionally under one top folder)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, top + path.relative_to(folder).as_posix())
    return archive


def leftovers(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if ".poselint-" in n]


@pytest.fixture
def export_zip(make_cvat_export, tmp_path) -> Path:
    return zip_tree(make_cvat_export(), tmp_path / "task_export.zip")


# --- acceptance ---------------------------------------------------------------------------


def test_raw_cvat_export_ingests_into_a_passing_dataset(export_zip, cli, tmp_path):
    result = cli("ingest", export_zip, "data/pose")
    assert result.code == 0, result
    assert "renamed images/Train -> images/train" in result.out
    assert "fixed 4 outside points in annotations/person_keypoints_Train.json" in result.out
    root = tmp_path / "data" / "pose"
    assert sorted(os.listdir(root / "images")) == ["train", "val"]
    assert (root / "images" / "val" / "frame_000007.PNG").is_file()
    assert (root / "images" / "train" / "nested" / "dir" / "img_002.png").is_file()
    check = cli("check", root, "--format", "json")
    assert check.code == 0, check
    assert all(d["severity"] == "warning" for d in check.json())
    assert "PL000" not in check.codes()
    assert leftovers(tmp_path / "data") == []


def test_extracted_folder_export_ingests_the_same(make_cvat_export, export_zip, cli, tmp_path):
    folder = make_cvat_export("extracted")
    assert cli("ingest", folder, "a").code == 0
    assert cli("ingest", export_zip, "b").code == 0
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    assert (folder / "images" / "Train").is_dir()  # the export itself is left as it was


def test_export_nested_one_folder_down(make_cvat_export, cli, tmp_path):
    archive = zip_tree(make_cvat_export(), tmp_path / "nested.zip", top="task_7/")
    result = cli("ingest", archive, "ds")
    assert result.code == 0 and "from its folder task_7/" in result.out
    assert sorted(os.listdir(tmp_path / "ds")) == ["annotations", "images"]


def test_round_trip_pack_then_ingest_is_identical(make_dataset, cli, tmp_path):
    root = make_dataset()
    packed = cli("pack", root, "-o", tmp_path / "out.zip")
    assert packed.code == 0, packed
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert sorted(zf.namelist()) == [
            "annotations/person_keypoints_train.json",
            "annotations/person_keypoints_val.json",
            "images/train/img_001.jpg",
            "images/train/img_003.jpg",
            "images/train/nested/dir/img_002.png",
            "images/val/frame_000007.PNG",
        ]
    result = cli("ingest", tmp_path / "out.zip", "back")
    assert result.code == 0, result
    assert snapshot(tmp_path / "back") == snapshot(root)


def test_round_trip_of_an_ingested_cvat_export(export_zip, cli, tmp_path):
    assert cli("ingest", export_zip, "first").code == 0
    assert cli("pack", "first", "-o", "again.zip").code == 0
    assert cli("ingest", "again.zip", "second").code == 0
    assert snapshot(tmp_path / "second") == snapshot(tmp_path / "first")


def test_one_split_packs_as_cvat_default_and_comes_back_by_name(make_dataset, cli, tmp_path):
    root = make_dataset()
    assert cli("pack", root, "-o", "val.zip", "--split", "val").code == 0
    with zipfile.ZipFile(tmp_path / "val.zip") as zf:
        assert sorted(zf.namelist()) == [
            "annotations/person_keypoints_default.json",
            "images/frame_000007.PNG",
        ]
    # Without a name it is CVAT's 'default' subset: reported, with the option that names it.
    plain = cli("ingest", "val.zip", "plain")
    assert plain.code == 1 and "--default-split" in plain.out
    named = cli("ingest", "val.zip", "named", "--default-split", "val")
    assert "moved the 1 entries of images/ into images/val/" in named.out
    back = {k: v for k, v in snapshot(tmp_path / "named").items()}
    original = {k: v for k, v in snapshot(root).items() if "train" not in k}
    assert back == original


def test_pack_is_deterministic(make_dataset, cli, tmp_path):
    root = make_dataset()
    assert cli("pack", root, "-o", "a.zip").code == 0
    os.utime(root / "images" / "train" / "img_001.jpg", (1, 1))
    assert cli("pack", root, "-o", "b.zip").code == 0
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--split", "test"], "no split 'test'"),
        (["--split", "Train"], "no split 'Train'"),
    ],
)
def test_pack_refuses_unknown_splits(make_dataset, cli, tmp_path, argv, message):
    root = make_dataset()
    result = cli("pack", root, "-o", "x.zip", *argv)
    assert result.code == 2 and message in result.err
    assert not (tmp_path / "x.zip").exists()


def test_pack_refuses_a_zip_inside_the_root(make_dataset, cli):
    root = make_dataset()
    result = cli("pack", root, "-o", root / "x.zip")
    assert result.code == 2 and not (root / "x.zip").exists()


def test_pack_refuses_an_unparsable_split(make_dataset, cli, tmp_path):
    root = make_dataset()
    (root / "annotations" / "person_keypoints_val.json").write_text("{")
    assert cli("pack", root, "-o", "x.zip").code == 2
    assert not (tmp_path / "x.zip").exists()


# --- safety -------------------------------------------------------------------------------


def evil_zip(path: Path, name: str, data: bytes = b"x", mode: int | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("images/train/ok.jpg", b"fine")
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.external_attr = mode << 16
        zf.writestr(info, data)
    return path


@pytest.mark.parametrize(
    ("name", "mode", "reason"),
    [
        ("../evil.txt", None, "zip-slip"),
        ("images/../../evil.txt", None, "zip-slip"),
        ("/tmp/evil.txt", None, "absolute path"),
        ("C:/evil.txt", None, "absolute path"),
        ("..\\evil.txt", None, "backslash"),
        ("images/train/link.jpg", stat.S_IFLNK | 0o777, "symbolic link"),
    ],
)
def test_unsafe_entries_are_refused(cli, tmp_path, name, mode, reason):
    archive = evil_zip(tmp_path / "evil.zip", name, b"/etc/passwd", mode)
    result = cli("ingest", archive, "out")
    assert result.code == 2 and reason in result.err, result
    assert not (tmp_path / "out").exists()
    assert not (tmp_path.parent / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()
    assert leftovers(tmp_path) == []


def test_a_refused_entry_is_named_escaped(cli, tmp_path):
    """A member named with a terminal escape reaches stderr escaped, not as `\x1b[2J`."""
    archive = evil_zip(tmp_path / "evil.zip", "../\x1b[2Jevil.txt", b"x", None)
    result = cli("ingest", archive, "out")
    assert result.code == 2 and "\x1b" not in result.err, result
    assert result.err.endswith(
        "evil.zip: refusing entry '../\\x1b[2Jevil.txt': '..' escaping the destination (zip-slip)\n"
    )


def patched_zip(path: Path, how: str) -> Path:
    """A real zip, its bytes patched the way no zip library writes them."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("annotations/person_keypoints_train.json", b"{}")
        zf.writestr("images/train/Z.jpg", b"x")
    data = bytearray(path.read_bytes())
    central, local = data.rindex(b"PK\x01\x02"), data.rindex(b"PK\x03\x04")  # Z.jpg's
    if how == "version 25.5":
        data[central + 6] = 255  # version needed to extract, in tenths
    else:  # bit 11: the name is UTF-8; make it not (byte 0xff), in one header or both
        for header in (local, central) if how == "utf-8 flag" else (local,):
            data[header + (7 if header == local else 9)] |= 0x08
            name_at = data.index(b"Z.jpg", header)
            data[name_at] = 0xFF
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("version 25.5", "refusing entry 'images/train/Z.jpg': it needs zip version 25.5"),
        ("utf-8 flag", "refusing entry 'images/train/\\xff.jpg': its name is flagged UTF-8"),
        ("utf-8 flag, local header", "entry 'images/train/Z.jpg' is corrupt"),
    ],
)
def test_zips_python_cannot_read_are_refused_naming_the_entry(cli, tmp_path, how, message):
    archive = patched_zip(tmp_path / "odd.zip", how)
    before = snapshot(tmp_path)
    result = cli("ingest", archive, "new/deeper/out")
    assert result.code == 2 and result.err.startswith("poselint: ingest refused: "), result
    assert f"{archive}: " in result.err and message in result.err, result
    assert snapshot(tmp_path) == before  # no DEST, no parent folders, no temp folder


@pytest.mark.parametrize(
    ("second", "message"),
    [
        ("images/train/a.jpg", "clashes with another entry of that name"),
        (
            "images/train/a.jpg/b.jpg",
            "refusing entry 'images/train/a.jpg': a file, but entry 'images/train/a.jpg/b.jpg' "
            "needs a folder of that name",
        ),
        ("images/train/" + "x" * 300 + ".jpg", "cannot extract entry 'images/train/xxx"),
        (  # the file comes first: found before anything is written, not as a bare errno
            "!images",
            "refusing entry 'images': a file, but entry 'images/train/a.jpg' needs a folder",
        ),
    ],
)
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_entries_the_file_system_cannot_hold_are_refused_naming_them(
    cli, tmp_path, second, message
):
    archive = tmp_path / "odd.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        if second.startswith("!"):
            zf.writestr(second[1:], b"x")
        zf.writestr("images/train/a.jpg", b"x")
        if not second.startswith("!"):
            zf.writestr(second, b"x")
    result = cli("ingest", archive, "out")
    assert result.code == 2 and f"{archive}: " in result.err and message in result.err, result
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_refusals_leave_no_trace(cli, make_cvat_export, tmp_path):
    """Every refusal, early or late, leaves the file system as it was: DEST's missing
    parent folders are made only when the dataset moves into place."""
    exports = [
        evil_zip(tmp_path / "slip.zip", "../evil.txt"),
        zip_tree(make_cvat_export(), tmp_path / "cvat.zip"),
        tmp_path / "flat",
    ]
    (tmp_path / "flat").mkdir()
    (tmp_path / "file").write_text("")
    before = snapshot(tmp_path)
    for argv in (
        [exports[0], "new/deeper/out"],
        [exports[1], "new/deeper/out", "--max-bytes", "1000"],
        [exports[1], "new/deeper/out", "--default-split", "val"],
        [exports[2], "new/deeper/out"],
        [exports[1], "file/out"],
    ):
        result = cli("ingest", *argv)
        assert result.code == 2 and "ingest refused" in result.err, result
        assert snapshot(tmp_path) == before, argv


def test_dest_is_never_the_current_folder_or_one_holding_it(make_cvat_export, cli, tmp_path):
    """An export named `..zip` gave the default DEST `./.`, the current folder itself: with
    --force it was moved aside and deleted. A derived name that names no new folder, and a
    DEST that is or holds the current folder, are refused even with --force."""
    downloads, work = tmp_path / "downloads", tmp_path / "work"
    downloads.mkdir()
    (work / "sub").mkdir(parents=True)
    (work / "thesis.tex").write_text("not backed up")
    export = make_cvat_export()
    for name in ("..zip", ".zip"):
        zip_tree(export, downloads / name)
    before = snapshot(tmp_path)
    for argv in (
        [downloads / "..zip", "--force"],
        [downloads / ".zip", "--force"],
        [downloads / ".zip", ".", "--force"],
        [downloads / ".zip", work, "--force"],
    ):
        result = cli("ingest", *argv, cwd=work / "sub" if argv[1] == work else work)
        assert result.code == 2 and "ingest refused" in result.err, (argv, result)
        assert snapshot(tmp_path) == before, argv
    assert (
        "no folder name can be made from it: give DEST"
        in cli("ingest", downloads / "..zip", cwd=work).err
    )
    assert "is or holds the current folder" in cli("ingest", downloads / ".zip", ".", "--force").err


def test_default_split_on_a_multi_split_export_is_refused(export_zip, make_dataset, cli):
    """--default-split names CVAT's 'default' subset; a train/val export has none, and moving
    its images/ into images/test/ would file both splits under one name (even over DEST with
    --force)."""
    dest = make_dataset(name="dest")
    before = snapshot(dest)
    result = cli("ingest", export_zip, dest, "--default-split", "test", "--force")
    assert result.code == 2, result
    assert "--default-split test: the export has no 'default' subset" in result.err
    assert snapshot(dest) == before


def test_declared_size_over_the_bound_is_refused(export_zip, cli, tmp_path):
    result = cli("ingest", export_zip, "out", "--max-bytes", "1000")
    assert result.code == 2 and "over the bound of 1,000" in result.err
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_entry_lying_about_its_size_is_refused(cli, tmp_path):
    """A bomb whose headers declare tiny sizes: the bytes are counted while extracting."""
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("images/train/a.jpg", b"\0" * 5_000_000)
    data = bytearray(archive.read_bytes())
    size = (5_000_000).to_bytes(4, "little")
    tiny = (10).to_bytes(4, "little")
    assert data.count(size) == 2  # local header and central directory
    archive.write_bytes(bytes(data).replace(size, tiny))
    result = cli("ingest", archive, "out", "--max-bytes", "1000000")
    assert result.code == 2, result
    assert "bound" in result.err or "corrupt" in result.err
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_not_a_zip_and_missing_export_are_exit_2(cli, tmp_path):
    (tmp_path / "notes.zip").write_text("hello")
    assert cli("ingest", "notes.zip", "out").code == 2
    assert cli("ingest", "missing.zip", "out").code == 2
    (tmp_path / "flat").mkdir()
    assert "no images/ and annotations/" in cli("ingest", "flat", "out").err


def test_folder_export_with_a_symlink_is_refused(make_cvat_export, cli, tmp_path):
    folder = make_cvat_export()
    (folder / "images" / "Train" / "link.jpg").symlink_to("/etc/passwd")
    result = cli("ingest", folder, "out")
    assert result.code == 2 and "symbolic link" in result.err
    assert not (tmp_path / "out").exists()


def test_macos_litter_is_skipped(make_cvat_export, cli, tmp_path):
    archive = zip_tree(make_cvat_export(), tmp_path / "mac.zip")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("__MACOSX/images/._x", b"junk")
        zf.writestr("images/Train/.DS_Store", b"junk")
    assert cli("ingest", archive, "out").code == 0
    assert not any(".DS_Store" in k or "MACOSX" in k for k in snapshot(tmp_path / "out"))


def test_non_empty_dest_is_refused_without_force(export_zip, make_dataset, cli):
    dest = make_dataset(name="dest")
    before = snapshot(dest)
    result = cli("ingest", export_zip, dest)
    assert result.code == 2 and "--force" in result.err
    assert snapshot(dest) == before


def test_empty_dest_is_fine(export_zip, cli, tmp_path):
    (tmp_path / "empty").mkdir()
    assert cli("ingest", export_zip, "empty").code == 0


def test_force_replaces_dest_only_when_the_new_one_is_complete(
    export_zip, make_dataset, cli, tmp_path
):
    dest = make_dataset(name="dest")
    (dest / "old-only.txt").write_text("old")
    before = snapshot(dest)
    # A refused export under --force leaves the old content exactly as it was.
    bad = evil_zip(tmp_path / "bad.zip", "../x")
    assert cli("ingest", bad, dest, "--force").code == 2
    assert snapshot(dest) == before
    # A good one replaces it, and nothing is left behind.
    assert cli("ingest", export_zip, dest, "--force").code == 0
    assert not (dest / "old-only.txt").exists()
    assert sorted(os.listdir(dest / "images")) == ["train", "val"]
    assert leftovers(tmp_path) == []


# Fixes in staging: 2 (JSON write) + 2 + 1 (annotation renames, Train is case-only) + 2 + 1
# (image folders); then DEST aside + the new one into place.
INGEST_STEPS = 10


@pytest.mark.parametrize(
    "kill_at", [1, 5, INGEST_STEPS - 2, INGEST_STEPS - 1, INGEST_STEPS, INGEST_STEPS + 1]
)
def test_sigkill_during_forced_ingest_never_loses_the_old_dest(
    export_zip, make_dataset, tmp_path, kill_at
):
    dest = make_dataset(name="dest")
    old = snapshot(dest)
    run = subprocess.run(
        [sys.executable, "-m", "poselint", "ingest", str(export_zip), str(dest), "--force"],
        env={**os.environ, "POSELINT_FAULT_AFTER": str(kill_at)},
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    if kill_at > INGEST_STEPS:
        assert run.returncode == 0, run.stderr  # the count of steps is right
        return
    assert run.returncode == -signal.SIGKILL, run.stderr
    staged = [tmp_path / n for n in leftovers(tmp_path)]
    if kill_at <= INGEST_STEPS - 2:
        assert snapshot(dest) == old  # killed before the swap: DEST untouched
        return
    # After the swap started, the old content waits complete in the staging folder.
    assert len(staged) == 1 and snapshot(staged[0] / "previous") == old
    if kill_at == INGEST_STEPS:  # the new one is only ever in place complete
        assert sorted(os.listdir(dest / "images")) == ["train", "val"]
    else:
        assert not dest.exists()


# Runs poselint with a real SIGINT (the user's Ctrl-C) sent to itself right after the Nth
# mutating step, through the fault hook the SIGKILL tests use.
SIGINT_AT = """
import os, signal, sys
import poselint.fsutil as fsutil
# as in a terminal's foreground: a run started in the background inherits SIGINT ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
steps = 0
def fault_point():
    global steps
    steps += 1
    if steps == int(os.environ["SIGINT_AT"]):
        os.kill(os.getpid(), signal.SIGINT)
fsutil.fault_point = fault_point
from poselint.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("interrupt_at", [INGEST_STEPS - 1, INGEST_STEPS])
def test_ctrl_c_during_forced_ingest_never_loses_dest(
    export_zip, make_dataset, tmp_path, interrupt_at
):
    """Ctrl-C between DEST going aside and the new one taking its place: the swap finishes
    first (DEST is never missing), then the run stops."""
    dest = make_dataset(name="dest")
    run = subprocess.run(
        [sys.executable, "-c", SIGINT_AT, "ingest", str(export_zip), str(dest), "--force"],
        env={**os.environ, "SIGINT_AT": str(interrupt_at)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 130, run.stderr
    assert sorted(os.listdir(dest / "images")) == ["train", "val"]
    assert (dest / "annotations" / "person_keypoints_train.json").is_file()
    assert leftovers(tmp_path) == []


def test_ingest_json_format_keeps_stdout_a_json_array(export_zip, cli):
    result = cli("ingest", export_zip, "out", "--format", "json")
    assert result.code == 0
    assert all(d["severity"] == "warning" for d in result.json())
    assert "renamed images/Train -> images/train" in result.err


def test_pack_zip_gets_the_usual_file_mode(make_dataset, cli, tmp_path):
    root = make_dataset()
    old = os.umask(0o022)
    try:
        assert cli("pack", root, "-o", "x.zip").code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.zip").stat().st_mode) == 0o644


def test_a_folder_name_in_the_export_cannot_forge_a_line_of_output(make_cvat_export, cli, tmp_path):
    top = "task\n::error file=README.md::x/"
    archive = zip_tree(make_cvat_export(), tmp_path / "nested.zip", top=top)
    result = cli("ingest", archive, "out")
    assert result.code == 0, result
    assert not [line for line in result.out.splitlines() if line.startswith("::")], result.out
    assert "(from its folder task\\n::error file=README.md::x/)" in result.out


# --- pack reads what check reads (fsutil.Confinement, Split.images) ------------------------


def test_pack_packs_a_symlinked_folder_inside_the_root_as_check_sees_it(
    make_dataset, cli, tmp_path
):
    """Issue 11.3: check followed images/train/nested -> nested_real, pack left it out."""
    from builders import clean_docs, image

    docs = clean_docs()
    docs["train"]["images"].append(image(4, "nested_real/dir/img_002.png", 80, 60))
    root = make_dataset(docs)
    train = root / "images" / "train"
    shutil.rmtree(train / "nested")
    (train / "nested").symlink_to("nested_real", target_is_directory=True)
    assert cli("check", root, "--format", "json").json() == []
    packed = cli("pack", root, "-o", tmp_path / "out.zip")
    assert packed.code == 0, packed
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        names = set(zf.namelist())
    assert {"images/train/nested/dir/img_002.png", "images/train/nested_real/dir/img_002.png"} <= (
        names
    )
    assert cli("ingest", tmp_path / "out.zip", "back").code == 0
    back = cli("check", tmp_path / "back", "--format", "json")
    assert back.code == 0 and back.json() == [], back
    assert (
        tmp_path / "back" / "images" / "train" / "nested" / "dir" / "img_002.png"
    ).read_bytes() == (train / "nested_real" / "dir" / "img_002.png").read_bytes()


def test_pack_refuses_a_symlink_to_a_file_outside_the_root(make_dataset, cli, tmp_path):
    """Issue 11.5: pack stored the outside file's bytes; check does not follow that link."""
    root = make_dataset()
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"TOP-SECRET-BYTES")
    link = root / "images" / "train" / "img_003.jpg"
    link.unlink()
    link.symlink_to(secret)
    result = cli("pack", root, "-o", tmp_path / "out.zip")
    assert result.code == 2, result
    assert result.err == (
        f"poselint: pack: {link}: symlink to a file outside the dataset root and its DVC "
        "cache: not packed\n"
    )
    assert not (tmp_path / "out.zip").exists()


def test_pack_refuses_an_annotation_file_linked_out_of_the_root(make_dataset, cli, tmp_path):
    root = make_dataset()
    ann = root / "annotations" / "person_keypoints_val.json"
    outside = tmp_path / "outside.json"
    ann.rename(outside)
    ann.symlink_to(outside)
    result = cli("pack", root, "-o", tmp_path / "out.zip")
    assert result.code == 2, result
    assert f"{ann}: it is a symlink to a file outside the dataset root or the DVC cache" in (
        result.err
    )
    assert not (tmp_path / "out.zip").exists()


def test_pack_follows_links_into_the_dvc_cache(tmp_path, cli):
    """DVC's symlink cache type: every image a link into <repo>/.dvc/cache; packed as the
    object's bytes."""
    from builders import build_dataset

    repo = tmp_path / "repo"
    root = build_dataset(repo / "data" / "pose")
    image = root / "images" / "train" / "img_001.jpg"
    obj = repo / ".dvc" / "cache" / "files" / "md5" / "ab" / ("0" * 30)
    obj.parent.mkdir(parents=True)
    image.rename(obj)
    image.symlink_to(obj)
    assert cli("pack", root, "-o", tmp_path / "out.zip").code == 0
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert zf.read("images/train/img_001.jpg") == obj.read_bytes()
