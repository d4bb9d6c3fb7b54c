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

Figures, not assertions: targets live in docs/performance.md.
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


def _document(
    n_images: int,
    n_people: int,
    rng: np.random.Generator,
    first_id: int,
    raw_cvat: bool,
    float32: bool = False,
) -> dict:
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
    if not raw_cvat:  # a raw CVAT export keeps the drawn position of outside points (PL601)
        xs[vs == 0] = 0
        ys[vs == 0] = 0
    if float32:  # sub-pixel positions that went through float32, as 16-17 digit decimals
        xs = (xs + rng.random((n_people, 17)) * 0.99).astype(np.float32).astype(np.float64)
        ys = (ys + rng.random((n_people, 17)) * 0.99).astype(np.float32).astype(np.float64)
        xs[vs == 0] = 0
        ys[vs == 0] = 0
        kps = [
            [v for triplet in zip(x, y, v, strict=True) for v in triplet]
            for x, y, v in zip(xs.tolist(), ys.tolist(), vs.tolist(), strict=True)
        ]
    else:
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


def _raw_root(root: Path) -> Path:
    return root.parent / f"{root.name}-raw-cvat"


def _float32_root(root: Path) -> Path:
    return root.parent / f"{root.name}-float32"


def generate(root: Path) -> None:
    from PIL import Image

    t0 = time.perf_counter()
    if root.exists():
        shutil.rmtree(root)
    (root / "annotations").mkdir(parents=True)
    raw, float32 = _raw_root(root), _float32_root(root)
    for twin in (raw, float32):
        if twin.exists():
            shutil.rmtree(twin)
        (twin / "annotations").mkdir(parents=True)
    twins = ((root, False, False), (raw, True, False), (float32, False, True))
    for target, is_raw, is_float32 in twins:
        sources = {}  # per root: a file takes at most 65,000 hard links
        for w, h in SIZES:  # real JPEGs with some texture, ~10-20 KB each
            path = target / f"source_{w}x{h}.jpg"
            Image.effect_noise((w, h), 30).convert("RGB").save(path, quality=75)
            sources[(w, h)] = path
        for split, n_images, n_people, first in (
            ("train", N_IMAGES, N_PEOPLE, 1),
            ("val", N_VAL_IMAGES, N_VAL_PEOPLE, 10_000_000),
        ):
            rng = np.random.default_rng([SEED, first])  # same seed: same people in each root
            doc = _document(n_images, n_people, rng, first, is_raw, is_float32)
            path = target / "annotations" / f"person_keypoints_{split}.json"
            path.write_bytes(orjson.dumps(doc))
            _write_images(target / "images" / split, doc, sources)
        for path in sources.values():
            path.unlink()  # the links keep the inodes; the root holds only images/ + annotations/
    params = json.dumps([N_IMAGES, N_PEOPLE, SEED, 4])
    (root.parent / f"{root.name}.params.json").write_text(params)
    print(f"generated {root} in {time.perf_counter() - t0:.1f} s")


def _timed(label: str, fn: Any) -> Any:
    t0 = time.perf_counter()
    result = fn()
    print(f"  {label:<44} {time.perf_counter() - t0:7.3f} s")
    return result


def stages(root: Path) -> None:
    from poselint.config import Config
    from poselint.engine import _run
    from poselint.load.dataset import Dataset
    from poselint.load.document import gc_paused, read_identified
    from poselint.load.imageindex import scan_images
    from poselint.rules import REGISTRY

    train = root / "annotations" / "person_keypoints_train.json"
    print(f"stages of the train split, in-process, GC paused as in the CLI "
          f"({train.stat().st_size / 1e6:.0f} MB file):")  # fmt: skip
    with gc_paused():
        raw: list[Any] = [_timed("read bytes", lambda: read_identified(train, 2**34)[0])]
        raw.append(_timed("orjson parse", lambda: orjson.loads(raw[0])))
        _timed("image index (one scandir walk)", lambda: scan_images(root / "images" / "train"))
        raw.clear()  # free the document before the pipeline loads its own
        gc.collect()

        dataset = Dataset(root, Config())
        split = next(s for s in dataset.splits if s.name == "train")
        _timed("Split.loaded (read + compact parse)", lambda: split.loaded)
        _timed("schema is_valid (jsonschema-rs)", lambda: split.schema_valid)
        assert split.keypoint_store is not None
        _timed("keypoint numbers -> numpy", lambda: split.keypoint_store.values)
        _timed("Split.tables", lambda: split.tables)
        _timed("Split.images", lambda: split.images)
        per_family: dict[str, float] = defaultdict(float)
        per_rule: dict[str, float] = {}
        for r in REGISTRY:
            if r.opt_in:
                continue
            subject: Any = dataset if r.scope == "dataset" else split
            t0 = time.perf_counter()
            n = sum(1 for _ in _run(r, subject))
            per_rule[r.code] = time.perf_counter() - t0
            per_family[r.code[:3] + "xx"] += per_rule[r.code]
            if n:
                print(f"  ({r.code} found {n} on the benchmark data)")
    for family, seconds in sorted(per_family.items()):
        print(f"  rules {family:<38} {seconds:7.3f} s")
    slowest = sorted(per_rule.items(), key=lambda kv: -kv[1])[:6]
    print("  slowest rules: " + ", ".join(f"{c} {s:.2f} s" for c, s in slowest))
    print("  (PL503 reads every image header; PL504 reuses what it read)")


