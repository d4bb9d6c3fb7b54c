"""Reading a CVAT export safely: a .zip or an extracted folder, copied into a staging folder.

Refused before a byte of an entry is written: zip-slip (`..`), absolute paths and drive
letters, backslashes, NUL bytes, symlinks, encrypted entries, entries Python's zipfile cannot
read (named), and a declared total over the bound; bytes are also counted while extracting,
so an entry that lies about its size is stopped too. Archive and desktop litter is skipped.
"""

from __future__ import annotations

import lzma
import os
import posixpath
import re
import shutil
import stat
import struct
import zipfile
import zlib
from pathlib import Path

from poselint.discovery import looks_like_root
from poselint.fsutil import inside

DEFAULT_MAX_BYTES = 64 * 1024**3  # COCO-2017 train is 19 GB; a bomb claims far more
CHUNK = 1 << 20
JUNK = {"__MACOSX", ".DS_Store", "Thumbs.db"}  # archive and desktop litter, never data


class IngestError(Exception):
    """The export is refused or cannot be read: exit 2 with this message, DEST untouched."""


def _unsafe_name(name: str) -> str | None:
    if "\x00" in name:
        return "a NUL byte in the name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if "\\" in name:
        return "a backslash in the path (Windows separators can hide '..')"
    if ".." in name.split("/"):
        return "'..' escaping the destination (zip-slip)"
    return None


def _is_junk(name: str) -> bool:
    return any(part in JUNK for part in name.split("/"))


def _too_big(total: int, bound: int, what: str) -> IngestError:
    return IngestError(
        f"{what} {total:,} bytes uncompressed, over the bound of {bound:,} "
        "(a zip bomb, or raise --max-bytes)"
    )


_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END64 = struct.Struct("<4sQ2H2L4Q")  # its zip64 form, before a 20-byte locator
_ENTRY = struct.Struct("<4s4B4HL2L5H2L")  # central directory file header, as zipfile reads it
_UTF8_NAME = 0x800
MAX_EXTRACT_VERSION = 63  # zipfile reads entries needing zip version 6.3 or older


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _entry_zipfile_refuses(archive: Path) -> tuple[str, str] | None:
    """(entry name, why) for the first central directory entry zipfile cannot list. zipfile
    raises while listing and never says which entry: read the directory raw to name it."""
    with archive.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        start = max(0, size - _END.size - 0xFFFF)  # the record ends with a <64 KiB comment
        f.seek(start)
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0:
            return None
        directory_size, end = _END.unpack_from(tail, at)[5], start + at
        if at >= _END64.size + 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":  # zip64
            end -= _END64.size + 20
            directory_size = _END64.unpack_from(tail, at - 20 - _END64.size)[8]
        f.seek(max(0, end - directory_size))
        directory = f.read(directory_size)
    pos = 0
    while pos + _ENTRY.size <= len(directory) and directory[pos : pos + 4] == b"PK\x01\x02":
        fields = _ENTRY.unpack_from(directory, pos)
        raw = directory[pos + _ENTRY.size : pos + _ENTRY.size + fields[12]]
        name = raw.decode("utf-8", "backslashreplace")
        if fields[5] & _UTF8_NAME and not _is_utf8(raw):
            return name, "its name is flagged UTF-8 but is not UTF-8"
        if fields[3] > MAX_EXTRACT_VERSION:
            return name, f"it needs zip version {fields[3] / 10:.1f}, newer than poselint reads"
        pos += _ENTRY.size + fields[12] + fields[13] + fields[14]
    return None


