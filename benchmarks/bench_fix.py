"""Benchmark `poselint check --fix` on a COCO-2017-size raw CVAT export.

    .venv/bin/python benchmarks/bench_fix.py [--root /tmp/poselint-bench-fix]

Builds (every run, ~20 s) a root whose train split is spelt `Train` and holds 262,465 people
with 17 keypoints (118,287 images listed; ~118 MB of compact JSON), where every outside (v=0)
point keeps drawn coordinates, as CVAT writes them. Then prints the wall time, in a fresh
process each, of: the lint alone, `--diff`, `--fix` (zero ~2M points, rewrite the file, rename
the split, re-lint), and the `check` after it. Image files are not created: the runs select
PL2,PL3,PL6 so that the figures are about the fixer, not the image walk (bench_check.py).
Figures, not assertions.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from bench_check import N_IMAGES, N_PEOPLE, SEED, _document

SELECT = ["--select", "PL2,PL3,PL6", "--no-image-size"]


def generate(root: Path) -> int:
    if root.exists():
        shutil.rmtree(root)
    (root / "annotations").mkdir(parents=True)
    (root / "images" / "Train").mkdir(parents=True)
    (root / "images" / "val").mkdir(parents=True)
    rng = np.random.default_rng(SEED)
    doc = _document(N_IMAGES, N_PEOPLE, rng, 1, raw_cvat=False)
    outside = 0
    for ann in doc["annotations"]:  # CVAT keeps the drawn position of outside points
        kps = ann["keypoints"]
        for i in range(0, 51, 3):
            if kps[i + 2] == 0:
                kps[i], kps[i + 1] = 17 + i, 23 + i
                outside += 1
    (root / "annotations" / "person_keypoints_Train.json").write_bytes(orjson.dumps(doc))
    val = _document(10, 20, rng, 10_000_000, raw_cvat=False)
    (root / "annotations" / "person_keypoints_val.json").write_bytes(orjson.dumps(val))
    return outside


def run(label: str, argv: list[str]) -> None:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "poselint", *argv], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t0
    first = next((ln for ln in proc.stdout.splitlines() if "fixed" in ln), "")
    print(f"{label:<28} {wall:6.2f} s  exit {proc.returncode}  {first}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=Path("/tmp/poselint-bench-fix"))
    root = parser.parse_args().root
    t0 = time.perf_counter()
    outside = generate(root)
    size = (root / "annotations" / "person_keypoints_Train.json").stat().st_size
    print(
        f"generated {N_PEOPLE:,} people, {outside:,} outside points with coordinates, "
        f"{size / 1e6:.0f} MB, in {time.perf_counter() - t0:.1f} s"
    )
    run("check (lint only)", ["check", str(root), *SELECT, "-q", "--no-cache"])
    run("check --diff", ["check", str(root), *SELECT, "--diff", "-q"])
    run("check --fix", ["check", str(root), *SELECT, "--fix", "-q"])
    run("check after the fix", ["check", str(root), *SELECT, "-q", "--no-cache"])


if __name__ == "__main__":
    main()
