"""The adversarial corpus: one test per hostile input. Each must give a clear diagnostic,
or pass cleanly, and never a traceback, a hang, or an internal error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hostile import check_invariants

from builders import clean_docs, image, person, write_image

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
