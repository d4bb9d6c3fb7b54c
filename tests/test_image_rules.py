"""PL5xx: image references against real files, symlinks, FIFOs and broken images on disk."""

from __future__ import annotations

import json
import os
import signal
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from builders import clean_docs, coco, image, person, write_image
from conftest import codes_for
from poselint.load.imageheader import read_header
from poselint.load.imageindex import scan_images

KP4 = [10, 12, 2, 20, 10, 1, 30, 20, 2, 25, 15, 2]


@pytest.fixture(autouse=True)
def never_hang() -> Iterator[None]:
    """A rule that opened a FIFO would block forever: fail the test instead."""
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("hung (FIFO opened?)"))
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _train(names: list[str], sizes: dict[str, tuple[int, int]] | None = None) -> dict:
    docs = clean_docs()
    sizes = sizes or {}
    images = [image(i + 1, n, *sizes.get(n, (64, 48))) for i, n in enumerate(names)]
    docs["train"] = coco(images, [person(1, 1, KP4)])
    return docs


def _write_other_images(root: Path) -> None:
    """The images of clean_docs() that a test built with images=False still needs."""
    write_image(root / "images" / "train" / "img_001.jpg", 64, 48)
    write_image(root / "images" / "val" / "frame_000007.PNG", 64, 48)


def _findings(cli: Any, root: Path, code: str, *extra: object) -> list[dict[str, Any]]:
    result = cli("check", root, "--format", "json", *extra)
    assert result.code in (0, 1), result
    assert "PL000" not in result.codes(), result
    return [d for d in result.json() if d["code"] == code]


def _one(cli: Any, root: Path, code: str, *extra: object) -> dict[str, Any]:
    found = _findings(cli, root, code, *extra)
    assert len(found) == 1, found
    return found[0]


def test_clean_dataset_has_no_image_findings(make_dataset, cli):
    root = make_dataset()
    assert not {c for c in codes_for(cli, root) if c.startswith("PL5")}


# --- PL501 image-missing ----------------------------------------------------------------------


def test_pl501_missing_file(make_dataset, cli):
    root = make_dataset(_train(["img_001.jpg", "img_002.jpg"]))
    (root / "images" / "train" / "img_002.jpg").unlink()
    d = _one(cli, root, "PL501")
    assert d["pointer"] == "/images/1/file_name" and "not found" in str(d["message"])
    assert Path(str(d["path"])).name == "person_keypoints_train.json"


def test_pl501_case_mismatch_suggests_the_real_name(make_dataset, cli):
    root = make_dataset(_train(["img_001.jpg", "IMG_002.JPG"]))
    folder = root / "images" / "train"
    (folder / "IMG_002.JPG").rename(folder / "img_002.jpg")
    d = _one(cli, root, "PL501")
    assert d["pointer"] == "/images/1/file_name"
    assert "did you mean 'img_002.jpg'" in str(d["message"])


def test_pl501_case_mismatch_in_a_folder_name(make_dataset, cli):
    root = make_dataset(_train(["img_001.jpg", "Nested/img_002.jpg"]))
    folder = root / "images" / "train"
    (folder / "Nested").rename(folder / "nested")
    assert "did you mean 'nested/img_002.jpg'" in str(_one(cli, root, "PL501")["message"])


def test_pl501_nfc_name_against_nfd_file(make_dataset, cli):
    nfc = unicodedata.normalize("NFC", "caf\u00e9.jpg")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    root = make_dataset(_train(["img_001.jpg", nfc]))
    folder = root / "images" / "train"
    (folder / nfc).rename(folder / nfd)  # as a copy from a macOS (HFS+) disk leaves it
    d = _one(cli, root, "PL501")
    assert "Unicode NFD" in str(d["message"]) and d["pointer"] == "/images/1/file_name"
    assert _findings(cli, root, "PL505")  # and the NFD file itself is unreferenced


def test_pl501_dangling_symlink_counts_as_missing(make_dataset, cli):
    root = make_dataset(_train(["img_001.jpg", "img_002.jpg"]))
    link = root / "images" / "train" / "img_002.jpg"
    link.unlink()
    link.symlink_to(root / "images" / "train" / "gone.jpg")
    d = _one(cli, root, "PL501")
    assert "dangling symlink" in str(d["message"])
    assert scan_images(link.parent).files["img_002.jpg"].kind == "dangling"