def _open_zip(archive: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(f"{archive}: not a readable zip file ({exc})") from exc
    except (NotImplementedError, UnicodeDecodeError) as exc:  # raised while listing entries
        found = _entry_zipfile_refuses(archive)
        if found is None:
            raise IngestError(f"{archive}: cannot list its entries ({exc})") from exc
        raise IngestError(f"{archive}: refusing entry '{found[0]}': {found[1]}") from exc


def _file_and_folder(infos: list[zipfile.ZipInfo]) -> tuple[str, str] | None:
    """(a file entry, an entry that needs a folder of the same name), if any: `a.jpg` and
    `a.jpg/x.jpg` cannot both be extracted."""
    files: dict[str, str] = {}
    folders: dict[str, str] = {}  # folder -> the first entry that needs it
    for info in infos:
        if _is_junk(info.filename):
            continue
        path = posixpath.normpath(info.filename)
        (folders if info.is_dir() else files).setdefault(path, info.filename)
        parent = posixpath.dirname(path)
        while parent and parent not in folders:
            folders[parent] = info.filename
            parent = posixpath.dirname(parent)
    return next(((name, folders[p]) for p, name in files.items() if p in folders), None)


def extract_zip(archive: Path, into: Path, max_bytes: int) -> tuple[int, int]:
    """Extract every entry, refusing anything unsafe before writing a byte of it."""
    zf = _open_zip(archive)
    with zf:
        infos = zf.infolist()
        declared = 0
        for info in infos:
            reason = _unsafe_name(info.filename)
            if reason is None and stat.S_ISLNK(info.external_attr >> 16):
                reason = "a symbolic link"
            if reason is None and info.flag_bits & 0x1:
                reason = "an encrypted entry"
            if reason:
                raise IngestError(f"{archive}: refusing entry '{info.filename}': {reason}")
            declared += info.file_size
        if declared > max_bytes:
            raise _too_big(declared, max_bytes, f"{archive}: the entries declare")
        clash = _file_and_folder(infos)
        if clash is not None:
            raise IngestError(
                f"{archive}: refusing entry '{clash[0]}': a file, but entry '{clash[1]}' "
                "needs a folder of that name"
            )
        base = into.resolve()
        total = files = 0
        for info in infos:
            if _is_junk(info.filename):
                continue
            target = (base / info.filename).resolve()
            if not inside(str(target), str(base)):
                raise IngestError(f"{archive}: entry '{info.filename}' escapes the destination")
            written = 0
            try:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "xb") as dst:
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        total += len(chunk)
                        if written > info.file_size or total > max_bytes:
                            raise _too_big(total, max_bytes, f"{archive}: extracting gave over")
                        dst.write(chunk)
            except FileExistsError as exc:  # "a" twice, or "a" and "a/b"
                raise IngestError(
                    f"{archive}: entry '{info.filename}' clashes with another entry of that name"
                ) from exc
            except (
                zipfile.BadZipFile,
                zlib.error,
                lzma.LZMAError,
                EOFError,
                NotImplementedError,
                UnicodeDecodeError,  # the entry's local header: a name flagged UTF-8 that is not
            ) as exc:
                raise IngestError(f"{archive}: entry '{info.filename}' is corrupt ({exc})") from exc
            except OSError as exc:  # a full disk, a name too long for the file system
                raise IngestError(
                    f"{archive}: cannot extract entry '{info.filename}': {exc.strerror or exc}"
                ) from exc
            files += 1
        return files, total


def copy_folder(src: Path, into: Path, max_bytes: int) -> tuple[int, int]:
    """Copy an extracted export, with the same refusals as for a zip."""
    total = files = 0
    into.mkdir(parents=True, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(src):
        folder = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in JUNK)
        for name in (*dirnames, *filenames):
            if (folder / name).is_symlink():
                raise IngestError(f"refusing {folder / name}: a symbolic link in the export")
        out = into / folder.relative_to(src)
        out.mkdir(exist_ok=True)
        for name in sorted(filenames):
            if name in JUNK:
                continue
            path = folder / name
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                raise IngestError(f"refusing {path}: not a regular file")
            total += st.st_size
            if total > max_bytes:
                raise _too_big(total, max_bytes, f"{src}: the files hold over")
            shutil.copyfile(path, out / name)
            files += 1
    return files, total


def find_root(extracted: Path) -> tuple[Path, str | None]:
    """The dataset root in the export: its top, or the one folder at its top."""
    if looks_like_root(extracted):
        return extracted, None
    entries = [e for e in os.scandir(extracted) if e.name not in JUNK]
    if len(entries) == 1 and entries[0].is_dir() and looks_like_root(Path(entries[0].path)):
        return Path(entries[0].path), entries[0].name
    raise IngestError(
        "no images/ and annotations/ at the top of the export, nor one folder below: "
        "is this a CVAT 'COCO Keypoints 1.0' export?"
    )
