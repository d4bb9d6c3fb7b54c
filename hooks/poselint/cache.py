"""The cache of per-split diagnostics, as ruff has one: an unchanged split is not parsed again.

What is cached: the diagnostics of the file- and document-scope rules of one split, whose
inputs are exactly that split's files (its annotation file, its image folder's listing and,
when image sizes are checked, its image files) plus poselint itself and the effective
configuration and rule selection. All of these make up the entry's key. Dataset-scope rules
(structure, split names, DVC staleness, leakage, PL412) are never cached: they re-run every
time, from the layout and listings, which need no parse. The one part of a document they read
(its `categories`, for PL412) is stored with the entry and shown to them in place of the parse
(tests/test_cache.py checks no other dataset-scope rule reads a document).

The key is cachekey.py's. An entry is stored only when the file the rules read is the file
keyed, and none of its files changed within cachekey.RACY_SECONDS of the run.

Where: `.poselint_cache/` at the root of the git repository holding the cwd (else the cwd), or
$POSELINT_CACHE_DIR; never inside a dataset root, linted or not. The folder is hostile input like
the rest: entries are opened relative to its descriptor without following links, bounded in
size, decoded as JSON into fixed types (nothing can execute), and used only when the full key
stored in them equals the key asked for; anything else is a miss. A folder poselint did not
make (no CACHEDIR.TAG, other files in it: $POSELINT_CACHE_DIR=~) is not used, and eviction and
`poselint clean` remove only the files poselint writes, never anything else in the folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from poselint.cachekey import SplitKey, code_fingerprint
from poselint.diagnostics import Diagnostic
from poselint.discovery import enclosing_root
from poselint.fsutil import inside

if TYPE_CHECKING:
    from poselint.load.dataset import Split

FOLDER_NAME = ".poselint_cache"
ENV_FOLDER = "POSELINT_CACHE_DIR"
MAX_ENTRY_BYTES = 64 * 1024**2
MAX_TOTAL_BYTES = 512 * 1024**2  # past this, the least recently used entries go
MAX_ENTRIES = 10_000
STALE_TEMP_SECONDS = 3600.0  # a temp file this old was left by a killed run
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}\.json")
_TEMP_PREFIX = "tmp-"
_GITIGNORE = b"# created by poselint: the cache is local, never committed\n*\n"
_CACHEDIR_TAG = (
    b"Signature: 8a477f597d28d172789f06886806bc55\n"
    b"# This file is a cache directory tag created by poselint (poselint clean removes it).\n"
)
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


class _CachedDiagnostic(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    code: str
    message: bytes  # UTF-8 with surrogatepass: file names may hold undecodable bytes
    path: bytes
    pointer: bytes | None
    severity: Literal["error", "warning"]
    fix: Literal["safe", "unsafe"] | None  # its rule's fix applicability
    count: int


class _Entry(msgspec.Struct, forbid_unknown_fields=True):
    key: str  # the whole key, compared on read: the file name is only its hash
    diagnostics: list[_CachedDiagnostic]
    is_object: bool  # the annotation file parsed to a JSON object
    categories: Any  # its `categories`, what dataset-scope rules read of it (PL412)


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(_Entry)


def _text(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


def _untext(value: bytes) -> str:
    return value.decode("utf-8", "surrogatepass")


@dataclass
class Hit:
    diagnostics: list[Diagnostic]
    is_object: bool
    categories: Any


def folder_for(cwd: Path) -> Path:
    """Where the cache lives: $POSELINT_CACHE_DIR, else .poselint_cache/ at the root of the
    git repository holding cwd (a `.git` folder or file; no git process), else in cwd."""
    configured = os.environ.get(ENV_FOLDER)
    if configured:
        return Path(configured).absolute()
    cwd = cwd.absolute()
    for folder in (cwd, *cwd.parents):
        if os.path.lexists(folder / ".git"):
            return folder / FOLDER_NAME
    return cwd / FOLDER_NAME


def is_cache_folder(folder: Path) -> bool:
    """The folder holds the CACHEDIR.TAG poselint writes (a regular file, not a link)."""
    try:
        fd = os.open(folder, _DIRECTORY)
    except OSError:
        return False
    try:
        return _holds(fd, "CACHEDIR.TAG", _CACHEDIR_TAG)
    finally:
        os.close(fd)


def _holds(folder_fd: int, name: str, content: bytes) -> bool:
    """The folder's entry `name` is a regular file (not a link) holding exactly `content`."""
    try:
        fd = os.open(name, _READ, dir_fd=folder_fd)
    except OSError:
        return False
    with open(fd, "rb") as f:
        return stat.S_ISREG(os.fstat(f.fileno()).st_mode) and f.read(len(content) + 1) == content


