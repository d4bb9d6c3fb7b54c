"""Read an image's size from its header, and cheaply tell a truncated file, without decoding.

JPEG and PNG (nearly every CVAT frame) are parsed here from the first bytes plus the last
few: a JPEG must end with its EOI marker (FF D9), a PNG with its IEND chunk, which is what a
copy cut short lacks. Other formats fall back to Pillow's lazy header read (size only, no
truncation check). Files are opened non-blocking and checked to be regular before any read,
so a FIFO or device swapped in after the walk cannot hang the run.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

_PROBE = 256  # files timed before choosing serial or threaded reads
_SLOW_FILE_SECONDS = 200e-6  # page-cache hits take microseconds; a disk seek milliseconds
_WORKERS = 16  # waits on disk overlap well beyond the core count
_SLICES_PER_THREAD = 8  # a thread that drew slow files does not hold up the end alone
_HEAD = 4096  # one read covers a typical JPEG header; big EXIF blocks get a second read
_TAIL = 4096
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# SOFn markers carry the frame size; C4 (DHT), C8 (JPG), CC (DAC) share the range but do not.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_NO_LENGTH = frozenset(range(0xD0, 0xDA)) | {0x01}  # RSTn, SOI, EOI, TEM
# Inside a JPEG's scans FF is only ever followed by 00 (stuffing), RSTn, or the markers between
# progressive scans. Any other pair in the tail means data appended after the image (a phone's
# trailer, a Motion Photo's video), whose end marker lies further back: not a truncation.
_FOREIGN_AFTER_JPEG = re.compile(rb"\xff[^\x00\xc4\xd0-\xd7\xda\xdb\xdd\xe0-\xef\xfe\xff]")


@dataclass(frozen=True, slots=True)
class Header:
    size: tuple[int, int] | None = None  # (width, height)
    problem: str | None = None  # why the file is not a readable image
    format: str | None = None
    orientation: int = 1  # EXIF orientation of a JPEG; 5-8 mean displayed with w and h swapped

    @property
    def displayed_size(self) -> tuple[int, int] | None:
        """The size after the EXIF rotation that viewers (and CVAT) apply."""
        if self.size is None or self.orientation < 5:
            return self.size
        return self.size[1], self.size[0]


def _exif_orientation(segment: bytes) -> int:
    """Tag 0x0112 of IFD0 in an APP1 Exif segment's payload; 1 when absent or unreadable."""
    if not segment.startswith(b"Exif\0\0") or len(segment) < 14:
        return 1
    tiff = segment[6:]
    order: Literal["little", "big"]
    if tiff[:2] == b"II":
        order = "little"
    elif tiff[:2] == b"MM":
        order = "big"
    else:
        return 1
    ifd = int.from_bytes(tiff[4:8], order)
    if ifd + 2 > len(tiff):
        return 1
    count = int.from_bytes(tiff[ifd : ifd + 2], order)
    for entry in range(ifd + 2, min(ifd + 2 + 12 * count, len(tiff) - 11), 12):
        if int.from_bytes(tiff[entry : entry + 2], order) == 0x0112:
            value = int.from_bytes(tiff[entry + 8 : entry + 10], order)
            return value if 1 <= value <= 8 else 1
    return 1


