"""A dataset root as a git revision records it, read without checking anything out.

A git-tracked root is listed with `git ls-tree` and its annotation files read with
`git cat-file` (GitTreeSource); a DVC-tracked root takes its `.dvc` file (or `dvc.lock`)
from the revision and its files from the DVC cache or remote, by the md5s that revision
recorded (dvc.remote.DvcSource). Both are data sources (base.DataSource), so the layout
scan, the loader and every rule run on a revision unchanged.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from poselint.load.imageindex import FileInfo, ImageIndex
from poselint.report.hints import dvc_install
from poselint.sources.base import ListedSource
from poselint.sources.dvc import files as dvc_files  # its MAX_DVC_FILE_BYTES: one bound
from poselint.sources.dvc.config import find_dvc_root
from poselint.sources.dvc.files import (
    PIPELINE_FILES,
    TrackedOutput,
    outputs_of_dvc_data,
    outputs_of_pipeline,
    parse_yaml,
)
from poselint.sources.dvc.remote import DvcReader, DvcSource, open_source
from poselint.sources.dvc.session import DvcSession
from poselint.sources.errors import DiscoveryError, DvcError

_FILE = FileInfo("file")
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # sha1, sha256


class GitError(Exception):
    """git cannot answer (not a repository, unknown revision): the CLI exits 2."""


@dataclass(frozen=True)
class GitRepo:
    top: Path  # the work tree's top folder, resolved

    def run(self, *args: str) -> bytes:
        # stderr to a file: with one pipe, a 100 MB blob is one read, not a poll loop
        with tempfile.TemporaryFile() as errors:
            try:
                # no timeout: with one, communicate() polls in 32 KB reads instead of one read
                proc = subprocess.run(
                    ["git", *args], cwd=self.top, stdout=subprocess.PIPE, stderr=errors,
                    check=False,
                )  # fmt: skip
            except OSError as exc:
                raise GitError(f"cannot run git: {exc}") from exc
            if proc.returncode != 0:
                errors.seek(0)
                message = errors.read().decode(errors="replace").strip()
                raise GitError(message or f"git {args[0]} failed")
        return proc.stdout

    def commit(self, rev: str) -> str:
        """The commit `rev` names; a GitError saying so when it names none. Only the object
        id it resolves to reaches other git commands: a rev is never an option."""
        if rev.startswith("-"):
            raise GitError(f"{rev!r} is not a revision (a revision does not start with '-')")
        try:
            found = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        except GitError as exc:
            raise GitError(f"{rev!r} is not a commit in {self.top}") from exc
        commit = found.decode(errors="replace").strip()
        if not _OBJECT_ID.fullmatch(commit):
            raise GitError(f"{rev!r} is not a commit in {self.top}")
        return commit

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.top).as_posix()
        except ValueError:
            raise GitError(f"{path} is not inside the git repository {self.top}") from None

    def tree(self, commit: str, folder: Path) -> dict[str, str]:
        """posix path under folder -> blob id, for every file below it at commit."""
        prefix = self.rel(folder)
        prefix = "" if prefix == "." else prefix + "/"  # the dataset root may be the repo's top
        out = self.run("ls-tree", "-r", "-z", "--full-tree", commit, "--", prefix or ".")
        files: dict[str, str] = {}
        start = len(prefix)
        # "<mode> <type> <blob>\t<path>\0" records, decoded once (surrogateescape, as git
        # paths are bytes)
        for record in os.fsdecode(out).split("\0"):
            meta, _, name = record.partition("\t")
            if meta[7:11] == "blob":  # "100644 blob ...": not a submodule ("commit")
                files[name[start:]] = meta[12:]
        return files

    def show(self, commit: str, path: Path, max_bytes: int) -> bytes | None:
        """The file's content at commit, None if the commit does not have it; a GitError when
        it is over max_bytes (a hostile revision's multi-GB blob is not read)."""
        spec = f"{commit}:{self.rel(path)}"
        try:
            size = int(self.run("cat-file", "-s", spec))
        except (GitError, ValueError):
            return None
        if size > max_bytes:
            raise GitError(f"{spec}: {size:,} bytes, over the bound of {max_bytes:,}")
        try:
            return self.run("cat-file", "blob", spec)
        except GitError:
            return None

    def blob(self, blob: str, max_bytes: int) -> bytes | str:
        try:
            size = int(self.run("cat-file", "-s", blob))
            if size > max_bytes:
                return f"it is over the max_annotation_bytes bound of {max_bytes:,}"
            return self.run("cat-file", "blob", blob)
        except (GitError, ValueError) as exc:
            return f"cannot read it from git: {exc}"


def git_repo(start: Path) -> GitRepo:
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=start,
            capture_output=True,
            check=False,
            timeout=60,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from exc
    if proc.returncode != 0:
        raise GitError(f"{start} is not inside a git repository")
    return GitRepo(Path(proc.stdout.decode().strip()).resolve())


@dataclass
class GitTreeSource(ListedSource):
    """A git-tracked root at a commit: files are blob ids, read with `git cat-file`."""

    git: GitRepo | None = None

    @property
    def records_md5s(self) -> bool:
        return False  # blob ids are not md5s

    def read(self, path: Path, max_bytes: int) -> bytes | str:
        blob = self.files.get(path.relative_to(self.root).as_posix())
        if self.git is None or blob is None:
            return self.error or "not in this revision"
        return self.git.blob(blob, max_bytes)

    @cached_property
    def _tree(self) -> dict[str, dict[str, Any]]:
        """The root's and its folders' children, for the layout scan (list_dir); the image
        folders' files are listed by image_index, straight from the tree."""
        tree: dict[str, dict[str, Any]] = {"": {}}
        for rel in self.files:
            top, sep, rest = rel.partition("/")
            if not sep:
                tree[""][top] = ""
                continue
            tree[""][top] = {}
            name, sep, _ = rest.partition("/")
            tree.setdefault(top + "/", {})[name] = {} if sep else ""
        return tree

    def image_index(self, folder: Path) -> ImageIndex:
        index = ImageIndex(folder, source="dvc")
        prefix = self._under(folder)
        if prefix:
            cut = len(prefix)
            # blob ids are not md5s: no md5 here for the comparisons of PL413
            index.files = {rel[cut:]: _FILE for rel in self.files if rel.startswith(prefix)}
        return index


class RevisionDvcReader(DvcReader):
    """DvcReader for one revision: objects by the md5s it recorded (cache, else remote);
    DVC's own data index at that revision only for what is not md5-addressed."""

    def __init__(self, session: DvcSession, dvc_root: Path, commit: str) -> None:
        super().__init__(session, dvc_root)
        self.commit = commit

    @property
    def fs(self) -> Any:
        if self._fs is None:
            try:  # dvc is slow to import: on first use
                from dvc.fs.data import DataFileSystem
                from dvc.repo import Repo
            except ImportError as exc:
                raise DvcError(f"poselint diff needs dvc: {dvc_install()}") from exc
            opened = Repo(os.fspath(self.dvc_root), rev=self.commit)
            self._fs = DataFileSystem(index=opened.index.data["repo"])
        return self._fs


def _dvc_outputs_at(git: GitRepo, commit: str, declared_in: Path) -> list[TrackedOutput] | None:
    """The outputs declared_in (a .dvc file, or dvc.yaml with its dvc.lock) recorded at commit;
    None when the commit has no such file. Parsed and checked by dvc.files, as in the
    workspace: the same hash check, containment and stage `wdir`."""
    in_pipeline = declared_in.name in (*PIPELINE_FILES, "dvc.lock")
    source = declared_in.with_name("dvc.yaml") if in_pipeline else declared_in
    text = git.show(commit, source, dvc_files.MAX_DVC_FILE_BYTES)
    if text is None:
        return None
    try:
        if not in_pipeline:
            return outputs_of_dvc_data(_parse(git, commit, source, text), source)
        lock_path = source.with_name("dvc.lock")
        lock_text = git.show(commit, lock_path, dvc_files.MAX_DVC_FILE_BYTES)
        lock = None if lock_text is None else _parse(git, commit, lock_path, lock_text)
        return outputs_of_pipeline(_parse(git, commit, source, text), lock, source)
    except DiscoveryError as exc:
        raise GitError(f"at {commit[:12]}: {exc}") from exc


def _parse(git: GitRepo, commit: str, path: Path, text: bytes) -> Any:
    try:
        return parse_yaml(text)
    except ValueError as exc:
        raise GitError(f"{git.rel(path)} at {commit[:12]}: cannot read it: {exc}") from exc


def open_at(
    session: DvcSession, root: Path, dvc_file: Path | None, git: GitRepo, commit: str
) -> ListedSource:
    """The root as `commit` records it; `.error` says why it cannot be read (not there)."""
    short = commit[:12]
    if dvc_file is None:
        files = git.tree(commit, root)
        error = None if files else f"{git.rel(root)} is not in commit {short}"
        return GitTreeSource(root, files=files, error=error, git=git)
    outputs = _dvc_outputs_at(git, commit, dvc_file)
    output = next((o for o in outputs or [] if o.path == root or o.path in root.parents), None)
    if output is None:
        return DvcSource(root, dvc_file, error=f"commit {short} does not track {git.rel(root)}")
    dvc_root = find_dvc_root(dvc_file)
    if dvc_root is None:
        return DvcSource(root, dvc_file, error=f"{dvc_file} is not inside a DVC repository")
    reader = RevisionDvcReader(session, dvc_root, commit)
    return open_source(reader, root, dvc_file, output, failed=f"at commit {short}: ")
