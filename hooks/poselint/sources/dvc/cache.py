"""DVC's cache: objects by md5, `.dir` manifests (a tracked folder's file list), and the
dataset roots such a listing holds. Every cache read is bounded and stays in the cache."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from poselint.fsutil import Refused, read_regular_file
from poselint.load.layout import ANNOTATIONS, IMAGES
from poselint.sources.dvc.config import cache_dir, find_dvc_root
from poselint.sources.dvc.files import TrackedOutput, valid_md5
from poselint.sources.errors import DiscoveryError

# posix path under a tracked output -> md5 of the file's content, as DVC's `.dir` lists them
Manifest = dict[str, str]
# Where a tracked folder's manifest comes from: the local cache (default), or through DVC.
ManifestSource = Callable[[TrackedOutput], "Manifest | None"]
# A `.dir` manifest lists ~100 bytes per file: this bound is ~5 million files. It keeps a
# hostile cache object (a link to /dev/zero, a huge file) from eating all memory.
MAX_MANIFEST_BYTES = 512 << 20


def object_paths(cache: Path, md5: str) -> list[Path]:
    """Where the cache object of md5 can be (DVC 3 layout, then DVC 2); none for a value
    that is not a DVC hash, so no caller can build a path from one."""
    if not valid_md5(md5, folder=True):
        return []
    return [cache / "files" / "md5" / md5[:2] / md5[2:], cache / md5[:2] / md5[2:]]


def read_cache_object(cache: Path, md5: str, max_bytes: int) -> bytes | Refused | None:
    """The bytes of the cache object of md5 (DVC 3 layout, then DVC 2); None when the cache
    does not have it; Refused saying why it was not read. Every cache read goes through here:
    the hash is checked (object_paths), the object must be a regular file of at most
    max_bytes whose real path stays in the cache (no link to /dev/zero or out of it)."""
    within = os.path.realpath(cache)
    for path in object_paths(cache, md5):
        try:
            return read_regular_file(path, max_bytes, within)
        except Refused as exc:
            return exc
        except OSError:
            continue
    return None


def _safe_relpath(rel: str) -> bool:
    """A plain posix path inside the folder, as DVC writes them: no absolute path, no `..`,
    `.` or empty segment, no NUL (no file name holds one) and no backslash (DVC writes `/`
    on every OS; on Windows `\\` would be a separator)."""
    parts = rel.split("/")
    return (
        bool(rel)
        and not rel.startswith("/")
        and not {"", ".", ".."} & set(parts)
        and "\0" not in rel
        and "\\" not in rel
    )


def checked_manifest(files: Manifest, where: str) -> Manifest:
    """The manifest, once every md5 is a DVC hash and every relpath a plain relative path;
    else DiscoveryError naming the manifest and the entry (nothing is read with it)."""
    for rel, md5 in files.items():
        if md5 and not valid_md5(md5):  # "": DVC did not say (a remote without md5s)
            raise DiscoveryError(
                f"{where} lists md5 {md5!r} for {rel!r}, which is not a DVC hash "
                "(32 lowercase hex digits): the manifest is corrupt or hostile; nothing was read"
            )
        if not _safe_relpath(rel):
            raise DiscoveryError(
                f"{where} lists the path {rel!r}, which is not a relative path inside the "
                "folder: the manifest is corrupt or hostile; nothing was read"
            )
    return files


def parse_manifest(data: bytes, where: str) -> Manifest | None:
    """A `.dir` object's JSON list, checked; None when it is not one."""
    import orjson  # discovery imports this module: nothing more at `poselint` start-up

    try:
        entries = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(entries, list):
        return None
    return checked_manifest(
        {
            e["relpath"]: e["md5"]
            for e in entries
            if isinstance(e, dict)
            and isinstance(e.get("relpath"), str)
            and isinstance(e.get("md5"), str)
        },
        where,
    )


def manifest_name(output: TrackedOutput) -> str:
    return f"{output.declared_in}: the .dir manifest {output.md5}"


def cached_manifest(output: TrackedOutput) -> Manifest | None:
    """The folder's `.dir` manifest from the local cache (DVC 3 or DVC 2 layout), or None."""
    dvc_root = find_dvc_root(output.declared_in)
    if dvc_root is None or not output.is_dir or output.md5 is None:
        return None
    data = read_cache_object(cache_dir(dvc_root), output.md5, MAX_MANIFEST_BYTES)
    if isinstance(data, Refused):
        raise DiscoveryError(
            f"{manifest_name(output)} in the DVC cache: {data}; the cache is corrupt or hostile"
        )
    return None if data is None else parse_manifest(data, manifest_name(output))


def relative_key(path: Path, base: Path) -> str | None:
    """posix path of path below base ("" for base itself), or None when it is not below:
    the one containment test before a path becomes a key into a manifest or DVC's index."""
    try:
        rel = path.relative_to(base).as_posix()
    except ValueError:
        return None
    return "" if rel == "." else rel


def files_under(manifest: Manifest, root: Path, output: TrackedOutput) -> Manifest | None:
    """The manifest's entries below root (a folder in the output), keyed under root; None
    when root is not inside the output."""
    prefix = relative_key(root, output.path)
    if prefix is None:
        return None
    prefix = prefix and prefix + "/"
    return {rel[len(prefix) :]: md5 for rel, md5 in manifest.items() if rel.startswith(prefix)}


def roots_in_listing(relpaths: Iterator[str] | list[str]) -> list[str]:
    """Dataset roots inside a tracked folder, from its file list: the posix prefixes that hold
    images/ or annotations/ ("" is the folder itself). A model folder yields none."""
    roots: set[str] = set()
    for rel in relpaths:
        parts = rel.split("/")
        for i, part in enumerate(parts[:-1]):
            if part.lower() in (IMAGES, ANNOTATIONS):
                roots.add("/".join(parts[:i]))
                break
    outer = sorted(roots, key=len)
    kept: list[str] = []
    for root in outer:
        if not any(root == k or root.startswith(k + "/") or k == "" for k in kept):
            kept.append(root)
    return sorted(kept)


def md5_of_file(path: Path) -> str | None:
    """md5 of the content, as DVC computes it for a file; None if it cannot be read."""
    import hashlib  # only when an image is hashed: not at `poselint` start-up

    digest = hashlib.md5()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()
