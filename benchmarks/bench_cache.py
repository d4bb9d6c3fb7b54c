"""Benchmark what a commit feels: the cache, parallel header reads, start-up (issue 18).

    .venv/bin/python benchmarks/bench_cache.py [--root /tmp/poselint-bench-cache] [--scale 1]

Generates (once per scale) a COCO-2017-scale dataset with bench_check.py's generator: a train
split of 118,287 images and 262,465 people, a val split of 500 images, the images hard links
to four real JPEGs; and a small dataset (300 images). Then prints, each figure the median of
--repeat fresh processes (min in brackets) of `poselint check ROOT -q --format json`:

- the first, uncached run and a re-check of the unchanged dataset (diagnostics from the cache);
- one split changed (val's annotation file touched before each run), against an uncached
  check of a root holding that split alone;
- header reads of every train image in this process: one thread (the reference) against
  read_headers' own choice and 2, 4 and 16 threads;
- the small dataset: `poselint rules`, `poselint check` uncached and cached.

The load average is printed first: on a shared machine every figure moves with it.
Figures, not assertions: the targets and measured values are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
import numpy as np
from bench_check import (
    N_IMAGES,
    N_PEOPLE,
    N_VAL_IMAGES,
    N_VAL_PEOPLE,
    SEED,
    SIZES,
    _compile_package,
    _document,
)

PYTHON = sys.executable
SMALL_IMAGES = 300


def _generate(root: Path, scale: float) -> None:
    from PIL import Image

    marker = root / "params.json"
    params = orjson.dumps([N_IMAGES, N_PEOPLE, SEED, scale])
    if marker.exists() and marker.read_bytes() == params:
        return
    t0 = time.perf_counter()
    if root.exists():
        shutil.rmtree(root)
    sources = {}
    for w, h in SIZES:
        path = root / f"source_{w}x{h}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.effect_noise((w, h), 30).convert("RGB").save(path, quality=75)
        sources[(w, h)] = path
    splits = (
        ("train", int(N_IMAGES * scale), int(N_PEOPLE * scale), 1),
        ("val", N_VAL_IMAGES, N_VAL_PEOPLE, 10_000_000),
    )
    for name, n_images, n_people, first in splits:
        rng = np.random.default_rng([SEED, first])
        doc = _document(n_images, n_people, rng, first, raw_cvat=False)
        for dataset in ("coco", "val-only") if name == "val" else ("coco",):
            (root / dataset / "annotations").mkdir(parents=True, exist_ok=True)
            (root / dataset / "annotations" / f"person_keypoints_{name}.json").write_bytes(
                orjson.dumps(doc)
            )
            folder = root / dataset / "images" / name
            folder.mkdir(parents=True)
            for image in doc["images"]:
                # a file takes at most 65,000 hard links: a fresh source every 60,000
                source = sources[(image["width"], image["height"])]
                if source.stat().st_nlink >= 60_000:
                    shutil.copyfile(source, source.with_suffix(".next"))
                    os.replace(source.with_suffix(".next"), source)
                os.link(source, folder / image["file_name"])
    small = _document(SMALL_IMAGES, SMALL_IMAGES * 2, np.random.default_rng([SEED, 7]), 1, False)
    (root / "small" / "annotations").mkdir(parents=True)
    (root / "small" / "annotations" / "person_keypoints_train.json").write_bytes(
        orjson.dumps(small)
    )
    (root / "small" / "images" / "train").mkdir(parents=True)
    for image in small["images"]:
        os.link(
            sources[(image["width"], image["height"])],
            root / "small" / "images" / "train" / image["file_name"],
        )
    val = _document(50, 100, np.random.default_rng([SEED, 8]), 5000, False)
    (root / "small" / "annotations" / "person_keypoints_val.json").write_bytes(orjson.dumps(val))
    (root / "small" / "images" / "val").mkdir(parents=True)
    for image in val["images"]:
        os.link(
            sources[(image["width"], image["height"])],
            root / "small" / "images" / "val" / image["file_name"],
        )
    for path in sources.values():
        path.unlink()
    marker.write_bytes(params)
    print(f"generated {root} in {time.perf_counter() - t0:.1f} s")
    time.sleep(2.1)  # past the cache's racy window (cache.RACY_SECONDS): entries are stored


def _wall(argv: list[str], env: dict[str, str], before: object = None) -> float:
    if callable(before):
        before()
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv}: exit {proc.returncode}: {proc.stderr.decode()[-800:]}")
    return wall


def _figure(label: str, walls: list[float]) -> float:
    median = statistics.median(walls)
    print(f"  {label:<52} {median:6.3f} s  [min {min(walls):.3f}]")
    return median


def _check(root: Path, *extra: str) -> list[str]:
    return [PYTHON, "-m", "poselint", "check", str(root), "-q", "--format", "json", *extra]


def processes(base: Path, repeat: int) -> None:
    cache = Path(tempfile.mkdtemp(prefix="poselint-bench-cache-"))
    env = dict(os.environ, POSELINT_CACHE_DIR=str(cache))
    coco, val_only, small = base / "coco", base / "val-only", base / "small"

    def clear() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def touch_val() -> None:
        os.utime(coco / "annotations" / "person_keypoints_val.json")

    print(f"COCO-2017 scale ({coco}), fresh processes, median of {repeat}:")
    first = _figure("first run, uncached", [_wall(_check(coco), env, clear) for _ in range(repeat)])
    _wall(_check(coco), env)  # stored
    again = _figure(
        "re-check, unchanged (from the cache)", [_wall(_check(coco), env) for _ in range(repeat)]
    )
    print(f"    re-check / first = {again / first:.3f}  (targets: <= 0.3 s and <= 0.15)")
    _wall(_check(coco, "--no-image-size"), env)  # stored
    _figure(
        "re-check, unchanged, --no-image-size (no image stats)",
        [_wall(_check(coco, "--no-image-size"), env) for _ in range(repeat)],
    )
    changed = _figure(
        "val changed (touched), train from the cache",
        [_wall(_check(coco), env, touch_val) for _ in range(repeat)],
    )
    alone = _figure(
        "val alone, uncached (a root holding only val)",
        [_wall(_check(val_only, "--no-cache"), env) for _ in range(repeat)],
    )
    print(f"    changed - alone = {changed - alone:+.3f} s  (target: <= +0.2 s)")
    print(f"small dataset ({SMALL_IMAGES} + 50 images), fresh processes, median of {repeat * 2}:")
    _figure(
        "poselint rules",
        [_wall([PYTHON, "-m", "poselint", "rules"], env) for _ in range(repeat * 2)],
    )
    _figure(
        "check, uncached (--no-cache)",
        [_wall(_check(small, "--no-cache"), env) for _ in range(repeat * 2)],
    )
    _wall(_check(small), env)
    _figure("check, cached", [_wall(_check(small), env) for _ in range(repeat * 2)])
    _figure(
        "python -c pass (the interpreter alone)",
        [_wall([PYTHON, "-c", "pass"], env) for _ in range(repeat * 2)],
    )
    print("    target: check of a small dataset <= 0.2 s")
    shutil.rmtree(cache, ignore_errors=True)


def stages(base: Path) -> None:
    """Where a cached re-check's time goes, in this process (imports already paid)."""
    from poselint.cachekey import code_fingerprint, split_key
    from poselint.config import load_config
    from poselint.engine import select_rules
    from poselint.load.dataset import Dataset

    print("a cached re-check's work, train split, in this process:")
    config = load_config(None)
    rules = select_rules(config)
    t0 = time.perf_counter()
    dataset = Dataset(base / "coco", config)
    train = next(s for s in dataset.splits if s.name == "train")
    t1 = time.perf_counter()
    index = train.images
    t2 = time.perf_counter()
    split_key(train, config, rules, code_fingerprint(), time.time_ns())
    t3 = time.perf_counter()
    print(f"  {'layout scan':<52} {t1 - t0:6.3f} s")
    print(
        f"  {f'image folder listing ({len(index.files) if index else 0:,} entries)':<52} "
        f"{t2 - t1:6.3f} s"
    )
    print(f"  {'its key (listing digest + a stat of every image)':<52} {t3 - t2:6.3f} s")


