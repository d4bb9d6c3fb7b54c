"""--no-pull: a dataset root as DVC records it, listed from its `.dir` manifest and read from
the local cache, else the remote; the workspace is never used, nothing is written to the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poselint.fsutil import Refused
from poselint.report.hints import dvc_install
from poselint.sources.base import ListedSource
from poselint.sources.dvc.cache import (
    MAX_MANIFEST_BYTES,
    Manifest,
    ManifestSource,
    cached_manifest,
    checked_manifest,
    files_under,
    manifest_name,
    parse_manifest,
    read_cache_object,
    relative_key,
)
from poselint.sources.dvc.config import find_dvc_root
from poselint.sources.dvc.files import TrackedOutput, valid_md5
from poselint.sources.dvc.session import DvcSession
from poselint.sources.errors import DvcError


class DvcReader:
    """One DVC repo opened for reading what it records: listings and reads through DVC's data
    index. Reads come from the local cache when the object is there, else from the remote."""

    def __init__(self, session: DvcSession, dvc_root: Path) -> None:
        self.session = session
        self.dvc_root = dvc_root
        self._fs: Any = None
        self._manifests: dict[Path, Manifest] = {}

    @property
    def fs(self) -> Any:
        if self._fs is None:
            try:
                from dvc.fs.data import DataFileSystem  # dvc is slow to import: on first use
            except ImportError as exc:
                raise DvcError(f"--no-pull needs dvc: {dvc_install()}") from exc
            self._fs = DataFileSystem(index=self.session.repo(self.dvc_root).index.data["repo"])
        return self._fs

    def key(self, path: Path, output: TrackedOutput) -> str:
        """DVC's name for path, a file or folder in output: through the output's own key, so
        a symlinked folder is named as DVC records it, never by where the link leads."""
        rel = relative_key(path, output.path)
        base = output.key or relative_key(output.path, self.dvc_root)
        if rel is None or not base:
            raise DvcError(f"{path} is not inside the DVC output {output.key or output.path}")
        return f"{base}/{rel}" if rel else base

    def manifest(self, output: TrackedOutput) -> Manifest:
        """posix path under the output -> md5, for every file in it (its `.dir` object)."""
        if output.path not in self._manifests:
            self._manifests[output.path] = (
                cached_manifest(output) or self._remote_manifest(output) or self._walk(output)
            )
        return self._manifests[output.path]

    def _remote_object(self, output: TrackedOutput, md5: str, max_bytes: int) -> Any:
        """Up to max_bytes + 1 bytes of the object md5 from the output's remote (bounded: a
        remote can be hostile too)."""
        odb = self.session.repo(self.dvc_root).cloud.get_remote_odb(
            name=output.remote, command="poselint --no-pull", hash_name=output.hash_name
        )
        with odb.fs.open(odb.oid_to_path(md5), mode="rb") as f:
            return f.read(max_bytes + 1)

    def _remote_manifest(self, output: TrackedOutput) -> Manifest | None:
        """The `.dir` object, one small file, straight from the remote."""
        if not output.is_dir or output.md5 is None:
            return None
        try:
            data = self._remote_object(output, output.md5, MAX_MANIFEST_BYTES)
        except DvcError:
            raise
        except Exception:  # e.g. a version-aware remote: fall back to DVC's own listing
            return None
        if not isinstance(data, bytes) or len(data) > MAX_MANIFEST_BYTES:
            return None
        return parse_manifest(data, manifest_name(output))

    def _walk(self, output: TrackedOutput) -> Manifest:
        """DVC's data index listing: any remote kind, one entry per file."""
        key = self.key(output.path, output)
        files: Manifest = {}
        for where, _dirs, entries in self.fs.walk(key, detail=True):
            prefix = where[len(key) :].strip("/")
            for name, info in entries.items():
                files[f"{prefix}/{name}" if prefix else name] = str(info.get("md5") or "")
        if not files:
            raise FileNotFoundError(f"DVC tracks no files under {key}")
        return checked_manifest(files, f"{output.declared_in}: DVC's listing of {key}")

    def read(self, path: Path, max_bytes: int, output: TrackedOutput, md5: str) -> bytes | str:
        """The file's bytes, or why they cannot be had: the object by its md5 from the cache,
        else the remote; through DVC's data index for remotes that are not md5-addressed."""
        data = self._read_object(output, md5, max_bytes)
        if isinstance(data, Refused):
            if data.oversize:
                return f"it is over the max_annotation_bytes bound of {max_bytes:,}"
            return f"its DVC cache object is refused: {data}"
        if data is None:
            try:
                with self.fs.open(self.key(path, output), mode="rb") as f:
                    data = f.read(max_bytes + 1)
            except Exception as exc:  # dvc raises many kinds; each is a reason, not a crash
                return f"cannot read it through DVC: {exc}"
        if not isinstance(data, bytes):
            return "DVC returned no bytes for it"
        if len(data) > max_bytes:
            return f"it is over the max_annotation_bytes bound of {max_bytes:,}"
        return data

    def _read_object(
        self, output: TrackedOutput, md5: str, max_bytes: int
    ) -> bytes | Refused | None:
        """The object's bytes (cache, else remote), None if neither has it, or why not."""
        if not valid_md5(md5):  # manifests are checked: this is a second line of defence
            return None
        data = read_cache_object(self.session.cache_dir(self.dvc_root), md5, max_bytes)
        if data is not None:
            return data
        try:
            data = self._remote_object(output, md5, max_bytes)
        except Exception:
            return None
        return data if isinstance(data, bytes) else None


