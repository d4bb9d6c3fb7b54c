"""`images[].file_name` values sorted into names safe to look up under images/<split>/ and
names that are not (PL502), once per split (Split.file_names)."""

from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, NamedTuple

from poselint.load.tables import column

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Zero-width joiners spell words (Persian, Indic scripts) and emoji: the only format
# characters (Unicode category Cf) a name may hold.
_SPELLING = frozenset("\u200c\u200d")
_DRIVE = re.compile(r"^[A-Za-z]:")
# Names made of word characters, '-', '.', ' ' in segments that start with a word character
# or '-': no '.'/'..' segment, no '//', nothing to normalise. Nearly every name takes this path.
_PLAIN = re.compile(r"(?:[\w\-][\w\-. ]*/)*[\w\-][\w\-. ]*")
# Every name plain, joined with "\n" (which no plain name holds): one regex pass for 118k names.
_ALL_PLAIN = re.compile(rf"(?:{_PLAIN.pattern}\n)*{_PLAIN.pattern}")


def unsafe_reason(name: str) -> str | None:
    """Why a file_name must not be looked up under images/<split>/, or None when it is safe."""
    if not name:
        return "is empty"
    control = _CONTROL.search(name)
    if control:
        return f"contains the control character U+{ord(control.group()):04X}"
    hidden = _format_character(name)
    if hidden:  # 'x\u202egpj.exe' displays as 'xexe.jpg' (Trojan Source)
        return (
            f"contains the invisible format character U+{ord(hidden):04X} (a bidi control or "
            "zero-width character): the name displays as another one"
        )
    if "\\" in name:
        return "contains a backslash: use '/' as the separator (a POSIX relative path)"
    if name.startswith("/") or _DRIVE.match(name):
        return "is an absolute path: it must be relative to images/<split>/"
    normal = posixpath.normpath(name)
    if normal == ".." or normal.startswith("../"):
        return "uses '..' to escape images/<split>/"
    if normal == ".":
        return "names the split folder itself, not a file"
    # What a loader's open(os.path.join(images_dir, name)) can open, nothing else: the kernel
    # resolves '..' through the folders on disk (they must exist; a symlinked one has another
    # parent), and a trailing '/' or '/.' names a folder, so normpath() would pass names that
    # fail to load. './' and '//' open what they look like and stay allowed.
    parts = name.split("/")
    if ".." in parts:
        return (
            "uses '..': a loader resolves it through the folders on disk, not as written; "
            "write the path without it"
        )
    if parts[-1] in ("", "."):
        return "ends with '/' or '/.': it names a folder, not a file"
    return None


def _format_character(name: str) -> str | None:
    if name.isascii():
        return None
    return next((c for c in name if unicodedata.category(c) == "Cf" and c not in _SPELLING), None)


class Reference(NamedTuple):  # a tuple: 118k of them are built in C, not in __init__
    row: int  # position in images[]
    name: str  # file_name as written
    key: str  # normalised posix path: the ImageIndex key


@dataclass(frozen=True, slots=True)
class FileNames:
    safe: list[Reference]  # string file_names that may be looked up
    unsafe: list[tuple[int, str, str]]  # (row, file_name, why not) for PL502


def sort_file_names(document: dict[str, Any] | None) -> FileNames:
    """Every images[].file_name sorted into safe and unsafe; non-strings are PL310's."""
    images = (document or {}).get("images")
    if isinstance(images, list) and images:
        names = column(images, "file_name")
        joined = "\n".join(names) if set(map(type, names)) == {str} else ""
        # (a name holding "\n" itself would pass as two: the count rules that out)
        if joined.count("\n") == len(names) - 1 and _ALL_PLAIN.fullmatch(joined):
            return FileNames(list(map(Reference, range(len(names)), names, names)), [])
    result = FileNames([], [])
    plain = _PLAIN.fullmatch
    for row, image in enumerate(images if isinstance(images, list) else []):
        name = image.get("file_name") if isinstance(image, dict) else None
        if not isinstance(name, str):
            continue  # the schema rule reports a missing or non-string file_name
        if plain(name):
            result.safe.append(Reference(row, name, name))
            continue
        reason = unsafe_reason(name)
        if reason is None:
            result.safe.append(Reference(row, name, posixpath.normpath(name)))
        else:
            result.unsafe.append((row, name, reason))
    return result
