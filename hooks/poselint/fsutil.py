"""Safe writes (nothing on disk is ever half-written) and confined reads (nothing outside
the dataset root and the DVC cache is ever read)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Every temp file poselint writes is named `.poselint-tmp-<target>.<random>.tmp`: a name no
# user or other tool picks, so `--fix` can remove what an interrupted write left, and only that.
WRITE_TEMP_PREFIX = ".poselint-tmp-"
WRITE_TEMP_SUFFIX = ".tmp"


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """Which file, at which version: a save by another program (a new inode, or the same one
    rewritten) changes it. Taken from the descriptor the bytes were read through."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class ChangedOnDisk(Exception):
    """The file to replace is no longer the one read: writing would lose someone's edit."""


def atomic_write_bytes(path: Path, data: bytes, expect: FileIdentity | None = None) -> None:
    """Write to a temp file in the same folder, fsync, then os.replace over the target.

    expect: the target must still be that file right before the replace."""
    folder = path.parent if str(path.parent) else Path(".")
    import tempfile  # only a run that writes pays for it (random, shutil: start-up time)

    fd, tmp = tempfile.mkstemp(
        prefix=f"{WRITE_TEMP_PREFIX}{path.name}.", suffix=WRITE_TEMP_SUFFIX, dir=folder
    )
    try:
        # mkstemp creates 0600: keep the replaced file's mode, or what umask gives a new file.
        os.fchmod(fd, _mode_for(path))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        fault_point()
        if expect is not None and _identity(path) != expect:
            raise ChangedOnDisk(f"{path} changed while fixing (saved by another program)")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)
    fault_point()


def _identity(path: Path) -> FileIdentity | None:
    try:
        return FileIdentity.of(os.stat(path))
    except OSError:
        return None


def _mode_for(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def fsync_dir(folder: Path) -> None:
    """Make renames inside `folder` durable (best effort: some filesystems refuse)."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def durable_rename(src: Path, dst: Path) -> None:
    """os.rename, then fsync of the folder(s) so the new name survives a power cut."""
    os.rename(src, dst)
    fsync_dir(dst.parent)
    if src.parent != dst.parent:
        fsync_dir(src.parent)
    fault_point()


# Crash tests (tests/test_fix_crash.py) set POSELINT_FAULT_AFTER=N: the process SIGKILLs
# itself at the Nth mutating filesystem step (each atomic write has two: before and after its
# os.replace; each rename one). Unset, this is one dict lookup per step.
FAULT_ENV = "POSELINT_FAULT_AFTER"
_fault_steps = 0


def fault_point() -> None:
    limit = os.environ.get(FAULT_ENV)
    if not limit or not limit.isdigit():
        return
    global _fault_steps
    _fault_steps += 1
    if _fault_steps >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


class LockBusy(Exception):
    """Another poselint process holds the dataset's lock for longer than we wait."""


@contextlib.contextmanager
def dataset_lock(root: Path, timeout: float = 60.0) -> Iterator[None]:
    """Exclusive lock on a dataset root for the length of a fix.

    pre-commit may run hooks in parallel, so two `--fix` runs can meet on one dataset. The
    lock is flock() on the root folder itself: no lock file lands in the (DVC-tracked) data,
    and the kernel drops it when a process dies, even by SIGKILL. The second process waits up
    to `timeout` seconds, then refuses.
    """
    fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(
                        f"{root}: another poselint process is fixing this dataset"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


# --- confinement: every read stays inside the dataset root and the DVC cache ---------------

# A DVC cache object, below the cache folder: ab/cdef... (DVC 2) or files/md5/ab/cdef... (DVC 3).
_CACHE_OBJECT = re.compile(r"(?:files/md5/)?[0-9a-f]{2}/[0-9a-f]{30}")


def inside(path: str, base: str) -> bool:
    """Whether the real path `path` is `base` or below it (both real, absolute)."""
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


@dataclass(frozen=True, slots=True)
class Confinement:
    """Where poselint may read: the dataset root and, for files only, the objects of the DVC
    cache (DVC's symlink cache type links every image there). Symlinks are resolved first,
    so no link, `..` or manifest entry reaches anything else.

    The one check every read goes through: annotation files and the folders scanned
    (layout.py), the image walk (imageindex.py) and through it `pack` and the image rules.
    """

    root: str  # real path of the dataset root
    caches: tuple[str, ...] = ()  # real paths of the DVC cache folders that apply
    # (sources/dvc/config.confinement(root) makes the one of a dataset root)

    def allows_folder(self, real: str) -> bool:
        return inside(real, self.root)

    def allows_file(self, real: str) -> bool:
        if inside(real, self.root):
            return True
        for cache in self.caches:
            base = cache.rstrip(os.sep) + os.sep
            if real.startswith(base) and _CACHE_OBJECT.fullmatch(
                real[len(base) :].replace(os.sep, "/")
            ):
                return True
        return False

    def outside(self, path: Path, folder: bool) -> str | None:
        """Why `path` (a file, or a folder to list) must not be read, or None when its real
        path is allowed. A missing path is allowed: reading it reports that it is missing."""
        real = os.path.realpath(path)
        if (self.allows_folder(real) if folder else self.allows_file(real)) or not os.path.lexists(
            path
        ):
            return None
        what = "folder" if folder else "file"
        cache = "" if folder else " or the DVC cache"
        return f"it is a symlink to a {what} outside the dataset root{cache} ({real}): not followed"


class Refused(OSError):
    """read_regular_file would not read it: outside where reads may go, not a regular file,
    or over the bound (oversize). The message says which (safe to print: no content)."""

    def __init__(self, message: str, oversize: bool = False) -> None:
        super().__init__(message)
        self.oversize = oversize


def read_regular_file(path: Path, max_bytes: int, within: str | None = None) -> bytes:
    """The bytes of path, which must be a regular file (a FIFO or device is never opened for
    a read that does not end) of at most max_bytes, and whose real path is inside `within`
    (a real path) when given. Refused, or the OSError of the open (FileNotFoundError...).

    The real path is opened O_NOFOLLOW, so a link swapped in after the check is not
    followed; O_NONBLOCK keeps a FIFO swapped in from blocking the open.
    """
    real = os.path.realpath(path)
    if within is not None and not inside(real, within):
        raise Refused(f"{path} is a symlink to {real}, outside {within}: not followed")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(real, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{path} is not a regular file: not read")
        if st.st_size > max_bytes:
            raise Refused(f"{path} is over the bound of {max_bytes:,} bytes: not read", True)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # grew since the fstat
        raise Refused(f"{path} is over the bound of {max_bytes:,} bytes: not read", True)
    return data
