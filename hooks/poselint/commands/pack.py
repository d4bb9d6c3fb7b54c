"""`poselint pack ROOT -o FILE.zip [--split S ...]`: the zip CVAT's "import dataset" expects.

One split: `images/<file_name>` + `annotations/person_keypoints_default.json` (the layout of
section 1 of the CVAT guide). Several splits: one subset each, `images/<split>/<file_name>` +
`annotations/person_keypoints_<split>.json`, which CVAT imports as subsets. Files are stored
byte for byte (JSON included), so `poselint ingest` of the zip gives back the same dataset.
The zip is deterministic (sorted entries, fixed timestamps) and written atomically.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import stat
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from poselint.config import Config, load_config
from poselint.diagnostics import EXIT_CANNOT_RUN, EXIT_CLEAN, display_path
from poselint.discovery import DiscoveryError, discover
from poselint.fsutil import fsync_dir
from poselint.load.dataset import Dataset, Split
from poselint.load.layout import ANNOTATIONS, IMAGES
from poselint.load.splitnames import DEFAULT_SUBSET, annotation_file_name
from poselint.report.escape import printable

CHUNK = 1 << 20
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip epoch: the same data always packs the same bytes
ALREADY_COMPRESSED = {".jpg", ".jpeg", ".png", ".webp", ".gif"}  # deflate only wastes time


class PackError(Exception):
    """The zip cannot be built: exit 2 with this message, and no zip is written."""


@dataclass(frozen=True)
class Member:
    arcname: str
    source: Path


def _split_files(split: Split) -> list[tuple[str, Path]]:
    """(posix path under images/<split>/, file) for every file `check` lists: the same walk
    (Split.images), so symlinked folders inside the root are packed as check sees them and
    DVC cache links as their objects. Anything check would not read (a link out of the root,
    a dangling link, a FIFO, a folder it could not list) refuses the pack: a zip never holds
    bytes from outside the dataset, and never silently lacks a file."""
    index = split.images
    assert index is not None
    for rel, why in sorted(index.notes.items()):
        if rel not in index.files and not why.startswith("symlink loop"):
            # a loop only repeats files listed under their own path: nothing is lost
            raise PackError(f"{index.folder / rel}: {why}: not packed")
    out: list[tuple[str, Path]] = []
    for rel, info in sorted(index.files.items()):
        path = index.folder / rel
        if info.kind != "file":
            why = index.notes.get(rel) or (
                "a dangling symlink" if info.kind == "dangling" else "not a regular file"
            )
            raise PackError(f"{path}: {why}: not packed")
        out.append((rel, path))
    return out


def members(dataset: Dataset, splits: list[str]) -> list[Member]:
    by_name = {s.name: s for s in dataset.splits}
    chosen: list[Split] = []
    for name in splits:
        split = by_name.get(name)
        if split is None:
            known = ", ".join(sorted(by_name)) or "none"
            raise PackError(f"{dataset.root}: no split '{name}' (splits here: {known})")
        if split.files.annotation_file is None or split.files.images_dir is None:
            raise PackError(
                f"split '{name}' needs both images/{name}/ and annotations/"
                f"{annotation_file_name(name)}"
            )
        loaded = split.loaded
        if loaded is not None and loaded.read_error is not None:
            raise PackError(f"{split.files.annotation_file}: {loaded.read_error}: not packed")
        if loaded is None or loaded.document is None:
            raise PackError(
                f"{split.files.annotation_file}: not a JSON object; run `poselint check` first"
            )
        chosen.append(split)
    single = len(chosen) == 1
    out: list[Member] = []
    for split in chosen:
        assert split.files.annotation_file is not None
        subset = DEFAULT_SUBSET if single else split.name
        out.append(
            Member(f"{ANNOTATIONS}/{annotation_file_name(subset)}", split.files.annotation_file)
        )
        prefix = f"{IMAGES}/" if single else f"{IMAGES}/{split.name}/"
        out.extend(Member(prefix + rel, path) for rel, path in _split_files(split))
    return sorted(out, key=lambda m: m.arcname)


def write_zip(output: Path, entries: list[Member]) -> int:
    """Write the zip to a temp file beside `output`, fsync, then rename over it."""
    folder = output.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=folder)
    total = 0
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would keep the zip from teammates
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w") as zf:
                for member in entries:
                    info = zipfile.ZipInfo(member.arcname, date_time=FIXED_TIME)
                    info.external_attr = (stat.S_IFREG | 0o644) << 16
                    stored = member.source.suffix.lower() in ALREADY_COMPRESSED
                    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                    size = member.source.stat().st_size
                    with (
                        member.source.open("rb") as src,
                        zf.open(info, "w", force_zip64=size > zipfile.ZIP64_LIMIT) as dst,
                    ):
                        while chunk := src.read(CHUNK):
                            dst.write(chunk)
                    total += size
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)
    return total


def pack(root: Path, output: Path, splits: list[str] | None, config: Config) -> list[Member]:
    dataset = Dataset(root, config)
    if not dataset.exists:
        raise PackError(f"{root}: no such dataset root")
    names = splits or [s.name for s in dataset.splits if s.files.annotation_file is not None]
    if not names:
        raise PackError(f"{root}: no split with an annotation file to pack")
    output = output.absolute()
    if os.path.commonpath([root.resolve(), output.resolve()]) == str(root.resolve()):
        raise PackError(f"{output}: write the zip outside the dataset root")
    entries = members(dataset, list(dict.fromkeys(names)))
    write_zip(output, entries)
    return entries


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    try:
        targets = discover([args.root]).targets
        if len(targets) != 1:
            raise PackError(f"{args.root}: give one dataset root ({len(targets)} found)")
        entries = pack(targets[0].root, args.output, args.splits, config)
    except (PackError, DiscoveryError) as exc:
        print(printable(f"poselint: pack: {exc}"), file=sys.stderr)
        return EXIT_CANNOT_RUN
    images = sum(1 for m in entries if m.arcname.startswith(f"{IMAGES}/"))
    subsets = [m.arcname for m in entries if m.arcname.startswith(f"{ANNOTATIONS}/")]
    where = display_path(args.output.absolute(), Path.cwd())
    print(f"packed {images} images and {', '.join(subsets)} into {where}")
    return EXIT_CLEAN