def test_pl501_fifo_named_like_an_image_is_never_opened(make_dataset, cli):
    root = make_dataset(_train(["img_001.jpg", "img_002.jpg"]))
    fifo = root / "images" / "train" / "img_002.jpg"
    fifo.unlink()
    os.mkfifo(fifo)
    d = _one(cli, root, "PL501")  # the autouse alarm fails the test if a read blocks
    assert "not a regular file" in str(d["message"])
    assert _findings(cli, root, "PL503") == []
    assert read_header(fifo).problem == "not a regular file"  # non-blocking open, then fstat


def test_symlink_loop_in_the_image_folder_terminates(make_dataset, cli):
    root = make_dataset(_train(["img_001.jpg", "loop/img_001.jpg"]))
    folder = root / "images" / "train"
    (folder / "loop" / "img_001.jpg").unlink()
    (folder / "loop").rmdir()
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    index = scan_images(folder)
    assert "loop" in index.notes and "img_001.jpg" in index.files
    d = _one(cli, root, "PL501")
    assert d["pointer"] == "/images/1/file_name" and "symlink loop" in str(d["message"])


def test_self_referencing_file_symlink_is_dangling(make_dataset, cli):
    root = make_dataset(_train(["img_001.jpg", "img_002.jpg"]))
    link = root / "images" / "train" / "img_002.jpg"
    link.unlink()
    link.symlink_to(link.name)
    assert "dangling" in str(_one(cli, root, "PL501")["message"])


def test_symlinked_images_into_a_dvc_cache_outside_the_root_are_followed(tmp_path, cli):
    """DVC's symlink cache type: every image is a link into <repo>/.dvc/cache."""
    from builders import build_dataset

    repo = tmp_path / "repo"
    root = build_dataset(repo / "data" / "pose", _train(["img_001.jpg", "img_003.jpg"]))
    cache = repo / ".dvc" / "cache" / "files" / "md5"
    for i, name in enumerate(["img_001.jpg", "img_003.jpg"]):
        obj = cache / f"a{i}" / ("0123456789abcdef0123456789abc" + str(i))
        obj.parent.mkdir(parents=True)
        (root / "images" / "train" / name).rename(obj)
        (root / "images" / "train" / name).symlink_to(obj)
    obj.chmod(0o444)  # DVC makes cache objects read-only
    result = cli("check", root, "--format", "json")
    assert not {c for c in result.codes() if c.startswith("PL5")}, result
    # and the header really is read through the link: a wrong size is caught
    Image.new("RGB", (10, 10)).save(cache / "a0" / "0123456789abcdef0123456789abc0", "JPEG")
    assert _one(cli, root, "PL504")["pointer"] == "/images/0/width"


def test_symlink_to_a_file_outside_the_root_is_not_read(tmp_path, make_dataset, cli):
    root = make_dataset(_train(["img_001.jpg", "img_002.jpg"]))
    secret = tmp_path / "secret.jpg"
    write_image(secret, 64, 48)
    link = root / "images" / "train" / "img_002.jpg"
    link.unlink()
    link.symlink_to(secret)
    d = _one(cli, root, "PL501")
    assert "outside the dataset root" in str(d["message"])


def test_symlinked_folder_inside_the_root_is_followed(make_dataset, cli):
    root = make_dataset(_train(["img_001.jpg", "real/img_002.jpg", "alias/img_002.jpg"]))
    folder = root / "images" / "train"
    (folder / "alias" / "img_002.jpg").unlink()
    (folder / "alias").rmdir()
    (folder / "alias").symlink_to("real", target_is_directory=True)
    result = cli("check", root, "--format", "json")
    assert not {c for c in result.codes() if c.startswith("PL5")}, result


def test_hardlinked_images_are_plain_files(make_dataset, cli):
    root = make_dataset(_train(["img_001.jpg", "img_002.jpg"]))
    folder = root / "images" / "train"
    (folder / "img_002.jpg").unlink()
    os.link(folder / "img_001.jpg", folder / "img_002.jpg")
    assert not {c for c in codes_for(cli, root) if c.startswith("PL5")}


# --- PL502 unsafe-file-name -------------------------------------------------------------------

UNSAFE = {
    "": "is empty",
    "/etc/passwd": "absolute path",
    "C:/frames/img.jpg": "absolute path",
    "frames\\img_001.jpg": "backslash",
    "../val/frame_000007.PNG": "'..'",
    "a/../../img_001.jpg": "'..'",
    "img\x00.jpg": "U+0000",
    "img\n.jpg": "U+000A",
    ".": "split folder itself",
    # issue 11.16: names normpath() makes look fine that open() cannot open
    "img_001.jpg/": "names a folder, not a file",
    "img_001.jpg/.": "names a folder, not a file",
    "nope/../img_001.jpg": "uses '..': a loader resolves it through the folders on disk",
    "nested/../img_001.jpg": "uses '..': a loader resolves it through the folders on disk",
}


