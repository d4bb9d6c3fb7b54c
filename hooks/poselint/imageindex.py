"""What files a split's image folder holds: one walk of the disk, or DVC's manifest.

Image-reference rules compare `images[].file_name` against this index instead of asking
the filesystem per name, so Linux and case-insensitive macOS agree (exact-case match) and
each folder is listed once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

FileKind = Literal["file", "dangling", "other"]  # other: FIFO, device, socket, loop


@dataclass(frozen=True, slots=True)
class FileInfo:
    kind: FileKind
    size: int | None = None
    md5: str | None = None  # known without reading when the index comes from DVC


@dataclass
class ImageIndex:
    folder: Path
    files: dict[str, FileInfo] = field(default_factory=dict)  # posix path under the folder
    source: Literal["disk", "dvc"] = "disk"


def scan_images(folder: Path) -> ImageIndex:
    """Placeholder: the image-reference work (issue 3) fills in the walk."""
    return ImageIndex(folder)