def _run_process(argv: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS in MB, exit code and stderr of a fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, proc.returncode, err.strip()


def _compile_package() -> None:
    """Byte-compile poselint as `pip install` does: an editable install under
    PYTHONDONTWRITEBYTECODE=1 (as on the CI machine) would recompile its modules from source in
    every process, ~0.1 s that no installed copy pays."""
    import compileall

    import poselint

    compileall.compile_dir(Path(poselint.__file__).parent, quiet=1)


def processes(root: Path, repeat: int) -> None:
    train = root / "annotations" / "person_keypoints_train.json"
    _compile_package()
    # --no-cache: each run checks (a cached re-check is bench_cache.py's figure)
    poselint = [
        PYTHON,
        "-m",
        "poselint",
        "check",
        str(root),
        "-q",
        "--format",
        "json",
        "--no-cache",
    ]
    timed = "sys.stderr.write(f'{time.perf_counter()-t:.3f}')"
    runs = {
        "orjson parse alone": [PYTHON, "-c",
            "import gc,orjson,sys,time;d=open(sys.argv[1],'rb').read();gc.disable();"
            f"t=time.perf_counter();orjson.loads(d);{timed}", str(train)],
        "pycocotools COCO() load": [PYTHON, "-c",
            "import sys,time,contextlib,io;from pycocotools.coco import COCO;"
            "t=time.perf_counter()\nwith contextlib.redirect_stdout(io.StringIO()): "
            f"COCO(sys.argv[1])\n{timed}", str(train)],
        "poselint check --no-image-size": [*poselint, "--no-image-size"],
        "poselint check (headers on)": poselint,
        "raw CVAT export, --no-image-size": [
            PYTHON, "-m", "poselint", "check", str(_raw_root(root)), "-q", "--format", "json",
            "--no-image-size", "--no-cache",
        ],
        "float32 coords, --no-image-size": [
            PYTHON, "-m", "poselint", "check", str(_float32_root(root)), "-q", "--format",
            "json", "--no-image-size", "--no-cache",
        ],
    }  # fmt: skip
    print(f"fresh processes, best of {repeat} (wall includes interpreter start, imports, exit):")
    results = {}
    for label, argv in runs.items():
        best: tuple[float, float, int, str] | None = None
        for _ in range(repeat):  # the minimum is the least disturbed by other load
            run = _run_process(argv)
            best = run if best is None or run[0] < best[0] else best
        assert best is not None
        wall, rss, code, err = best
        inner = float(err) if err.replace(".", "", 1).isdigit() else None
        results[label] = (wall, rss, inner)
        note = f"  (timed inside: {inner:.2f} s)" if inner is not None else ""
        print(f"  {label:<32} wall {wall:6.2f} s  peak RSS {rss:6.0f} MB  exit {code}{note}")
        if code not in (0, 1) and inner is None:
            print(f"    stderr: {err[-800:]}")
    parse = results["orjson parse alone"][2] or results["orjson parse alone"][0]
    check, check_rss = results["poselint check --no-image-size"][:2]
    headers = results["poselint check (headers on)"][0] - check
    coco_rss = results["pycocotools COCO() load"][1]
    print("targets:")
    print(f"  check --no-image-size / orjson parse = {check / parse:.2f}  (target <= 2)")
    print(f"  check peak RSS / pycocotools peak RSS = {check_rss / coco_rss:.2f}  (target <= 1)")
    print(f"  image-header checks add {headers:.1f} s  (target <= 10 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/poselint-bench/pose"))
    parser.add_argument("--regen", action="store_true", help="rebuild the dataset")
    parser.add_argument("--skip-stages", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per process figure")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    params = args.root.parent / f"{args.root.name}.params.json"
    current = json.dumps([N_IMAGES, N_PEOPLE, SEED, 4])
    if args.generate_only:
        args.root.parent.mkdir(parents=True, exist_ok=True)
        generate(args.root)
        return
    if args.regen or not params.exists() or params.read_text() != current:
        # in a child: a forked child's peak RSS would include this generator's memory
        subprocess.run([PYTHON, __file__, "--generate-only", "--root", str(args.root)], check=True)
    print(f"dataset: {args.root} ({N_IMAGES:,} train images, {N_PEOPLE:,} people x 17 keypoints)")
    processes(args.root, args.repeat)  # first: a forked child's peak RSS counts the parent's memory
    if not args.skip_stages:
        stages(args.root)


if __name__ == "__main__":
    main()
