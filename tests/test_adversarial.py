"""The adversarial corpus: one test per hostile input. Each must give a clear diagnostic,
or pass cleanly, and never a traceback, a hang, or an internal error."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hostile import check_invariants

from builders import clean_docs, image, person, write_image
from poselint.load.filenames import unsafe_reason

ANNOTATION = Path("annotations") / "person_keypoints_train.json"


def _codes(records: list[dict[str, object]]) -> set[str]:
    return {str(r["code"]) for r in records}


def _messages(records: list[dict[str, object]], code: str) -> list[str]:
    return [str(r["message"]) for r in records if r["code"] == code]


def _write(root: Path, data: bytes) -> None:
    (root / ANNOTATION).write_bytes(data)


def _valid_bytes() -> bytes:
    return json.dumps(clean_docs()["train"]).encode()


def test_utf8_bom(make_dataset):
    root = make_dataset()
    _write(root, b"\xef\xbb\xbf" + _valid_bytes())
    assert "PL302" in _codes(check_invariants(root))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_files(make_dataset, encoding):
    root = make_dataset()
    _write(root, _valid_bytes().decode().encode(encoding))
    records = check_invariants(root)
    [message] = _messages(records, "PL303")
    assert encoding[:6].upper() + " encoded" in message


def test_invalid_utf8(make_dataset):
    root = make_dataset()
    _write(root, _valid_bytes().replace(b'"person"', b'"pers\xc3\x28on"'))
    assert "PL303" in _codes(check_invariants(root))


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400"])
def test_non_finite_numbers(make_dataset, literal):
    root = make_dataset()
    _write(root, _valid_bytes().replace(b'"area": ', b'"area": ' + literal + b', "x": ', 1))
    assert "PL303" in _codes(check_invariants(root))


def test_integers_beyond_2_to_the_64(make_dataset):
    root = make_dataset()
    doc = clean_docs()["train"]
    doc["images"][0]["id"] = 2**70
    doc["annotations"][0]["keypoints"][0] = 2**65
    _write(root, json.dumps(doc).encode())
    codes = _codes(check_invariants(root))
    assert "PL404" in codes  # the annotation's image_id no longer resolves


def test_duplicate_keys(make_dataset):
    root = make_dataset()
    _write(root, b'{"images": [], "annotations": [], "annotations": [], "categories": []}')
    assert ("/", "annotations") != ()
    records = check_invariants(root)
    assert any(r["code"] == "PL305" and r["pointer"] == "" for r in records)


def test_deep_nesting(make_dataset):
    root = make_dataset()
    _write(root, b'{"info": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert any("nesting deeper" in m for m in _messages(check_invariants(root), "PL303"))


@pytest.mark.parametrize("data", [b"{", b"0", b" ", b"\x00"])
def test_one_byte_file(make_dataset, data):
    root = make_dataset()
    _write(root, data)
    assert _codes(check_invariants(root)) & {"PL303", "PL304"}


@pytest.mark.parametrize(
    "file_name", ["a\x00b.jpg", "tab\there.jpg", "bell\x07.jpg", "x" * 10_000 + ".jpg"]
)
def test_hostile_file_names(make_dataset, file_name):
    root = make_dataset()
    doc = clean_docs()["train"]
    doc["images"][0]["file_name"] = file_name
    _write(root, json.dumps(doc).encode())
    check_invariants(root)


def test_nfc_vs_nfd_file_names(make_dataset):
    nfc = unicodedata.normalize("NFC", "café.jpg")
    nfd = unicodedata.normalize("NFD", "café.jpg")
    docs = clean_docs()
    docs["train"]["images"][0]["file_name"] = nfd
    root = make_dataset(docs, images=False)
    write_image(root / "images" / "train" / nfc, 64, 48)  # on disk: NFC; in the JSON: NFD
    for other in docs["train"]["images"][1:]:
        write_image(root / "images" / "train" / other["file_name"], other["width"], other["height"])
    for img in docs["val"]["images"]:
        write_image(root / "images" / "val" / img["file_name"], img["width"], img["height"])
    check_invariants(root)


def _run_with_timeout(root: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "poselint", "check", str(root), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    assert "PL000" not in proc.stdout
    return proc


def test_symlink_loops_do_not_hang(make_dataset):
    root = make_dataset()
    os.symlink(".", root / "images" / "train" / "loop")
    os.symlink("../train", root / "images" / "train" / "nested" / "up")
    os.symlink("self", root / "images" / "train" / "self")
    _run_with_timeout(root)


def test_fifo_named_like_an_image_does_not_hang(make_dataset):
    root = make_dataset()
    target = root / "images" / "train" / "img_001.jpg"
    target.unlink()
    os.mkfifo(target)
    os.mkfifo(root / "images" / "train" / "orphan_fifo.jpg")
    _run_with_timeout(root)


def test_device_named_like_an_image(make_dataset):
    root = make_dataset()
    target = root / "images" / "train" / "img_001.jpg"
    target.unlink()
    try:
        os.symlink("/dev/zero", target)
    except OSError:  # pragma: no cover
        pytest.skip("cannot create the link")
    _run_with_timeout(root)


def test_directory_named_like_the_annotation_file(make_dataset):
    root = make_dataset()
    (root / ANNOTATION).unlink()
    (root / ANNOTATION).mkdir()
    assert "PL301" in _codes(check_invariants(root))


def test_directory_named_like_an_image(make_dataset):
    root = make_dataset()
    target = root / "images" / "train" / "img_001.jpg"
    target.unlink()
    target.mkdir()
    check_invariants(root)


def _as_nobody() -> list[str] | None:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if setpriv else None


def test_unreadable_annotation_file_permission_denied(tmp_path):
    prefix = _as_nobody()
    if prefix is None:  # pragma: no cover
        pytest.skip("needs setpriv to drop root's read-anything privilege")
    # A world-traversable folder, so the unprivileged process can reach the dataset.
    base = Path(tempfile.mkdtemp(prefix="poselint-perm-"))
    try:
        base.chmod(0o755)
        from builders import build_dataset

        root = build_dataset(base / "ds")
        for path in [base, *base.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (root / ANNOTATION).chmod(0)
        (root / "images" / "train" / "img_001.jpg").chmod(0)
        proc = subprocess.run(
            [*prefix, sys.executable, "-m", "poselint", "check", str(root), "--format", "json"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=base,
        )
        assert proc.returncode == 1, proc.stderr
        records = json.loads(proc.stdout)
        assert any(r["code"] == "PL301" and "Permission denied" in r["message"] for r in records)
        assert "PL000" not in _codes(records)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_sparse_2gb_annotation_file_is_refused_not_loaded(make_dataset):
    root = make_dataset()
    with open(root / ANNOTATION, "wb") as f:
        f.truncate(2 * 1024**3 + 1)  # sparse: costs no disk
    [message] = _messages(check_invariants(root), "PL301")
    assert "max_annotation_bytes" in message


def test_many_problems_in_one_file_still_every_one_reported(make_dataset):
    docs = clean_docs()
    docs["train"]["images"] = [image(i, f"img_{i}.jpg") for i in range(1, 301)]
    docs["train"]["annotations"] = [
        person(i, i, [1, 1, 2, 2, 2, 7, 0, 0, 0, 3, 3, 2]) for i in range(1, 301)
    ]
    root = make_dataset(docs, images=False)
    check_invariants(root, "--no-image-size")


def test_nesting_just_under_orjsons_bound(make_dataset):
    # orjson accepts 1024 levels; the stdlib parse behind PL305 recurses less deep.
    root = make_dataset()
    doc = clean_docs()["train"]
    text = json.dumps(doc).replace('"occluded": false', '"occluded": ' + "[" * 1015 + "]" * 1015, 1)
    _write(root, text.encode())
    check_invariants(root)


# --- file names in every report format -----------------------------------------------------


def test_newline_in_a_file_name_cannot_forge_a_line_of_text_output(make_dataset, cli):
    """A name holding `\\n::error ...` would print a workflow command of its own in CI logs."""
    root = make_dataset()
    (root / "images" / "train" / "a\n::error file=README.md::x.jpg").write_bytes(b"")
    (root / "notes\r\x1b[2Kok.txt").write_text("")
    result = cli("check", root, cwd=root)
    assert result.code == 1, result  # PL101 for the stray file
    assert not [line for line in result.out.splitlines() if line.startswith("::")], result.out
    lines = result.out.splitlines()
    assert "images/train/a\\n::error file=README.md::x.jpg: PL505 (warning) " in "\n".join(lines)
    assert any(line.startswith("notes\\r\\x1b[2Kok.txt: PL101 ") for line in lines), lines
    assert all(ch.isprintable() for line in lines for ch in line), lines


def test_bidi_and_format_characters_are_unsafe_and_never_printed_raw(make_dataset, cli):
    """'x<U+202E>gpj.exe' displays as 'xexe.jpg' and redraws the rest of the line backwards
    (Trojan Source): as a file_name it is PL502, and text and github output escape it, as they
    escape a carriage return that would overwrite the line."""
    docs = clean_docs()
    docs["val"]["images"][0]["file_name"] = "b\u202egpj.exe"
    root = make_dataset(docs, images=False)
    for name in ("x\u202egpj.exe", "y\u2066z\u200b.jpg", "w.jpg\rAll checks passed!"):
        (root / "images" / "train" / name).write_bytes(b"")
    text = cli("check", root, "--no-image-size", cwd=root).out
    github = cli("check", root, "--no-image-size", "--format", "github", cwd=root).out
    for out in (text, github):
        assert not [ch for ch in out if ch != "\n" and not ch.isprintable()], out
        assert "\\u202e" in out and "\\u2066z\\u200b" in out and "w.jpg\\rAll" in out, out
    assert re.search(
        r"annotations/person_keypoints_val\.json:\d+:\d+: PL502 file_name "
        r"'b\\u202egpj\.exe' contains the invisible format character U\+202E \(a bidi control "
        r"or zero-width character\): the name displays as another one "
        r"\(at /images/0/file_name\)\n",
        text,
    ), text
    assert "PL505 (warning) no images[].file_name" in text
    html = root.parent / "report.html"
    result = cli("check", root, "--no-image-size", "--format", "html", "--output", html, "-q")
    assert result.code == 1, result
    page = html.read_text(encoding="utf-8")
    assert "b\\u202egpj.exe" in page and "\u202e" not in page and "\u2066" not in page
    # Zero-width joiners spell words and emoji: a name may hold them.
    assert unsafe_reason("\u0645\u06cc\u200c\u062e\u0648\u0627\u0645.jpg") is None
    assert "U+00AD" in (unsafe_reason("a\u00adb.jpg") or "")
    assert "U+0085" in (unsafe_reason("a\x85b.jpg") or "")


def _non_utf8_dataset(make_dataset, where: str) -> tuple[Path, str]:
    """A dataset with one file name holding byte 0xff; returns (root, the name as shown)."""
    if where == "root name":  # a clean dataset under such a path
        return make_dataset(name=os.fsdecode(b"pose\xff")), "pose\\xff"
    root = make_dataset()
    if where == "split name":  # a parsed annotation file: its split is counted in --stats
        name = b"person_keypoints_v\xffl.json"
        val = root / "annotations" / "person_keypoints_val.json"
        Path(os.fsdecode(os.fsencode(val.parent) + b"/" + name)).write_bytes(val.read_bytes())
        return root, "person_keypoints_v\\xffl.json"
    folder = {"root": root, "images/": root / "images", "annotations/": root / "annotations"}
    name = {"root": b"notes\xff.txt", "images/": b"tr\xffin", "annotations/": b"a\xff.json"}[where]
    Path(os.fsdecode(os.path.join(os.fsencode(folder[where]), name))).mkdir()
    return root, os.fsdecode(name).replace("\udcff", "\\xff")


@pytest.mark.parametrize("where", ["root name", "root", "images/", "annotations/", "split name"])
def test_non_utf8_file_names_in_every_format(make_dataset, cli, tmp_path, where):
    """Linux allows any byte but / and NUL in a name: every format shows it escaped (\\xff),
    the JSON stays JSON, --stats and the HTML report are written."""
    root, shown = _non_utf8_dataset(make_dataset, where)
    clean = where == "root name"
    for fmt in ("text", "github", "json"):
        result = cli("check", root, "--format", fmt, cwd=tmp_path)
        assert result.code == (0 if clean else 1) and result.err == "", result
        if fmt == "json":
            records = result.json()
            assert records == [] if clean else any(shown in str(r["path"]) for r in records)
        elif not clean:
            assert shown in result.out, result
    html = tmp_path / "report.html"
    result = cli("check", root, "--format", "html", "--output", html, "-q", cwd=tmp_path)
    assert result.code == (0 if clean else 1) and result.err == "", result
    assert shown in html.read_text(encoding="utf-8")
    stats = tmp_path / "stats.json"
    result = cli("check", root, "--metrics", stats, cwd=tmp_path)
    assert result.code == (0 if clean else 1) and result.err == "", result
    [(key, splits)] = json.loads(stats.read_text(encoding="utf-8")).items()
    assert key == "pose\\xff" if clean else key.startswith("ds")
    assert splits["train"]["images"] == 3
    if where == "split name":
        assert splits["v\\xffl"] == splits["val"]


# --- the test corpora ----------------------------------------------------------------------

DATA = Path(__file__).parent / "data"


SNAPSHOT = Path(__file__).parent / "snapshots" / "corpus_findings.json"


def _corpus_datasets(base: Path) -> dict[str, Path]:
    """Every dataset-shaped input in tests/data, by its path there: each folder holding
    annotations/, as it is, and each JSON file as the train annotation file of a dataset."""
    roots = {}
    for i, folder in enumerate(sorted(p.parent for p in DATA.rglob("annotations"))):
        roots[f"{folder.relative_to(DATA)}/"] = shutil.copytree(folder, base / f"root{i}")
    for i, file in enumerate(sorted(DATA.rglob("*.json"))):
        root = base / f"file{i}"
        (root / "images" / "train").mkdir(parents=True)
        (root / "annotations").mkdir()
        shutil.copyfile(file, root / ANNOTATION)
        roots[str(file.relative_to(DATA))] = root
    return roots


def _findings(records: list[dict[str, object]]) -> dict[str, int]:
    return dict(sorted(Counter(str(r["code"]) for r in records).items()))


def test_every_input_in_the_test_corpora_gets_exactly_its_recorded_findings(tmp_path, cli):
    """No input gives an internal error, and each gets the findings recorded in
    tests/snapshots/corpus_findings.json, before and after --fix: a rule change that moves
    any of them shows here (POSELINT_UPDATE_SNAPSHOT=1 rewrites the record; review its diff)."""
    roots = _corpus_datasets(tmp_path / "corpus")
    assert len(roots) >= 16
    seen: dict[str, object] = {}
    for name, root in roots.items():
        copy = shutil.copytree(root, tmp_path / "fixed" / root.name)
        runs = {}
        for label, argv in (
            ("check", [root]),
            ("json", [root, "--format", "json"]),
            ("fix", [copy, "--fix"]),
            ("after fix", [copy, "--format", "json"]),
        ):
            result = cli("check", *argv)
            assert result.code in (0, 1), (name, argv, result)
            text = result.out + result.err
            assert "internal error" not in text and "Traceback" not in text, (name, argv, result)
            assert "PL000" not in text, (name, argv, result)
            runs[label] = result
        seen[name] = {
            "exit": runs["json"].code,
            "findings": _findings(runs["json"].json()),
            "after --fix": _findings(runs["after fix"].json()),
        }
        assert runs["check"].code == runs["json"].code, name
    if os.environ.get("POSELINT_UPDATE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(seen, indent=1) + "\n", encoding="utf-8")
    assert seen == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


# --- links out of the dataset root (fsutil.Confinement) -----------------------------------

SECRET = '{"images": "TOP-SECRET-VALUE", "annotations": [], "categories": []}'


def test_annotation_file_linked_out_of_the_root_is_not_read(make_dataset, tmp_path):
    """Issue 11.6: the outside file was parsed and its values echoed (PL310)."""
    root = make_dataset()
    outside = tmp_path / "outside.json"
    outside.write_text(SECRET)
    (root / ANNOTATION).unlink()
    (root / ANNOTATION).symlink_to(outside)
    records = check_invariants(root)
    assert "TOP-SECRET-VALUE" not in json.dumps(records)
    assert _messages(records, "PL301") == [
        "cannot read the annotation file: it is a symlink to a file outside the dataset root "
        f"or the DVC cache ({os.path.realpath(outside)}): not followed"
    ]


def test_annotation_file_linked_inside_the_root_is_read(make_dataset):
    root = make_dataset()
    (root / ANNOTATION).rename(root / "annotations" / "real.json")
    (root / ANNOTATION).symlink_to("real.json")
    assert _codes(check_invariants(root)) == {"PL104"}  # real.json is a stray file, no more


def test_folders_linked_out_of_the_root_are_not_read_nor_fixed(make_dataset, tmp_path, cli):
    """Issue 11.6: with images/ and annotations/ links out of the root, --fix renamed the
    misspelt split inside the outside folders."""
    from test_fix import snapshot

    docs = clean_docs()
    outside = make_dataset({"Train": docs["train"], "val": docs["val"]}, name="outside")
    # named like a temp file of an interrupted write: a fix would clean it up in its own root
    (outside / "annotations" / ".person_keypoints_val.json.x1.tmp").write_text("{}")
    before = snapshot(outside)
    root = tmp_path / "linked"
    root.mkdir()
    for folder in ("images", "annotations"):
        (root / folder).symlink_to(outside / folder, target_is_directory=True)
    result = cli("check", root, "--fix", "--format", "json")
    assert snapshot(outside) == before, result
    assert result.code == 1, result
    assert "linked/images is a symlink out of the dataset root: nothing fixed" in result.err
    records = check_invariants(root)
    real = os.path.realpath(outside)
    assert _messages(records, "PL102") == [
        f"'{folder}/' in the dataset root: it is a symlink to a folder outside the dataset root "
        f"({real}/{folder}): not followed; move the folder itself into the root"
        for folder in ("images", "annotations")
    ]
    assert "PL201" not in _codes(records)  # nothing in the outside folders was looked at


def test_split_folder_linked_out_of_the_root_is_not_read(make_dataset, tmp_path):
    outside = make_dataset(name="outside")
    root = make_dataset()
    shutil.rmtree(root / "images" / "val")
    (root / "images" / "val").symlink_to(outside / "images" / "val", target_is_directory=True)
    records = check_invariants(root)
    real = os.path.realpath(outside / "images" / "val")
    assert _messages(records, "PL103") == [
        f"'val' in images/: it is a symlink to a folder outside the dataset root ({real}): "
        "not followed; move the split folder itself into images/"
    ]
    assert "PL106" in _codes(records)  # the split has no image folder inside the root