@pytest.mark.parametrize(("name", "why"), UNSAFE.items())
def test_pl502_unsafe_file_name(make_dataset, cli, name, why):
    docs = _train(["img_001.jpg"])
    docs["train"]["images"].append(image(2, name))
    root = make_dataset(docs, images=False)
    _write_other_images(root)
    d = _one(cli, root, "PL502")
    assert d["pointer"] == "/images/1/file_name" and why in str(d["message"])
    assert _findings(cli, root, "PL501") == []  # never looked up, let alone read


def test_pl502_escaping_name_is_not_read_even_when_the_target_exists(make_dataset, cli):
    docs = _train(["img_001.jpg", "../../outside.jpg"])
    root = make_dataset(docs, images=False)
    _write_other_images(root)
    (root / "outside.jpg").write_bytes(b"")  # would be PL503 (zero bytes) if it were read
    codes = codes_for(cli, root)
    assert "PL502" in codes and not {"PL501", "PL503", "PL504"} & codes


@pytest.mark.parametrize("name", ["./img_001.jpg", "nested/./img_002.png", "nested//img_002.png"])
def test_pl502_relative_names_that_stay_inside_are_safe(make_dataset, cli, name):
    docs = clean_docs()
    docs["train"]["images"][0]["file_name"] = name
    root = make_dataset(docs, images=False)
    _write_other_images(root)
    write_image(root / "images" / "train" / "nested" / "img_002.png", 64, 48)
    write_image(root / "images" / "train" / "nested" / "dir" / "img_002.png", 80, 60)
    write_image(root / "images" / "train" / "img_003.jpg", 64, 48)
    write_image(root / "images" / "val" / "frame_000007.PNG", 64, 48)
    assert not {"PL501", "PL502", "PL503", "PL504"} & codes_for(cli, root)


# --- PL503 image-unreadable -------------------------------------------------------------------


def _broken(root: Path, name: str = "img_001.jpg") -> Path:
    return root / "images" / "train" / name


def test_pl503_zero_byte_image(make_dataset, cli):
    root = make_dataset()
    _broken(root).write_bytes(b"")
    d = _one(cli, root, "PL503")
    assert d["pointer"] == "/images/0/file_name" and "0 bytes" in str(d["message"])


def test_pl503_truncated_jpeg(make_dataset, cli):
    root = make_dataset()
    data = _broken(root).read_bytes()
    _broken(root).write_bytes(data[: len(data) - 40])  # a copy cut short
    assert "no end-of-image marker" in str(_one(cli, root, "PL503")["message"])


def test_pl503_jpeg_cut_inside_its_header(make_dataset, cli):
    root = make_dataset()
    _broken(root).write_bytes(_broken(root).read_bytes()[:100])
    assert "truncated JPEG" in str(_one(cli, root, "PL503")["message"])


def test_pl503_truncated_png(make_dataset, cli):
    root = make_dataset()
    png = _broken(root, "nested/dir/img_002.png")
    png.write_bytes(png.read_bytes()[:-12])
    d = _one(cli, root, "PL503")
    assert d["pointer"] == "/images/1/file_name" and "IEND" in str(d["message"])


def test_pl503_not_an_image(make_dataset, cli):
    root = make_dataset()
    _broken(root).write_text("<html>404 Not Found</html>")
    assert "not an image" in str(_one(cli, root, "PL503")["message"])


def test_pl503_jpeg_with_bytes_after_the_end_marker_is_fine(make_dataset, cli):
    root = make_dataset()
    _broken(root).write_bytes(_broken(root).read_bytes() + b"\0" * 64)  # camera padding
    assert _findings(cli, root, "PL503") == []


def test_pl503_other_formats_go_through_pillow(make_dataset, cli):
    root = make_dataset(_train(["img_001.gif", "img_002.webp", "img_003.bmp"]))
    for name in ("img_001.gif", "img_002.webp", "img_003.bmp"):
        Image.new("RGB", (64, 48)).save(root / "images" / "train" / name)
    assert _findings(cli, root, "PL503") == [] and _findings(cli, root, "PL504") == []
    Image.new("RGB", (65, 48)).save(root / "images" / "train" / "img_002.webp")
    assert _one(cli, root, "PL504")["pointer"] == "/images/1/width"


