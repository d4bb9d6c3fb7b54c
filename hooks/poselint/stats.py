"""--stats: dataset metrics as a small JSON file, for DVC `metrics` and `dvc metrics diff`.

Counted from the documents the rules already parsed (Split.loaded is cached): no second read.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from pathlib import Path
from typing import Any

import orjson

from poselint.dataset import Dataset
from poselint.fsutil import atomic_write_bytes


def _visibility_counts(annotations: list[Any]) -> Counter[Any]:
    triplet_flags = (
        a["keypoints"][2::3]
        for a in annotations
        if isinstance(a, dict) and isinstance(a.get("keypoints"), list)
    )
    try:
        return Counter(chain.from_iterable(triplet_flags))  # C loop over millions of flags
    except TypeError:  # an unhashable flag (a list): count what can be counted
        counts: Counter[Any] = Counter()
        for a in annotations:
            if isinstance(a, dict) and isinstance(a.get("keypoints"), list):
                counts.update(v for v in a["keypoints"][2::3] if isinstance(v, (int, float)))
        return counts


def split_stats(document: dict[str, Any]) -> dict[str, Any]:
    images = document.get("images")
    annotations = document.get("annotations")
    annotations = annotations if isinstance(annotations, list) else []
    flags = _visibility_counts(annotations)
    by_flag = {f"v{v}": sum(n for k, n in flags.items() if k == v) for v in (0, 1, 2)}
    total = sum(flags.values())
    return {
        "images": len(images) if isinstance(images, list) else 0,
        "annotations": len(annotations),
        "keypoints": {**by_flag, "total": total},
        # share of keypoint slots marked outside/not labelled (v=0)
        "outside_share": round(by_flag["v0"] / total, 4) if total else 0.0,
    }


def dataset_stats(ds: Dataset) -> dict[str, Any]:
    """Per split (as named on disk), for the splits whose annotation file parsed."""
    return {
        split.name: split_stats(split.document) for split in ds.splits if split.document is not None
    }


def write_stats(path: Path, stats: dict[str, Any]) -> None:
    """{dataset root (relative to the cwd): {split: metrics}}; numbers only, so every leaf
    shows up in `dvc metrics show/diff`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(stats, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    atomic_write_bytes(path, data)
