"""Benchmark `poselint diff` against one `poselint check` at COCO-2017 scale.

    .venv/bin/python benchmarks/bench_diff.py [--root /tmp/poselint-bench-diff] [--regen]

Builds (once; reused while its parameters match) a git repository holding bench_check.py's
dataset (train: 118,287 images, 262,465 people x 17 keypoints; the images committed too) in
three commits:

1. the dataset;
2. an edit that keeps ids: 10,000 points moved 3 px, 10,000 visibility flags flipped
   between 1 and 2, 1,000 people deleted;
3. a re-export of (2) that renumbers every annotation id 1..n, as CVAT does: every person
   is then matched by keypoint similarity, the diff's worst case.

Then prints, for fresh processes (best of --repeat): `poselint check --no-image-size` of the
working tree, and `poselint diff` of (1)->(2), (2)->(3) and (1)->working tree, with the ratio
of each to the check (target: a diff <= 3x one check), and the counts each diff found.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from bench_check import (
    N_IMAGES,
    N_PEOPLE,
    N_VAL_IMAGES,
    N_VAL_PEOPLE,
    PYTHON,
    SEED,
    SIZES,
    _compile_package,
    _document,
    _write_images,
)

N_MOVED = 10_000
N_FLIPPED = 10_000
N_DELETED = 1_000
PARAMS = json.dumps([N_IMAGES, N_PEOPLE, SEED, N_MOVED, N_FLIPPED, N_DELETED, 1])


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args],
        cwd=repo,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _edit(doc: dict, rng: np.random.Generator) -> None:
    """Move N_MOVED labelled points by 3 px, flip N_FLIPPED flags 1 <-> 2 (other points),
    delete N_DELETED people: in place, ids kept."""
    anns = doc["annotations"]
    slots = [(j, k) for j, a in enumerate(anns) for k in range(17) if a["keypoints"][3 * k + 2] > 0]
    chosen = rng.choice(len(slots), N_MOVED + N_FLIPPED, replace=False)
    for n, s in enumerate(chosen.tolist()):
        j, k = slots[s]
        kp = anns[j]["keypoints"]
        if n < N_MOVED:
            kp[3 * k] += 3
        else:
            kp[3 * k + 2] = 3 - kp[3 * k + 2]
    gone = set(rng.choice(len(anns), N_DELETED, replace=False).tolist())
    doc["annotations"] = [a for j, a in enumerate(anns) if j not in gone]


def generate(repo: Path) -> None:
    from PIL import Image

    t0 = time.perf_counter()
    if repo.exists():
        shutil.rmtree(repo)
    root = repo / "data" / "pose"
    (root / "annotations").mkdir(parents=True)
    _git(repo, "init", "-q")
    sources = {}
    for w, h in SIZES:
        path = repo / f"source_{w}x{h}.jpg"
        Image.effect_noise((w, h), 30).convert("RGB").save(path, quality=75)
        sources[(w, h)] = path
    docs = {}
    for split, n_images, n_people, first in (
        ("train", N_IMAGES, N_PEOPLE, 1),
        ("val", N_VAL_IMAGES, N_VAL_PEOPLE, 10_000_000),
    ):
        rng = np.random.default_rng([SEED, first])
        docs[split] = _document(n_images, n_people, rng, first, False)
        _write_images(root / "images" / split, docs[split], sources)
    for path in sources.values():
        path.unlink()
    train = root / "annotations" / "person_keypoints_train.json"
    (root / "annotations" / "person_keypoints_val.json").write_bytes(orjson.dumps(docs["val"]))
    train.write_bytes(orjson.dumps(docs["train"]))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "dataset")
    _edit(docs["train"], np.random.default_rng(SEED + 1))
    train.write_bytes(orjson.dumps(docs["train"]))
    _git(repo, "commit", "-qam", "edits, ids kept")
    for n, ann in enumerate(docs["train"]["annotations"], start=1):
        ann["id"] = n
    train.write_bytes(orjson.dumps(docs["train"]))
    _git(repo, "commit", "-qam", "re-export: ids renumbered")
    (repo.parent / "params.json").write_text(PARAMS)
    print(f"generated {repo} in {time.perf_counter() - t0:.1f} s")


def _counts(repo: Path, *revs: str) -> str:
    out = subprocess.run(
        [PYTHON, "-m", "poselint", "diff", *revs, "--format", "json"],
        cwd=repo,
        check=True,
        capture_output=True,
    ).stdout
    [root] = json.loads(out)["roots"]
    train = next(s for s in root["splits"] if s["split"] == "train")
    return (
        f"people -{len(train['people_removed'])} +{len(train['people_added'])}, "
        f"{len(train['keypoints_moved'])} moved, {len(train['visibility_changed'])} flags, "
        f"{train['people_renumbered']} renumbered"
    )


def _run_process(argv: list[str]) -> tuple[float, float, float, int, str]:
    """Wall seconds, CPU seconds (user + system, git children included), peak RSS in MB,
    exit code and stderr of a fresh process. CPU time is the steadier figure on a busy
    machine: it does not count the time spent waiting for a core."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), err.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/poselint-bench-diff"))
    parser.add_argument("--regen", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repo = args.root / "repo"
    params = args.root / "params.json"
    if args.regen or not params.exists() or params.read_text() != PARAMS:
        args.root.mkdir(parents=True, exist_ok=True)
        subprocess.run([PYTHON, __file__, "--generate-only", str(repo)], check=True)
    _compile_package()
    poselint = [PYTHON, "-m", "poselint"]
    runs = {
        "check --no-image-size (working tree)": [
            *poselint, "check", "data/pose", "-q", "--format", "json", "--no-image-size",
            "--no-cache",
        ],
        "diff HEAD~2 HEAD~1 (ids kept)": [
            *poselint, "diff", "HEAD~2", "HEAD~1", "data/pose", "--format", "json"
        ],
        "diff HEAD~1 HEAD (ids renumbered)": [
            *poselint, "diff", "HEAD~1", "HEAD", "data/pose", "--format", "json"
        ],
        "diff HEAD~2 (git -> working tree)": [
            *poselint, "diff", "HEAD~2", "data/pose", "--format", "json"
        ],
    }  # fmt: skip
    os.chdir(repo)  # the diffs name revisions of this repository
    print(f"{repo}: {N_IMAGES:,} train images, {N_PEOPLE:,} people x 17 keypoints")
    print(f"fresh processes, best of {args.repeat}:")
    walls, cpus = {}, {}
    for label, argv in runs.items():
        best = None
        for _ in range(args.repeat):
            run = _run_process(argv)
            best = run if best is None or run[0] < best[0] else best
        assert best is not None
        wall, cpu, rss, code, err = best
        walls[label], cpus[label] = wall, cpu
        print(f"  {label:<38} wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak RSS {rss:6.0f} MB  "
              f"exit {code}")  # fmt: skip
        if code not in (0, 1):
            print(f"    stderr: {err[-800:]}")
    check = "check --no-image-size (working tree)"
    print("targets (diff <= 3x one check):")
    for label in runs:
        if label.startswith("diff"):
            print(f"  {label:<38} wall {walls[label] / walls[check]:.2f}x  "
                  f"cpu {cpus[label] / cpus[check]:.2f}x")  # fmt: skip
    print("what the diffs found (train split):")
    for revs in (("HEAD~2", "HEAD~1"), ("HEAD~1", "HEAD")):
        print(f"  {' -> '.join(revs)}: {_counts(repo, *revs)}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--generate-only":
        generate(Path(sys.argv[2]))
    else:
        main()