def test_no_image_size_skips_header_reads(make_dataset, cli, tmp_path):
    root = make_dataset()
    _broken(root).write_bytes(b"")
    Image.new("RGB", (10, 10)).save(_broken(root, "img_003.jpg"), "JPEG")
    assert {"PL503", "PL504"} <= codes_for(cli, root)
    assert not {"PL503", "PL504"} & codes_for(cli, root, "--no-image-size")
    config = tmp_path / "poselint.toml"
    config.write_text("image_size = false\n")
    assert not {"PL503", "PL504"} & codes_for(cli, root, "--config", config)


# --- PL504 image-size-mismatch ----------------------------------------------------------------


def test_pl504_header_size_differs(make_dataset, cli):
    root = make_dataset()
    Image.new("RGB", (64, 50), (1, 2, 3)).save(_broken(root), "JPEG")
    d = _one(cli, root, "PL504")
    assert d["pointer"] == "/images/0/height" and "64x50" in str(d["message"])


def test_pl504_swapped_width_and_height(make_dataset, cli):
    root = make_dataset()
    Image.new("RGB", (48, 64)).save(_broken(root), "JPEG")
    assert _one(cli, root, "PL504")["pointer"] == "/images/0/width"


def test_pl504_large_jpeg_with_big_exif_block(make_dataset, cli):
    """The frame header sits after 60 KB of EXIF: beyond the first read."""
    root = make_dataset(_train(["img_001.jpg"], {"img_001.jpg": (640, 480)}))
    noise = Image.effect_noise((640, 480), 40).convert("RGB")
    noise.save(_broken(root), "JPEG", exif=b"Exif\0\0" + b"\0" * 60_000)
    assert _findings(cli, root, "PL504") == [] and _findings(cli, root, "PL503") == []
    noise.resize((600, 480)).save(_broken(root), "JPEG", exif=b"Exif\0\0" + b"\0" * 60_000)
    assert "600x480" in str(_one(cli, root, "PL504")["message"])


# --- PL505 orphan-image -----------------------------------------------------------------------


def test_pl505_orphan_file_is_a_warning(make_dataset, cli):
    root = make_dataset()
    write_image(root / "images" / "train" / "extra" / "unused.jpg", 8, 8)
    d = _one(cli, root, "PL505")
    assert d["severity"] == "warning" and d.get("pointer") is None
    assert str(d["path"]).endswith("images/train/extra/unused.jpg")
    assert cli("check", root, "--format", "json").code == 0


def test_pl505_a_file_of_another_split_is_still_an_orphan_here(make_dataset, cli):
    root = make_dataset()
    write_image(root / "images" / "val" / "img_001.jpg", 64, 48)  # train's name, val's folder
    d = _one(cli, root, "PL505")
    assert str(d["path"]).endswith("images/val/img_001.jpg")


def test_pl505_not_reported_when_the_images_array_is_broken(make_dataset, cli):
    docs = clean_docs()
    root = make_dataset(docs)
    docs["train"]["images"] = {"not": "a list"}
    (root / "annotations" / "person_keypoints_train.json").write_text(json.dumps(docs["train"]))
    assert "PL505" not in codes_for(cli, root)


def test_chained_and_relative_symlinks_resolve(make_dataset, cli):
    root = make_dataset(_train(["img_001.jpg", "img_002.jpg", "sub/img_003.jpg"]))
    folder = root / "images" / "train"
    (folder / "img_002.jpg").unlink()
    (folder / "hop.jpg").symlink_to("img_001.jpg")  # relative
    (folder / "img_002.jpg").symlink_to(folder / "hop.jpg")  # a link to a link
    (folder / "sub" / "img_003.jpg").unlink()
    (folder / "sub" / "img_003.jpg").symlink_to("../img_001.jpg")
    index = scan_images(folder)
    assert {index.files[k].kind for k in ("img_002.jpg", "hop.jpg", "sub/img_003.jpg")} == {"file"}
    codes = codes_for(cli, root)
    assert not {"PL501", "PL503", "PL504"} & codes and "PL505" in codes  # hop.jpg is unnamed


