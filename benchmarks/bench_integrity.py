"""Time PL310 (schema, jsonschema-rs) and each PL4xx integrity rule at COCO-2017 scale.

    .venv/bin/python benchmarks/bench_integrity.py [--images 118287] [--people 262465]

Builds a deterministic train split (17 keypoints per person, clean, so every rule walks
everything and reports nothing) plus a small val split, parses it once as `poselint check`
does, then runs each rule alone and prints its wall time. Optionally (--reference) also times
python-jsonschema over the same document, which is the speed trap the fast path avoids.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from poselint.config import Config
from poselint.load.dataset import Dataset
from poselint.rules import rules_by_code

COCO_NAMES = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip
COCO_SKELETON = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
    [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip
CATEGORIES = [
    {"id": 1, "name": "person", "supercategory": "person", "keypoints": COCO_NAMES,
     "skeleton": COCO_SKELETON},
]  # fmt: skip


def person(rng: random.Random, ann_id: int, image_id: int, w: int, h: int) -> dict[str, Any]:
    keypoints: list[float] = []
    for _ in range(17):
        v = rng.choice((0, 1, 2, 2))
        keypoints += [0, 0, 0] if v == 0 else [rng.randint(0, w - 1), rng.randint(0, h - 1), v]
    # two decimals, as COCO writes them: keeps the file near COCO-2017's ~118 MB
    x, y = round(rng.uniform(0, w / 2), 2), round(rng.uniform(0, h / 2), 2)
    bw, bh = round(rng.uniform(1, w - x - 1), 2), round(rng.uniform(1, h - y - 1), 2)
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": 1,
        "segmentation": [],
        "area": round(bw * bh, 2),
        "bbox": [x, y, bw, bh],
        "iscrowd": 0,
        "keypoints": keypoints,
        "num_keypoints": sum(1 for v in keypoints[2::3] if v > 0),
    }


def document(n_images: int, n_people: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    images = [
        {"id": i, "width": 640, "height": 480, "file_name": f"{i:012d}.jpg", "license": 0}
        for i in range(1, n_images + 1)
    ]
    annotations = [
        person(rng, a, rng.randint(1, n_images), 640, 480) for a in range(1, n_people + 1)
    ]
    return {
        "info": {},
        "licenses": [],
        "categories": CATEGORIES,
        "images": images,
        "annotations": annotations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=118_287)
    parser.add_argument("--people", type=int, default=262_465)
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--reference", action="store_true", help="also time python-jsonschema")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for split, doc in (
            ("train", document(args.images, args.people, args.seed)),
            ("val", document(50, 100, args.seed + 1)),
        ):
            (root / "images" / split).mkdir(parents=True)
            (root / "annotations").mkdir(exist_ok=True)
            (root / "annotations" / f"person_keypoints_{split}.json").write_bytes(orjson.dumps(doc))
        path = root / "annotations" / "person_keypoints_train.json"
        print(f"train: {args.images:,} images, {args.people:,} people, "
              f"{path.stat().st_size / 1e6:.0f} MB")  # fmt: skip

        dataset = Dataset(root, Config())
        train = next(s for s in dataset.splits if s.name == "train")
        start = time.perf_counter()
        assert train.document is not None
        print(f"{'parse train (orjson, once)':<36} {time.perf_counter() - start:7.3f} s")
        assert all(s.document is not None for s in dataset.splits)  # val too, before timing
        start = time.perf_counter()
        assert train.tables is not None
        print(f"{'numpy tables (shared, built once)':<36} {time.perf_counter() - start:7.3f} s")

        total = 0.0
        rules = rules_by_code()
        for code in ["PL310", *sorted(c for c in rules if c.startswith("PL4") and c != "PL490")]:
            rule = rules[code]
            if rule.opt_in:
                continue
            subject = dataset if rule.scope == "dataset" else train
            start = time.perf_counter()
            findings = sum(1 for _ in rule.check(subject))
            elapsed = time.perf_counter() - start
            total += elapsed
            print(f"{code} {rule.name:<30} {elapsed:7.3f} s  ({findings} findings)")
        print(f"{'all of the above':<36} {total:7.3f} s")

        # A broken exporter: every keypoint value a string (4.5 million schema errors).
        broken = train.document
        for ann in broken["annotations"]:
            ann["keypoints"] = ["x"] * len(ann["keypoints"])
        start = time.perf_counter()
        findings = sum(1 for _ in rules["PL310"].check(train))
        print(f"{'PL310 on 4.5M errors (first 10k)':<36} {time.perf_counter() - start:7.3f} s  "
              f"({findings} findings)")  # fmt: skip

        if args.reference:
            import jsonschema

            from poselint.load.schema import load_schema

            start = time.perf_counter()
            validator = jsonschema.Draft202012Validator(load_schema())
            n = sum(1 for _ in validator.iter_errors(train.document))
            print(f"{'python-jsonschema (reference)':<36} {time.perf_counter() - start:7.3f} s "
                  f"({n} errors)")  # fmt: skip


if __name__ == "__main__":
    main()