def _jpeg(fd: int, head: bytes, file_size: int) -> Header:
    """Walk the marker segments up to the frame header (SOFn), which holds the size."""
    buf, base, pos = head, 0, 2  # buf holds the file's bytes from offset base
    orientation = 1
    while True:
        i = pos - base
        if i + 9 > len(buf):  # the next segment start lies past what we have read
            buf, base, i = os.pread(fd, _HEAD, pos), pos, 0
            if len(buf) < 4:
                return Header(problem="truncated JPEG: ends inside its header", format="JPEG")
        if buf[i] != 0xFF:
            return Header(problem="corrupt JPEG header: expected a marker", format="JPEG")
        marker = buf[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
        elif marker in _JPEG_NO_LENGTH:
            if marker == 0xD9:
                return Header(problem="corrupt JPEG: no frame header before EOI", format="JPEG")
            pos += 2
        elif marker in _JPEG_SOF:
            if len(buf) < i + 9:
                return Header(problem="truncated JPEG: ends inside its header", format="JPEG")
            size = ((buf[i + 7] << 8) | buf[i + 8], (buf[i + 5] << 8) | buf[i + 6])
            # Entropy-coded data never holds FF D9 (FF is stuffed as FF 00), so an EOI in
            # the tail after the frame header means the file was written to its end.
            tail_start = max(pos + 4, file_size - _TAIL)
            tail = os.pread(fd, file_size - tail_start, tail_start)
            if b"\xff\xd9" not in tail and not _FOREIGN_AFTER_JPEG.search(tail):
                return Header(size, "truncated JPEG: no end-of-image marker", "JPEG", orientation)
            return Header(size, format="JPEG", orientation=orientation)
        else:
            length = (buf[i + 2] << 8) | buf[i + 3]
            if length < 2:
                return Header(problem="corrupt JPEG header: bad segment length", format="JPEG")
            if marker == 0xE1 and orientation == 1:  # APP1: Exif, IFD0 sits near its start
                want = min(length - 2, 1024)
                payload = buf[i + 4 : i + 4 + want]
                if len(payload) < want:
                    payload = os.pread(fd, want, pos + 4)
                orientation = _exif_orientation(payload)
            pos += 2 + length
            if pos >= file_size:
                return Header(problem="truncated JPEG: ends inside its header", format="JPEG")


def _png(fd: int, head: bytes, file_size: int) -> Header:
    if len(head) < 24 or head[12:16] != b"IHDR":
        return Header(problem="truncated or corrupt PNG: no IHDR chunk", format="PNG")
    width = int.from_bytes(head[16:20], "big")
    height = int.from_bytes(head[20:24], "big")
    tail_start = max(33, file_size - _TAIL)  # after signature + IHDR
    if b"IEND" not in os.pread(fd, file_size - tail_start, tail_start):
        return Header((width, height), "truncated PNG: no IEND chunk", format="PNG")
    return Header((width, height), format="PNG")


def _pillow(fd: int) -> Header:
    from PIL import Image, UnidentifiedImageError  # slow to import: only a non-JPEG/PNG file

    try:
        # a duplicate descriptor: the caller closes its own, Pillow closes this one
        with (
            os.fdopen(os.dup(fd), "rb") as f,
            Image.open(f) as im,
        ):  # lazy: reads the header, decodes nothing
            width, height = im.size
            return Header((int(width), int(height)), format=im.format)
    except UnidentifiedImageError:
        return Header(problem="not an image (no JPEG, PNG or other known image header)")
    except Exception as exc:  # Pillow raises many types for garbage; all mean "not an image"
        return Header(problem=f"not a readable image ({type(exc).__name__}: {exc})")


def read_header(path: str | Path) -> Header:
    """Size of the image at `path`, or why it has none. Never raises, never blocks."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return Header(problem=f"cannot open: {exc.strerror or exc}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return Header(problem="not a regular file")
        if st.st_size == 0:
            return Header(problem="empty file (0 bytes)")
        head = os.pread(fd, _HEAD, 0)
        if head.startswith(b"\xff\xd8"):
            return _jpeg(fd, head, st.st_size)
        if head.startswith(_PNG_SIGNATURE):
            return _png(fd, head, st.st_size)
        return _pillow(fd)
    except OSError as exc:
        return Header(problem=f"cannot read: {exc.strerror or exc}")
    finally:
        os.close(fd)


def read_headers_serial(paths: Sequence[str | Path]) -> list[Header]:
    """read_header over many files, in order, in this thread: the reference read_headers
    must equal (tests/test_image_rules.py)."""
    return [read_header(p) for p in paths]


def read_headers(paths: Sequence[str | Path], threads: int | None = None) -> list[Header]:
    """read_header over many files, in order; in threads when they wait on storage.

    Threads help only when the disk makes us wait (cold cache, network storage, DVC's
    symlink cache on either): then the reads overlap. With the files in the page cache the
    work is parsing under the GIL and threads lose to one (many threads are several times
    slower, a few no faster: benchmarks/bench_cache.py). So a first batch is timed in this thread,
    and slow files get `_WORKERS` threads, each reading contiguous slices (one handoff per
    slice, not per file). threads: force a count (tests, benchmarks).
    """
    first = min(len(paths), _PROBE)
    t0 = time.perf_counter()
    headers = read_headers_serial(paths[:first])
    if threads is None:
        slow = first and (time.perf_counter() - t0) / first > _SLOW_FILE_SECONDS
        threads = _WORKERS if slow else 1
    rest = paths[first:]
    if threads <= 1 or len(rest) <= _PROBE:
        return headers + read_headers_serial(rest)
    step = -(-len(rest) // (threads * _SLICES_PER_THREAD))
    slices = [rest[i : i + step] for i in range(0, len(rest), step)]
    from concurrent.futures import ThreadPoolExecutor  # only slow storage: start-up time

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for part in pool.map(read_headers_serial, slices):
            headers.extend(part)
    return headers