def test_pl503_data_appended_after_the_jpeg_is_not_a_truncation(make_dataset, cli):
    """Phones append trailers (Samsung) or a whole video (Motion Photo) after FF D9."""
    root = make_dataset(_train(["img_001.jpg"], {"img_001.jpg": (320, 240)}))
    jpeg = _broken(root)
    Image.effect_noise((320, 240), 60).convert("RGB").save(jpeg, "JPEG", quality=90)
    original = jpeg.read_bytes()
    jpeg.write_bytes(original + os.urandom(64 * 1024))
    assert _findings(cli, root, "PL503") == []
    for cut in (100, 1000, 5000, len(original) // 2):  # and a cut-short copy still is one
        jpeg.write_bytes(original[: len(original) - cut])
        assert "truncated JPEG" in str(_one(cli, root, "PL503")["message"]), cut


@pytest.mark.parametrize(("orientation", "stated", "reported"), [
    (6, (48, 64), False),  # labelled in the displayed (rotated) frame, as CVAT shows it
    (6, (64, 48), False),  # labelled in the stored frame, as PIL.Image.open gives it
    (6, (50, 64), True),
    (3, (48, 64), True),  # a 180 degree turn does not swap width and height
])  # fmt: skip
def test_pl504_exif_rotated_jpeg(make_dataset, cli, orientation, stated, reported):
    root = make_dataset(_train(["img_001.jpg"], {"img_001.jpg": stated}))
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.new("RGB", (64, 48)).save(_broken(root), "JPEG", exif=exif)
    found = _findings(cli, root, "PL504")
    assert bool(found) == reported
    if found and orientation == 6:
        assert "EXIF orientation 6: displayed as 48x64" in str(found[0]["message"])


def test_exif_orientation_big_endian():
    from poselint.load.imageheader import _exif_orientation

    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01" + b"\x01\x12\x00\x03\x00\x00\x00\x01"
    assert _exif_orientation(b"Exif\0\0" + tiff + b"\x00\x08\x00\x00") == 8
    assert _exif_orientation(b"Exif\0\0" + tiff[:10]) == 1  # cut short: unknown, not a crash
    assert _exif_orientation(b"Exif\0\0II\x2a\x00\xff\xff\xff\xff") == 1


def test_pl505_file_name_that_is_not_utf8(make_dataset, cli):
    root = make_dataset()
    folder = os.fsencode(root / "images" / "train")
    with open(os.path.join(folder, b"bad\xff.jpg"), "wb") as f:
        f.write(b"x")
    d = _one(cli, root, "PL505")  # json output: must not crash on the undecodable name
    assert str(d["path"]).endswith("bad\\xff.jpg") and "not valid UTF-8" in str(d["message"])


def test_threaded_header_reads_keep_the_order(tmp_path, monkeypatch):
    """On a slow disk the reads go to a thread pool; results must still line up with paths."""
    from poselint.load import imageheader

    paths = []
    for i in range(300):
        paths.append(tmp_path / f"{i}.jpg")
        write_image(paths[-1], 10 + i % 7, 20 + i % 5)
    serial = imageheader.read_headers(paths)
    monkeypatch.setattr(imageheader, "_SLOW_FILE_SECONDS", 0.0)
    monkeypatch.setattr(imageheader, "_PROBE", 16)
    threaded = imageheader.read_headers(paths)
    assert threaded == serial
    assert [h.size for h in threaded[:7]] == [(10 + i, 20 + i % 5) for i in range(7)]


def test_header_reads_in_threads_equal_the_single_thread_reference(tmp_path):
    """Every kind of file, read in slices by several threads, gives what one thread reads,
    in the order of the paths."""
    from poselint.load import imageheader

    paths: list[Path] = []
    for i in range(800):
        path = tmp_path / f"{i:04d}{'.png' if i % 3 == 0 else '.jpg'}"
        write_image(path, 10 + i % 7, 20 + i % 5)
        if i % 11 == 0:  # cut short: the truncation check must see the same bytes
            path.write_bytes(path.read_bytes()[:-40])
        elif i % 13 == 0:
            path.write_bytes(b"")
        elif i % 17 == 0:
            path.unlink()
            path.mkdir()
        elif i % 19 == 0:
            path.unlink()
            os.mkfifo(path)
        elif i % 23 == 0:
            path.unlink()
            path.symlink_to(tmp_path / "missing.jpg")
        paths.append(path)
    reference = imageheader.read_headers_serial(paths)
    assert len({h.problem for h in reference}) >= 6  # the mix above is really there
    assert imageheader.read_headers(paths) == reference
    for threads in (2, 5):
        assert imageheader.read_headers(paths, threads=threads) == reference, threads
    assert imageheader.read_headers([str(p) for p in paths], threads=3) == reference


def test_pl501_folder_named_like_an_image(make_dataset, cli):
    root = make_dataset()
    target = root / "images" / "train" / "img_001.jpg"
    target.unlink()
    write_image(target / "inside.jpg", 8, 8)
    d = _one(cli, root, "PL501")
    assert "a folder, not an image file" in str(d["message"])
