"""Faults during --fix and ingest: a full disk (ENOSPC) or a read-only folder (EACCES) leaves
the dataset exactly as it was and says why. Real faults: a tiny tmpfs, an unprivileged user."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from builders import build_dataset, clean_docs, image, person

ANNOTATION = Path("annotations") / "person_keypoints_Train.json"


def _raw_export_docs(people: int) -> dict[str, dict[str, object]]:
    """Split spelt Train, every outside point with stale coordinates: --fix must rewrite it."""
    docs = clean_docs()
    train = docs["train"]
    train["images"] = [image(1, "img_001.jpg")]
    train["annotations"] = [
        person(i, 1, [10, 12, 2, 20, 10, 1, 33.5 + i % 7, 21.25, 0, 30, 20, 2])
        for i in range(1, people + 1)
    ]
    return {"Train": train, "val": docs["val"]}


def _snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@contextlib.contextmanager
def tiny_tmpfs(size_kib: int) -> Iterator[Path]:
    mount_point = Path(tempfile.mkdtemp(prefix="poselint-tmpfs-"))
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:  # pragma: no cover - needs root; CI runs as root
        mount_point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        shutil.rmtree(mount_point, ignore_errors=True)


def _poselint(
    *argv: object, cwd: Path, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "poselint", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def _fill(mount_point: Path, leave_kib: int) -> None:
    """Fill the tmpfs until only about `leave_kib` KiB stay free."""
    usage = shutil.disk_usage(mount_point)
    filler = max(0, usage.free - leave_kib * 1024)
    (mount_point / "filler.bin").write_bytes(b"\0" * filler)


def test_enospc_during_fix_leaves_the_dataset_unchanged(tmp_path):
    with tiny_tmpfs(2048) as disk:
        root = build_dataset(disk / "ds", _raw_export_docs(people=2000))
        annotation_kib = (root / ANNOTATION).stat().st_size // 1024
        _fill(disk, leave_kib=annotation_kib // 2)  # the rewrite cannot fit
        before = _snapshot(root)
        proc = _poselint("check", root, "--fix", cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        assert "No space left on device" in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        assert _snapshot(root) == before  # no rename happened before the failed rewrite either
        assert not [p for p in root.rglob("*.tmp")]  # no temp file left behind


def test_enospc_during_ingest_creates_nothing(tmp_path):
    export = build_dataset(tmp_path / "export", _raw_export_docs(people=2000))
    with tiny_tmpfs(1024) as disk:
        _fill(disk, leave_kib=64)
        proc = _poselint("ingest", export, disk / "dest", cwd=tmp_path)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "No space left on device" in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        assert sorted(p.name for p in disk.iterdir()) == ["filler.bin"]


def test_eacces_during_fix_leaves_the_dataset_unchanged():
    setpriv = shutil.which("setpriv")
    if setpriv is None:  # pragma: no cover
        pytest.skip("needs setpriv to run as an unprivileged user")
    base = Path(tempfile.mkdtemp(prefix="poselint-eacces-"))
    try:
        root = build_dataset(base / "ds", _raw_export_docs(people=20))
        for path in [base, *base.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (root / "annotations").chmod(0o555)  # read-only: no temp file, no rename
        before = _snapshot(root)
        proc = _poselint(
            "check",
            root,
            "--fix",
            cwd=base,
            prefix=(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"),
        )
        assert proc.returncode == 1, proc.stderr
        assert "Permission denied" in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        assert _snapshot(root) == before
        assert json.loads((root / ANNOTATION).read_text())["annotations"]
    finally:
        shutil.rmtree(base, ignore_errors=True)
