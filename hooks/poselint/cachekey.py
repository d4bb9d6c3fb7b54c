"""The key of a split's cached diagnostics (cache.py): everything they depend on.

poselint itself, the effective configuration and rule selection, where reads may go (the
root and the DVC cache), and the split's files: its annotation file, its image folder's
listing and, when image sizes are checked, its image files. A file is known by (device,
inode, size, mtime_ns, ctime_ns), stat'ed before it is read; a key whose files changed within
RACY_SECONDS of the run is marked racy and not stored (a later write could share a coarse
timestamp: git's "racily clean" problem).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, compress
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poselint import __version__

if TYPE_CHECKING:
    from poselint.config import Config
    from poselint.load.dataset import Split
    from poselint.rules import Rule

FORMAT = 2  # bump when what an entry holds or means changes
RACY_SECONDS = 2.0  # FAT keeps mtimes to 2 s; ext4 and others to a clock tick


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


# The installed libraries a verdict depends on (pyproject's dependencies): an upgrade may
# change one (Pillow reads a new header, pycocotools loads differently) as a poselint one may.
_LIBRARIES = frozenset(
    ("msgspec", "orjson", "numpy", "pillow", "jsonschema", "jsonschema-rs", "pycocotools")
)


def _library_versions() -> list[str]:
    """The dist-info folders of _LIBRARIES on sys.path, by name: one listing per path entry,
    no importlib.metadata (a tenth of a second to import)."""
    found = []
    for folder in sys.path:
        with contextlib.suppress(OSError), os.scandir(folder or ".") as it:
            for entry in it:
                if entry.name.endswith((".dist-info", ".egg-info")):
                    project = entry.name.split("-", 1)[0].lower().replace("_", "-")
                    if project in _LIBRARIES:
                        found.append(os.path.join(folder, entry.name))
    return sorted(found)


def code_fingerprint() -> str:
    """poselint's version and its own files' sizes and mtimes (an editable install changes
    without a version bump; the checkout's schema, load/schema.py, is one of them), and the
    versions of the libraries it judges with."""
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
    files = ascii((sorted(found), _stat_key(str(schema)), _library_versions()))
    digest = hashlib.sha256(files.encode()).hexdigest()
    return f"{__version__}/{FORMAT}/{sys.version_info[:2]}/{digest}"


def split_key(
    split: Split, config: Config, rules: Sequence[Rule], code: str, now_ns: int
) -> SplitKey | None:
    """The key of a split's cached diagnostics; None when it cannot be cached (no annotation
    file, or read through DVC's remote)."""
    dataset = split.dataset
    annotation = split.files.annotation_file
    if annotation is None or not dataset.source.in_workspace or dataset.exact:
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
    # where reads may go (the root and the DVC cache configured): a link into the cache is
    # read or refused by it, and `dvc cache dir` moves it with no file of the split changed
    bounds = getattr(dataset.source, "bounds", None)
    material = (
        code,
        repr(config),
        [(r.code, r.severity, r.fix and r.fix.applicability, r.opt_in) for r in rules],
        os.fspath(dataset.root),
        os.path.realpath(dataset.root),
        repr(bounds),
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