def headers(base: Path, repeat: int) -> None:
    from poselint.load.imageheader import read_headers, read_headers_serial

    folder = os.path.join(base / "coco" / "images" / "train", "")
    paths = [folder + name for name in sorted(os.listdir(folder))]
    print(f"header reads of {len(paths):,} images in this process, median of {repeat}:")
    reference = None
    one = 0.0
    for label, read in (
        ("1 thread (read_headers_serial)", read_headers_serial),
        ("read_headers (a probe chooses: 1 thread from the page cache)", read_headers),
        ("2 threads", lambda p: read_headers(p, threads=2)),
        ("4 threads", lambda p: read_headers(p, threads=4)),
        ("16 threads (what files slow to read get)", lambda p: read_headers(p, threads=16)),
    ):
        walls = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            found = read(paths)
            walls.append(time.perf_counter() - t0)
            assert reference is None or found == reference
            reference = found
        median = _figure(label, walls)
        one = one or median
        print(f"    speed-up over 1 thread: {one / median:.2f}x  (target >= 1.7x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/poselint-bench-cache"))
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of COCO's train")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-headers", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}, {os.cpu_count()} cores")
    _generate(args.root, args.scale)
    _compile_package()  # as installed: no process recompiles poselint's modules
    processes(args.root, args.repeat)
    stages(args.root)
    if not args.skip_headers:
        headers(args.root, args.repeat)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
