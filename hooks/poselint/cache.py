"""The cache of per-split diagnostics, as ruff has one: an unchanged split is not parsed again.

What is cached: the diagnostics of the file- and document-scope rules of one split, whose
inputs are exactly that split's files (its annotation file, its image folder's listing and,
when image sizes are checked, its image files) plus poselint itself and the effective
configuration and rule selection. All of these make up the entry's key. Dataset-scope rules
(structure, split names, DVC staleness, leakage, PL412) are never cached: they re-run every
time, from the layout and listings, which need no parse. The one part of a document they read
(its `categories`, for PL412) is stored with the entry and shown to them in place of the parse
(tests/test_cache.py checks no other dataset-scope rule reads a document).

A file is known by (device, inode, size, mtime_ns, ctime_ns), stat'ed before it is read; an
entry is stored only when the file read is the file stat'ed, and none of its files changed
within RACY_SECONDS of the run (a later write could share a coarse timestamp: git's "racily
clean" problem).

Where: `.poselint_cache/` at the root of the git repository holding the cwd (else the cwd), or
$POSELINT_CACHE_DIR; never inside a dataset root being linted. The folder is hostile input like
the rest: entries are opened relative to its descriptor without following links, bounded in
size, decoded as JSON into fixed types (nothing can execute), and used only when the full key
stored in them equals the key asked for; anything else is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import sys
import time
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from poselint import __version__
from poselint.diagnostics import Diagnostic
from poselint.fsutil import inside

if TYPE_CHECKING:
    from poselint.config import Config
    from poselint.load.dataset import Split
    from poselint.rules import Rule

FOLDER_NAME = ".poselint_cache"
ENV_FOLDER = "POSELINT_CACHE_DIR"
FORMAT = 1  # bump when what an entry holds or means changes
RACY_SECONDS = 2.0  # FAT keeps mtimes to 2 s; ext4 and others to a clock tick
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
    fixable: bool
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


def _stat_key(path: str, follow: bool = True) -> tuple[int, ...] | None:
    try:
        st = os.stat(path, follow_symlinks=follow)
    except (OSError, ValueError):
        return None
    return (st.st_mode, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


_STAT_PROBE = 256  # stats timed before choosing one thread or many
_SLOW_STAT_SECONDS = 50e-6  # from the page cache a stat takes a few us; over NFS, a round trip
_STAT_THREADS = 16
_STAT_FIELDS = (
    ("st_dev", "Q"),
    ("st_ino", "Q"),
    ("st_size", "q"),
    ("st_mtime_ns", "q"),
    ("st_ctime_ns", "q"),
)


def _stats(paths: list[str]) -> tuple[bytes, int]:
    """(dev, ino, size, mtime_ns, ctime_ns) of each file (followed), packed field by field,
    and the newest of those times. A COCO-sized folder is 118k stats, with no Python per
    file; in threads when a first batch shows them waiting on storage (a network file
    system), as header reads do: from the page cache, threads are no faster here."""
    t0 = time.perf_counter()
    parts = [_stat_columns(paths[:_STAT_PROBE])]
    rest = paths[_STAT_PROBE:]
    slow = (time.perf_counter() - t0) / _STAT_PROBE > _SLOW_STAT_SECONDS
    if slow and len(rest) > _STAT_PROBE:
        from concurrent.futures import ThreadPoolExecutor  # only slow storage: start-up time

        step = -(-len(rest) // (_STAT_THREADS * 4))
        with ThreadPoolExecutor(max_workers=_STAT_THREADS) as pool:
            parts.extend(
                pool.map(_stat_columns, [rest[i : i + step] for i in range(0, len(rest), step)])
            )
    elif rest:
        parts.append(_stat_columns(rest))
    columns = [
        list(chain.from_iterable(part[f] for part in parts)) for f in range(len(_STAT_FIELDS))
    ]
    data = b"".join(
        array(code, column).tobytes()
        for (_, code), column in zip(_STAT_FIELDS, columns, strict=True)
    )
    newest = max(max(columns[3], default=0), max(columns[4], default=0))
    return data, newest


def _stat_columns(paths: list[str]) -> list[list[int]]:
    try:
        stats = list(map(os.stat, paths))
    except (OSError, ValueError):  # one vanished or unreadable: the slow way, marking it
        columns: list[list[int]] = [[] for _ in _STAT_FIELDS]
        for path in paths:
            key = _stat_key(path)
            for column, value in zip(columns, key[1:] if key else (0, 0, -1, -1, -1), strict=True):
                column.append(value)
        return columns
    return [list(map(attrgetter(name), stats)) for name, _ in _STAT_FIELDS]


@dataclass(frozen=True)
class SplitKey:
    text: str  # ascii() of everything the split's cached diagnostics depend on
    identity: tuple[int, ...] | None  # the annotation file's (followed) stat, as keyed
    racy: bool  # some input changed too recently to be told apart from a later change

    @property
    def name(self) -> str:
        return hashlib.sha256(self.text.encode("ascii")).hexdigest() + ".json"


@dataclass
class Hit:
    diagnostics: list[Diagnostic]
    is_object: bool
    categories: Any


def code_fingerprint() -> str:
    """poselint's version and its own files' sizes and mtimes: an editable install changes
    without a version bump. The checkout's schema (load/schema.py) is one of them."""
    package = Path(__file__).parent
    found: list[tuple[str, int, int]] = []
    pending = [os.fspath(package)]
    while pending:
        folder = pending.pop()
        with contextlib.suppress(OSError), os.scandir(folder) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                    pending.append(entry.path)
                elif entry.name.endswith((".py", ".json", ".html", ".css", ".js", ".j2")):
                    st = entry.stat()
                    found.append((entry.path, st.st_size, st.st_mtime_ns))
    schema = package.parents[1] / "schemas" / "coco-keypoints.schema.json"
    files = ascii((sorted(found), _stat_key(str(schema))))
    digest = hashlib.sha256(files.encode()).hexdigest()
    return f"{__version__}/{FORMAT}/{sys.version_info[:2]}/{digest}"


