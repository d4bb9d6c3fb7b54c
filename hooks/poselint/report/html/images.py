"""Which image file an annotation is drawn on, and that image decoded at reduced size (JPEG
draft mode). Only files the split's image index lists as regular files are opened."""

from __future__ import annotations

import io
import os
import posixpath
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image

from poselint.load.dataset import Split


def safe_image_path(images_dir: Path, file_name: object) -> Path | None:
    """images_dir/file_name, or None when the name could point elsewhere (PL502's business)."""
    if not isinstance(file_name, str) or not file_name or "\0" in file_name or "\\" in file_name:
        return None
    relative = PurePosixPath(file_name)
    if relative.is_absolute() or ".." in relative.parts:
        return None
    return images_dir / relative


def indexed_image_path(split: Split, file_name: object) -> Path | str:
    """The image to draw, or why not. Only files the split's image index lists as regular
    files are opened: the walk the PL5xx rules trust, which follows no link out of the dataset
    root but DVC's cache, and never opens a FIFO."""
    images_dir = split.files.images_dir
    path = safe_image_path(images_dir, file_name) if images_dir is not None else None
    if path is None or split.images is None or not isinstance(file_name, str):
        return "unsafe or missing file_name: image not read"
    key = posixpath.normpath(file_name)
    info = split.images.files.get(key)
    if info is not None and info.kind == "file":
        return path
    if info is not None and info.kind == "other":
        return "not a regular file: image not read"
    why = split.images.notes.get(key)
    return f"image not read: {why}" if why else "image file missing"


@dataclass
class Picture:
    pixels: Image.Image  # RGB, maybe decoded at 1/2..1/8 scale (JPEG draft)
    size: tuple[int, int]  # the image's real size, which annotation coordinates refer to


def open_picture(path: Path | None, scale: float) -> tuple[Picture | None, str]:
    """The image decoded at `scale` or a little more, or None and why not. Never raises."""
    if path is None:
        return None, "unsafe or missing file_name: image not read"
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the report
            return None, "not a regular file: image not read"
    except FileNotFoundError:
        return None, "image file missing"
    except OSError as exc:
        return None, f"image not readable ({type(exc).__name__})"
    return decode_picture(path, scale)


def decode_picture(source: Path | bytes, scale: float) -> tuple[Picture | None, str]:
    """An image file (or its bytes, read from a git or DVC revision) decoded at `scale` or a
    little more, or None and why not. Never raises."""
    try:
        with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as im:
            size = im.size
            scale = min(1.0, scale)
            # JPEG: decode at 1/2..1/8 in the decoder itself, far faster than full size.
            im.draft("RGB", (max(1, int(size[0] * scale)), max(1, int(size[1] * scale))))
            return Picture(im.convert("RGB"), size), ""
    except FileNotFoundError:
        return None, "image file missing"
    # Pillow raises many types on hostile files (OSError, SyntaxError, ValueError,
    # DecompressionBombError...): the report shows the pose without its picture instead.
    except Exception as exc:
        return None, f"image not readable ({type(exc).__name__})"


class LastPicture:
    """Consecutive flagged annotations often share an image: decode it once for them."""

    def __init__(self) -> None:
        self.key: tuple[Path, float] | None = None
        self.value: tuple[Picture | None, str] = (None, "")

    def get(self, path: Path | None, scale: float) -> tuple[Picture | None, str]:
        if path is None:
            return open_picture(None, scale)
        if self.key is None or self.key[0] != path or self.key[1] < scale:
            self.key, self.value = (path, scale), open_picture(path, scale)
        return self.value