def _written_by_poselint(folder_fd: int, name: str) -> bool:
    """An entry, a temp file or one of the two marker files, as poselint writes them: the
    only names it ever evicts or removes."""
    if name == "CACHEDIR.TAG":
        return _holds(folder_fd, name, _CACHEDIR_TAG)
    if name == ".gitignore":
        return _holds(folder_fd, name, _GITIGNORE)
    if not (_ENTRY_NAME.fullmatch(name) or name.startswith(_TEMP_PREFIX)):
        return False
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def remove(folder: Path) -> list[str]:
    """`poselint clean`: remove the files poselint wrote in the cache folder, then the folder.
    Returns the names of anything else it holds: those are left, with the folder and its
    markers (so what is left stays out of git). A link is never followed: not being a file
    poselint wrote, it is left and named."""
    fd = os.open(folder, _DIRECTORY)
    try:
        names = os.listdir(fd)
        foreign = sorted(n for n in names if not _written_by_poselint(fd, n))
        markers = ("CACHEDIR.TAG", ".gitignore")  # the tag last: a clean that stops half-way
        ours = [n for n in names if n not in foreign and n not in markers]  # leaves a cache
        for name in ours + ([] if foreign else [n for n in markers if n in names]):
            with contextlib.suppress(FileNotFoundError):  # a concurrent run evicted it
                os.unlink(name, dir_fd=fd)
    finally:
        os.close(fd)
    if not foreign:
        os.rmdir(folder)
    return foreign


