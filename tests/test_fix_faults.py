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
        proc = _poselint("check", root, "--fix", "--unsafe-fixes", cwd=tmp_path)
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
            "--unsafe-fixes",
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


def test_read_only_images_folder_is_found_before_the_first_change():
    """The export needs a rewrite (file_name prefixes), an annotation rename and a folder
    rename; images/ is read-only, so the last would fail: nothing may change before it."""
    from builders import cvat_export

    setpriv = shutil.which("setpriv")
    if setpriv is None:  # pragma: no cover
        pytest.skip("needs setpriv to run as an unprivileged user")
    base = Path(tempfile.mkdtemp(prefix="poselint-eacces-"))
    try:
        root = cvat_export(base / "ds")
        for path in [base, *base.rglob("*")]:  # everything writable for the user but images/
            path.chmod(0o777 if path.is_dir() else 0o666)
        (root / "images").chmod(0o555)
        before = _snapshot(root)
        listing = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
        proc = _poselint(
            "check",
            root,
            "--fix",
            "--unsafe-fixes",
            "--select",
            "PL2",
            cwd=base,
            prefix=(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"),
        )
        assert (proc.returncode, proc.stderr) == (1, ""), proc
        assert proc.stdout.splitlines()[0] == (
            "refused to fix ds: cannot write in ds/images: Permission denied (nothing changed)"
        ), proc.stdout
        assert _snapshot(root) == before
        assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == listing
    finally:
        (base / "ds" / "images").chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_a_step_failing_half_way_says_what_did_change(tmp_path):
    """No precondition shows a full disk: the small train rewrite fits, the large val one
    does not. The output must list the train fix and not claim that nothing changed."""
    docs = _raw_export_docs(people=2)
    docs = {"train": docs["Train"], "val": _raw_export_docs(people=2000)["Train"]}
    with tiny_tmpfs(2048) as disk:
        root = build_dataset(disk / "ds", docs)
        train, val = (root / "annotations" / f"person_keypoints_{s}.json" for s in docs)
        val_before = val.read_bytes()
        _fill(disk, leave_kib=val.stat().st_size // 1024 // 2)
        assert shutil.disk_usage(disk).free > 4 * train.stat().st_size
        proc = _poselint("check", root, "--fix", "--unsafe-fixes", "--select", "PL601", cwd=root)
        lines = proc.stdout.splitlines()
        assert (proc.returncode, proc.stderr) == (1, ""), proc
        assert lines[:2] == [
            "fixed 2 outside points in annotations/person_keypoints_train.json",
            "refused to fix .: stopped: [Errno 28] No space left on device "
            "(only the changes above were made)",
        ], proc.stdout
        assert [kp[6:8] for kp in _keypoints(train)] == [[0, 0], [0, 0]]
        assert val.read_bytes() == val_before
        assert not [p for p in root.rglob("*.tmp")]


def _keypoints(path: Path) -> list[list[float]]:
    return [a["keypoints"] for a in json.loads(path.read_bytes())["annotations"]]


# Another program (an annotation tool, `git checkout`) saves the annotation file mid-run: as a
# real subprocess, just before finalize() turns the edits into bytes, or at the first mutating
# step (the temp file written, right before its os.replace).
CONCURRENT_SAVE = """
import json, os, subprocess, sys
import poselint.fix as fix
import poselint.fsutil as fsutil
EDIT = '''
import json, os, sys
p = sys.argv[1]; d = json.load(open(p))
d["info"] = {"saved by": "the other program"}
open(p + ".new", "w").write(json.dumps(d)); os.replace(p + ".new", p)
'''
target = sys.argv[1]
def save():
    subprocess.run([sys.executable, "-c", EDIT, target], check=True)
if sys.argv[2] == "finalize":
    finalize = fix.finalize
    def hooked(plan):
        save()
        return finalize(plan)
    fix.finalize = hooked
else:
    steps = []
    def fault_point():
        steps.append(1)
        if len(steps) == 1:
            save()
    fsutil.fault_point = fault_point
from poselint.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize("when", ["finalize", "before-replace"])
def test_fix_never_overwrites_an_edit_saved_while_it_ran(tmp_path, when):
    """--fix rewrote the file from the document it had parsed: an edit another program saved
    in between was silently lost. The file is replaced only while it is still what was read."""
    root = build_dataset(tmp_path / "ds", _raw_export_docs(people=2))
    path = root / ANNOTATION
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            CONCURRENT_SAVE,
            str(path),
            when,
            "check",
            "--fix",
            "--unsafe-fixes",
            "ds",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc
    assert json.loads(path.read_bytes())["info"] == {"saved by": "the other program"}
    message = (
        "ds/annotations/person_keypoints_Train.json changed while fixing (saved by another program)"
    )
    assert message in proc.stdout, proc.stdout
    assert not (root / "images" / "train").exists()  # nothing after the refusal either
    assert not [p for p in root.rglob("*.tmp")]