def reader_for(session: DvcSession, path: Path) -> DvcReader:
    """The session's reader of the DVC repo holding path."""
    dvc_root = find_dvc_root(path)
    if dvc_root is None:
        raise DvcError(f"{path} is not inside a DVC repository (no .dvc/ folder above it)")
    if dvc_root not in session.readers:
        session.readers[dvc_root] = DvcReader(session, dvc_root)
    return session.readers[dvc_root]


def remote_manifests(session: DvcSession) -> ManifestSource:
    """For discovery under --no-pull: an output's file list through DVC (local cache, else
    the remote); None when unknown (open_remote then says why)."""

    def manifest(output: TrackedOutput) -> Manifest | None:
        try:
            return reader_for(session, output.declared_in).manifest(output)
        except Exception:  # reported when the dataset is opened (DvcSource.error)
            return None

    return manifest


@dataclass
class DvcSource(ListedSource):
    """A dataset root as DVC records it: the listing from the `.dir` manifest (md5 per file,
    nothing read), annotation files read through DVC by their md5."""

    reader: DvcReader | None = None
    output: TrackedOutput | None = None  # the output holding root

    def read(self, path: Path, max_bytes: int) -> bytes | str:
        """A file's bytes through DVC, or why not."""
        if self.reader is None or self.output is None:
            return self.error or "not readable through DVC"
        rel = relative_key(path, self.root)
        if rel is None:
            return f"it is not inside the dataset root {self.root}"
        md5 = self.files.get(rel, "")
        return self.reader.read(path, max_bytes, self.output, md5)


def open_source(
    reader: DvcReader, root: Path, dvc_file: Path, output: TrackedOutput, failed: str = ""
) -> DvcSource:
    """The root inside output, listed from the output's manifest through reader; a DvcError
    when DVC cannot be used at all, else `.error` says why it cannot be read (failed: how
    to begin that message)."""
    try:
        manifest = reader.manifest(output)
    except DvcError:
        raise
    except Exception as exc:  # no remote, unreachable remote, object missing, ...
        return DvcSource(root, dvc_file, error=failed + (str(exc) or type(exc).__name__))
    files = files_under(manifest, root, output)
    if files is None:
        return DvcSource(root, dvc_file, error=f"{root} is not inside the DVC output {output.path}")
    return DvcSource(root, dvc_file, files, reader=reader, output=output)


def open_remote(session: DvcSession, root: Path, declared_in: Path) -> DvcSource:
    """The dataset root as the .dvc file / dvc.lock records it, listed through DVC."""
    output = session.output_of(root, declared_in)
    if output is None:
        return DvcSource(root, declared_in, error=f"{declared_in.name} does not track {root}")
    return open_source(reader_for(session, declared_in), root, declared_in, output)