@dataclass
class Cache:
    """One run's view of the cache folder (opened once, by descriptor)."""

    folder: Path
    fd: int
    code: str
    now_ns: int = field(default_factory=time.time_ns)
    hits: list[Path] = field(default_factory=list)  # annotation files served from the cache
    written: int = 0

    @classmethod
    def open(cls, folder: Path, roots: Iterable[Path]) -> Cache | None:
        """None when the folder cannot be used: inside a dataset root (linted or not), not a
        folder (a symlink is not followed), not writable, or a folder holding files poselint
        did not write."""
        real = os.path.realpath(folder)
        if any(inside(real, os.path.realpath(root)) for root in roots):
            return None
        # nor inside a dataset root this run does not lint (a cwd in another dataset's images/
        # with no git above): its walk would list the entries as orphan images
        if enclosing_root(Path(real).parent) is not None:
            return None
        try:
            with contextlib.suppress(FileExistsError):
                os.makedirs(folder, mode=0o755)
            fd = os.open(folder, _DIRECTORY)
        except OSError:
            return None
        # A folder poselint did not make (a home folder in $POSELINT_CACHE_DIR) is not
        # adopted: eviction and `poselint clean` would delete what it holds.
        try:
            adopted = _holds(fd, "CACHEDIR.TAG", _CACHEDIR_TAG) or all(
                _written_by_poselint(fd, name) for name in os.listdir(fd)
            )
        except OSError:
            adopted = False
        if not adopted:
            os.close(fd)
            return None
        cache = cls(folder, fd, code_fingerprint())
        for name, data in (("CACHEDIR.TAG", _CACHEDIR_TAG), (".gitignore", _GITIGNORE)):
            if not cache._exists(name):
                cache._write(name, data)
        return cache

    def close(self) -> None:
        if self.written:
            self._evict()
        os.close(self.fd)

    def _exists(self, name: str) -> bool:
        try:
            os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except OSError:
            return False
        return True

    def get(self, key: SplitKey) -> Hit | None:
        """The diagnostics stored under this key, or None (absent, corrupt, foreign)."""
        try:
            fd = os.open(key.name, _READ, dir_fd=self.fd)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY_BYTES:
                return None
            with open(fd, "rb", closefd=False) as f:
                data = f.read(MAX_ENTRY_BYTES + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        try:
            entry = _DECODER.decode(data)
            if entry.key != key.text:
                return None
            diagnostics = [
                Diagnostic(
                    code=d.code,
                    message=_untext(d.message),
                    path=Path(_untext(d.path)),
                    pointer=None if d.pointer is None else _untext(d.pointer),
                    severity=d.severity,
                    fix=d.fix,
                    count=d.count,
                )
                for d in entry.diagnostics
            ]
        except (msgspec.DecodeError, UnicodeDecodeError, ValueError, TypeError, RecursionError):
            return None
        with contextlib.suppress(OSError):  # recently used: evicted last
            os.utime(key.name, dir_fd=self.fd, follow_symlinks=False)
        return Hit(diagnostics, entry.is_object, entry.categories)

    def put(self, key: SplitKey, diagnostics: Sequence[Diagnostic], split: Split) -> None:
        """Store a split's diagnostics, when the file the rules read is the file keyed."""
        loaded = split.loaded
        if key.racy or loaded is None or loaded.identity is None or key.identity is None:
            return
        read = loaded.identity
        if (read.dev, read.ino, read.size, read.mtime_ns, read.ctime_ns) != key.identity[1:]:
            return  # changed between the stat and the read
        document = loaded.document
        try:
            data = _ENCODER.encode(
                _Entry(
                    key.text,
                    [
                        _CachedDiagnostic(
                            d.code,
                            _text(d.message),
                            _text(os.fspath(d.path)),
                            None if d.pointer is None else _text(d.pointer),
                            d.severity,
                            d.fix,
                            d.count,
                        )
                        for d in diagnostics
                    ],
                    document is not None,
                    document.get("categories") if document is not None else None,
                )
            )
        except (TypeError, ValueError, OverflowError, UnicodeError, RecursionError):
            # a value JSON cannot hold as parsed (a huge integer), or categories nested deeper
            # than the encoder recurses (the loader takes 1,024 levels): not cached
            return
        if len(data) <= MAX_ENTRY_BYTES and self._write(key.name, data):
            self.written += 1

    def _write(self, name: str, data: bytes) -> bool:
        """temp file + os.replace: a reader sees the old entry or the new one, never half;
        two runs writing the same entry each replace it whole."""
        temp = f"{_TEMP_PREFIX}{os.getpid()}-{os.urandom(6).hex()}"
        try:
            fd = os.open(temp, _WRITE, 0o644, dir_fd=self.fd)
        except OSError:
            return False
        try:
            with open(fd, "wb", closefd=False) as f:
                f.write(data)
            os.replace(temp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=self.fd)
            return False
        finally:
            os.close(fd)
        return True

    def _evict(self) -> None:
        """Past MAX_TOTAL_BYTES or MAX_ENTRIES, remove the least recently used entries down
        to 80% of the bound; temp files a killed run left are removed too."""
        entries: list[tuple[int, int, str]] = []
        now = time.time()
        with contextlib.suppress(OSError), os.scandir(self.fd) as it:
            for entry in it:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if _ENTRY_NAME.fullmatch(entry.name) and stat.S_ISREG(st.st_mode):
                    entries.append((st.st_mtime_ns, st.st_size, entry.name))
                elif (
                    entry.name.startswith(_TEMP_PREFIX)
                    and stat.S_ISREG(st.st_mode)
                    and now - st.st_mtime > STALE_TEMP_SECONDS
                ):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.name, dir_fd=self.fd)
        total = sum(size for _, size, _ in entries)
        if total <= MAX_TOTAL_BYTES and len(entries) <= MAX_ENTRIES:
            return
        entries.sort()
        count = len(entries)
        for _, size, name in entries:
            if total <= MAX_TOTAL_BYTES * 0.8 and count <= MAX_ENTRIES * 0.8:
                break
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=self.fd)
            total -= size
            count -= 1
