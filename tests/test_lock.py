"""The dataset lock that keeps two `--fix` processes apart, tested across real processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from poselint.fsutil import LockBusy, dataset_lock

HOLDER = """
import sys, time
from pathlib import Path
from poselint.fsutil import dataset_lock
with dataset_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


def _hold(root: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_second_process_waits_then_refuses(tmp_path):
    holder = _hold(tmp_path)
    try:
        start = time.monotonic()
        with pytest.raises(LockBusy), dataset_lock(tmp_path, timeout=0.3):
            pass
        assert time.monotonic() - start >= 0.3
    finally:
        holder.kill()
        holder.wait()


def test_lock_is_released_when_the_holder_is_killed(tmp_path):
    holder = _hold(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with dataset_lock(tmp_path, timeout=5):
        pass
    assert list(tmp_path.iterdir()) == []  # no lock file left in the dataset


def test_lock_is_reentrant_across_sequential_uses(tmp_path):
    for _ in range(3):
        with dataset_lock(tmp_path, timeout=0):
            pass


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    from poselint.fsutil import atomic_write_bytes

    target = tmp_path / "a.json"
    target.write_text("{}")
    target.chmod(0o640)
    atomic_write_bytes(target, b"[]")
    assert (target.stat().st_mode & 0o777, target.read_bytes()) == (0o640, b"[]")
    fresh = tmp_path / "new.json"
    old = os.umask(0o022)
    try:
        atomic_write_bytes(fresh, b"{}")
    finally:
        os.umask(old)
    assert fresh.stat().st_mode & 0o777 == 0o644


def _waiting_on_the_lock(proc: subprocess.Popen[str], root: Path) -> bool:
    """The process has the root folder open: it is in dataset_lock, past its first scan."""
    fds = Path(f"/proc/{proc.pid}/fd")
    for fd in fds.iterdir() if fds.exists() else []:
        with contextlib.suppress(OSError):
            if os.readlink(fd) == str(root):
                return True
    return False


def test_the_second_of_two_concurrent_fixes_finds_nothing_left_to_do(tmp_path):
    """Both runs start on the raw export; the one that gets the lock second must see the
    dataset as the first one left it (scan under the lock), not a false refusal."""
    from builders import cvat_export

    root = cvat_export(tmp_path / "export")
    holder = _hold(root)  # both fixes start, scan, and wait behind it
    try:
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "poselint", "check", str(root), "--fix", "--unsafe-fixes"],
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        deadline = time.monotonic() + 60
        while not all(_waiting_on_the_lock(run, root) for run in runs):
            assert time.monotonic() < deadline and all(r.poll() is None for r in runs)
            time.sleep(0.05)
    finally:
        holder.kill()
        holder.wait()
    outcomes = sorted((run.wait(timeout=120), *run.communicate()) for run in runs)
    clean = subprocess.run(
        [sys.executable, "-m", "poselint", "check", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert clean.returncode == 0
    second, first = outcomes  # exit 0: nothing left to fix; exit 1: it fixed the export
    assert second == (0, clean.stdout, ""), outcomes
    assert first[0] == 1 and "renamed images/Train -> images/train" in first[1], outcomes
    assert "refused" not in first[1] + first[2]