def split_key(
    split: Split, config: Config, rules: Sequence[Rule], code: str, now_ns: int
) -> SplitKey | None:
    """The key of a split's cached diagnostics; None when it cannot be cached (no annotation
    file, or read through DVC's remote)."""
    dataset = split.dataset
    annotation = split.files.annotation_file
    if annotation is None or dataset.remote is not None or dataset.exact:
        return None
    path = os.fspath(annotation)
    identity = _stat_key(path)
    newest = max(identity[4:]) if identity else 0  # mtime_ns, ctime_ns
    images: tuple[Any, ...] = ()
    index = split.images  # listed once: the rules use this very listing
    if index is not None:
        # each entry's name (in the walk's order: a reordering only costs a miss) and kind,
        # and the walk's notes: all the rules read of a listing from disk (no size, no md5)
        names = list(index.files)
        kinds = list(map(attrgetter("kind"), index.files.values()))
        digest = hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape"))
        digest.update(" ".join(kinds).encode())
        digest.update(ascii(sorted(index.notes.items())).encode())
        if config.image_size:  # header rules read the files: their stats too
            folder = os.path.join(os.fspath(index.folder), "")
            files = list(map(folder.__add__, compress(names, map("file".__eq__, kinds))))
            stats, newest_image = _stats(files)
            digest.update(stats)
            newest = max(newest, newest_image)
        images = (os.fspath(index.folder), index.source, digest.hexdigest())
    dvc_file = os.fspath(dataset.dvc_file) if dataset.dvc_file is not None else None
    material = (
        code,
        repr(config),
        [(r.code, r.severity, r.fixable, r.opt_in) for r in rules],
        os.fspath(dataset.root),
        os.path.realpath(dataset.root),
        split.name,
        path,
        os.path.realpath(path),
        _stat_key(path, follow=False),
        identity,
        images,
        dvc_file,
        _stat_key(dvc_file) if dvc_file is not None else None,
    )
    margin = int(RACY_SECONDS * 1e9)
    return SplitKey(ascii(material), identity, racy=newest >= now_ns - margin)


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
        fd = os.open(folder / "CACHEDIR.TAG", _READ)
    except OSError:
        return False
    with open(fd, "rb") as f:
        return stat.S_ISREG(os.fstat(f.fileno()).st_mode) and f.read(1024) == _CACHEDIR_TAG


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
        """None when the folder cannot be used: inside a dataset root, not a folder (a symlink
        is not followed), or not writable."""
        real = os.path.realpath(folder)
        if any(inside(real, os.path.realpath(root)) for root in roots):
            return None
        try:
            with contextlib.suppress(FileExistsError):
                os.makedirs(folder, mode=0o755)
            fd = os.open(folder, _DIRECTORY)
        except OSError:
            return None
        cache = cls(folder, fd, code_fingerprint())
        for name, data in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
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
                    fixable=d.fixable,
                    count=d.count,
                )
                for d in entry.diagnostics
            ]
        except (msgspec.DecodeError, UnicodeDecodeError, ValueError, TypeError):
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
                            d.fixable,
                            d.count,
                        )
                        for d in diagnostics
                    ],
                    document is not None,
                    document.get("categories") if document is not None else None,
                )
            )
        except (TypeError, ValueError, OverflowError, UnicodeError):
            return  # a value JSON cannot hold as parsed (a huge integer): not cached
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
                elif entry.name.startswith(_TEMP_PREFIX) and now - st.st_mtime > (
                    STALE_TEMP_SECONDS
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
