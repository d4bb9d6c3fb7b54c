"""--stats: dataset metrics as a small JSON file, for DVC `metrics` and `dvc metrics diff`.

Counted from the documents the rules already parsed (Split.loaded is cached): no second read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from poselint.diagnostics import displayable
from poselint.fsutil import atomic_write_bytes
from poselint.lazy import np
from poselint.load.dataset import Dataset, Split


def split_stats(split: Split) -> dict[str, Any]:
    """Counts over the numpy tables the rules built: keypoints are the triplets of annotations
    whose keypoints are 3k numbers (the schema and PL406 report any other)."""
    document = split.document
    assert document is not None
    images = document.get("images")
    annotations = document.get("annotations")
    flags = split.tables.kp[:, 2]
    by_flag = {f"v{v}": int(np.count_nonzero(flags == v)) for v in (0, 1, 2)}
    total = len(flags)
    return {
        "images": len(images) if isinstance(images, list) else 0,
        "annotations": len(annotations) if isinstance(annotations, list) else 0,
        "keypoints": {**by_flag, "total": total},
        # share of keypoint slots marked outside/not labelled (v=0)
        "outside_share": round(by_flag["v0"] / total, 4) if total else 0.0,
    }


def dataset_stats(ds: Dataset) -> dict[str, Any]:
    """Per split (as named on disk, shown as the reports show it), for the splits whose
    annotation file parsed."""
    return {
        displayable(split.name): split_stats(split)
        for split in ds.splits
        if split.document is not None
    }


def write_stats(path: Path, stats: dict[str, Any]) -> None:
    """{dataset root (relative to the cwd): {split: metrics}}; numbers only, so every leaf
    shows up in `dvc metrics show/diff`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(stats, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    atomic_write_bytes(path, data)
