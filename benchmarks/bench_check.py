"""Benchmark `poselint check` on a deterministic COCO-2017-scale dataset.

    .venv/bin/python benchmarks/bench_check.py [--root /tmp/poselint-bench] [--regen]

Generates (once; reused while its parameters match) a dataset root with a train split of
118,287 images and 262,465 people with 17 keypoints each (~118 MB of compact JSON, like
person_keypoints_train2017.json) plus a small val split. Images are four real JPEGs (one per
frame size) hard-linked 118k times, so generation takes seconds and the header reads still
open every file. Then prints, in one run:

- each pipeline stage in-process: read, orjson parse, tables, image index walk, each rule
  family, header reads;
- the pycocotools COCO() load time and peak RSS (for the memory target);
- wall time and peak RSS of `poselint check --no-image-size` and of `poselint check`, each in
  a fresh process, as a user runs it.

Figures, not assertions: targets live in the README's Performance section.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson

N_IMAGES = 118_287
N_PEOPLE = 262_465
N_VAL_IMAGES = 500
N_VAL_PEOPLE = 1_100
SEED = 2017
SIZES = [(640, 480), (480, 640), (640, 427), (427, 640)]
KEYPOINTS = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip
SKELETON = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
    [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip
PYTHON = sys.executable


def _document(n_images: int, n_people: int, rng: np.random.Generator, first_id: int) -> dict:
    size_of = rng.integers(0, len(SIZES), n_images)
    images = [
        {
            "license": 1,
            "file_name": f"{first_id + i:012d}.jpg",
            "coco_url": "",
            "height": SIZES[s][1],
            "width": SIZES[s][0],
            "date_captured": "2013-11-14 17:02:52",
            "flickr_url": "",
            "id": first_id + i,
        }
        for i, s in enumerate(size_of.tolist())
    ]
    image_of = np.sort(rng.integers(0, n_images, n_people))
    w = np.array([SIZES[s][0] for s in size_of])[image_of]
    h = np.array([SIZES[s][1] for s in size_of])[image_of]
    # a person box inside the frame, keypoints inside the box, a mix of v = 0, 1, 2
    bw = rng.integers(20, 200, n_people)
    bh = rng.integers(40, 300, n_people)
    bw, bh = np.minimum(bw, w - 2), np.minimum(bh, h - 2)
    bx = rng.integers(0, w - bw)
    by = rng.integers(0, h - bh)
    xs = bx[:, None] + rng.integers(0, bw[:, None] + 1, (n_people, 17))
    ys = by[:, None] + rng.integers(0, bh[:, None] + 1, (n_people, 17))
    vs = rng.choice([0, 1, 2], (n_people, 17), p=[0.45, 0.1, 0.45])
    vs[:, 0] = 2  # everyone has at least one labelled point (no PL606 warnings)
    xs[vs == 0] = 0
    ys[vs == 0] = 0
    kps = np.stack([xs, ys, vs], axis=2).reshape(n_people, 51).tolist()
    polygon = np.stack(
        [bx[:, None] + rng.integers(0, bw[:, None] + 1, (n_people, 7)),
         by[:, None] + rng.integers(0, bh[:, None] + 1, (n_people, 7))], axis=2
    ).reshape(n_people, 14).astype(np.float64) + 0.37  # fmt: skip
    annotations = [
        {
            "segmentation": [poly],
            "num_keypoints": int(nk),
            "area": float(area),
            "iscrowd": 0,
            "keypoints": kp,
            "image_id": first_id + int(img),
            "bbox": [float(x), float(y), float(ww), float(hh)],
            "category_id": 1,
            "id": 900_000 + first_id * 10 + j,
        }
        for j, (poly, nk, area, kp, img, x, y, ww, hh) in enumerate(
            zip(
                polygon.round(2).tolist(),
                (vs > 0).sum(axis=1).tolist(),
                (bw * bh * 0.6).tolist(),
                kps,
                image_of.tolist(),
                bx.tolist(),
                by.tolist(),
                bw.tolist(),
                bh.tolist(),
                strict=True,
            )
        )
    ]
    return {
        "info": {"description": "poselint benchmark", "version": "1.0", "year": 2017},
        "licenses": [{"url": "", "id": 1, "name": "synthetic"}],
        "images": images,
        "annotations": annotations,
        "categories": [
            {
                "supercategory": "person",
                "id": 1,
                "name": "person",
                "keypoints": KEYPOINTS,
                "skeleton": SKELETON,
            }
        ],
    }


def _write_images(folder: Path, doc: dict, sources: dict[tuple[int, int], Path]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for image in doc["images"]:
        os.link(sources[(image["width"], image["height"])], folder / image["file_name"])


def generate(root: Path) -> None:
    from PIL import Image

    t0 = time.perf_counter()
    if root.exists():
        shutil.rmtree(root)
    (root / "annotations").mkdir(parents=True)
    rng = np.random.default_rng(SEED)
    sources = {}
    for w, h in SIZES:  # real JPEGs with some texture, ~10-20 KB each
        path = root / f"source_{w}x{h}.jpg"
        Image.effect_noise((w, h), 30).convert("RGB").save(path, quality=75)
        sources[(w, h)] = path
    for split, n_images, n_people, first in (
        ("train", N_IMAGES, N_PEOPLE, 1),
        ("val", N_VAL_IMAGES, N_VAL_PEOPLE, 10_000_000),
    ):
        doc = _document(n_images, n_people, rng, first)
        (root / "annotations" / f"person_keypoints_{split}.json").write_bytes(orjson.dumps(doc))
        _write_images(root / "images" / split, doc, sources)
    for path in sources.values():
        path.unlink()  # the links keep the inodes; the root holds only images/ + annotations/
    (root.parent / f"{root.name}.params.json").write_text(json.dumps([N_IMAGES, N_PEOPLE, SEED, 2]))
    print(f"generated {root} in {time.perf_counter() - t0:.1f} s")


def _timed(label: str, fn: Any) -> Any:
    t0 = time.perf_counter()
    result = fn()
    print(f"  {label:<44} {time.perf_counter() - t0:7.3f} s")
    return result


def stages(root: Path) -> None:
    from poselint.config import Config
    from poselint.dataset import Dataset
    from poselint.engine import _run
    from poselint.imageindex import scan_images
    from poselint.loader import gc_paused, read_bytes
    from poselint.rules import REGISTRY
    from poselint.tables import build_tables

    train = root / "annotations" / "person_keypoints_train.json"
    print(f"stages, in-process ({train.stat().st_size / 1e6:.0f} MB train file):")
    data = _timed("read bytes", lambda: read_bytes(train, 2**34))
    assert isinstance(data, bytes)

    def parse() -> Any:
        with gc_paused():
            return orjson.loads(data)

    document = _timed("orjson parse (GC paused)", parse)
    _timed("tables (numpy views)", lambda: build_tables(document))
    _timed("image index (one scandir walk)", lambda: scan_images(root / "images" / "train"))
    del document, data
    gc.collect()

    dataset = Dataset(root, Config())
    split = next(s for s in dataset.splits if s.name == "train")
    _timed("load through Split.loaded (read + parse)", lambda: split.loaded)
    _timed("Split.tables", lambda: split.tables)
    _timed("Split.images", lambda: split.images)
    per_family: dict[str, float] = defaultdict(float)
    per_rule: dict[str, float] = {}
    for r in REGISTRY:
        if r.opt_in or r.scope != "document":
            continue
        t0 = time.perf_counter()
        n = sum(1 for _ in _run(r, split))
        per_rule[r.code] = time.perf_counter() - t0
        per_family[r.code[:3] + "xx"] += per_rule[r.code]
        if n:
            print(f"  ({r.code} found {n} on the benchmark data)")
    for family, seconds in sorted(per_family.items()):
        print(f"  rules {family:<38} {seconds:7.3f} s")
    slowest = sorted(per_rule.items(), key=lambda kv: -kv[1])[:5]
    print("  slowest rules: " + ", ".join(f"{c} {s:.3f} s" for c, s in slowest))
    if "PL503" in per_rule:
        print("  (PL503 includes reading every header; PL504 reuses them)")


def processes(root: Path) -> None:
    train = root / "annotations" / "person_keypoints_train.json"
    poselint = [PYTHON, "-m", "poselint", "check", str(root), "-q", "--format", "json"]
    runs = [
        ("orjson parse alone (python -c)", [PYTHON, "-c",
            "import gc,orjson,sys,time;d=open(sys.argv[1],'rb').read();gc.disable();"
            "t=time.perf_counter();orjson.loads(d);"
            "sys.stderr.write(f'{time.perf_counter()-t:.3f}')", str(train)]),
        ("pycocotools COCO() load", [PYTHON, "-c",
            "import sys,time,contextlib,io;from pycocotools.coco import COCO;"
            "t=time.perf_counter();f=io.StringIO();c=contextlib.redirect_stdout(f);c.__enter__();"
            "COCO(sys.argv[1]);c.__exit__(None,None,None);"
            "sys.stderr.write(f'{time.perf_counter()-t:.3f}')", str(train)]),
        ("poselint check --no-image-size", [*poselint, "--no-image-size"]),
        ("poselint check (image headers on)", poselint),
    ]  # fmt: skip
    print("fresh processes (wall time includes interpreter start and imports):")
    for label, argv in runs:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        inner = proc.stderr.read().decode().strip() if proc.stderr else ""
        code = os.waitstatus_to_exitcode(status)
        extra = f"  (timed inside: {inner} s)" if inner.replace(".", "").isdigit() else ""
        print(
            f"  {label:<36} wall {wall:6.2f} s  peak RSS {usage.ru_maxrss / 1024:6.0f} MB"
            f"  exit {code}{extra}"
        )
        if code not in (0,) and label.startswith("poselint"):
            print(f"    stderr: {inner[-500:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/poselint-bench/pose"))
    parser.add_argument("--regen", action="store_true", help="rebuild the dataset")
    parser.add_argument("--skip-stages", action="store_true")
    args = parser.parse_args()
    params = args.root.parent / f"{args.root.name}.params.json"
    current = json.dumps([N_IMAGES, N_PEOPLE, SEED, 2])
    if args.regen or not params.exists() or params.read_text() != current:
        args.root.parent.mkdir(parents=True, exist_ok=True)
        generate(args.root)
    print(f"dataset: {args.root} ({N_IMAGES:,} train images, {N_PEOPLE:,} people x 17 keypoints)")
    processes(args.root)  # first: a forked child's peak RSS counts the parent's memory
    if not args.skip_stages:
        stages(args.root)


if __name__ == "__main__":
    main()
