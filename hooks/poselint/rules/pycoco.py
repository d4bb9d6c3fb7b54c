"""PL490/PL491 (opt-in): the file as the reference COCO API sees it."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from typing import Any

from poselint.diagnostics import json_pointer
from poselint.lazy import np
from poselint.load.dataset import Split
from poselint.rules.base import Finding, rule

COCO_KEYPOINTS = 17  # COCOeval's default kpt_oks_sigmas are for COCO's 17 person keypoints
# OKS sigma for categories of another K: COCO's per-joint sigmas average about 0.0625.
UNIFORM_SIGMA = 0.0625


def oks_sigmas(k: int) -> Any:
    """COCOeval's per-keypoint sigmas for a category with k keypoints."""
    from pycocotools.cocoeval import Params  # opt-in rules: pycocotools only when they run

    if k == COCO_KEYPOINTS:
        return Params(iouType="keypoints").kpt_oks_sigmas
    return np.full(k, UNIFORM_SIGMA)


def evaluate_against_itself(document: dict[str, Any]) -> None:
    """Load the document into pycocotools and run a keypoint COCOeval of it against itself.

    Raises whatever pycocotools raises. One evaluation per category with keypoints, since one
    COCOeval applies one sigma vector, of one length, to every category it evaluates.
    """
    # opt-in rules (PL490, PL491): pycocotools, an optional extra, only when they run
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    # COCOeval writes an `ignore` key into every ground-truth annotation: give it copies, so the
    # parsed document other rules and --fix see is not changed.
    annotations = [dict(a) for a in document["annotations"]]
    # pycocotools prints progress, and numpy may warn on degenerate boxes: neither is ours to show
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coco = COCO()
        coco.dataset = {**document, "annotations": annotations}
        coco.createIndex()
        counts = {c["id"]: len(c.get("keypoints") or []) for c in coco.dataset["categories"]}
        for category_id, k in counts.items():
            detections = [
                {
                    "image_id": a["image_id"],
                    "category_id": category_id,
                    "keypoints": list(a["keypoints"]),
                    "score": 1.0,
                }
                for a in annotations
                if a["category_id"] == category_id and a["keypoints"]
            ]
            if not k or not detections:
                continue  # loadRes cannot take an empty result list
            evaluation = COCOeval(coco, coco.loadRes(detections), iouType="keypoints")
            evaluation.params.catIds = [category_id]
            evaluation.params.kpt_oks_sigmas = oks_sigmas(k)
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()


@rule(
    "PL490",
    "pycocotools-load",
    what="The file does not load into `pycocotools.coco.COCO`, or a keypoint `COCOeval` of it "
    "against itself fails. Slow at COCO-2017 scale (minutes): opt in with `--select PL490`.",
    why="pycocotools is what evaluation code runs; this proves the file works there, with "
    "pycocotools' own code rather than poselint's reading of the format.",
    scope="document",
    opt_in=True,
)
def pycocotools_load(split: Split) -> Iterator[Finding]:
    assert split.document is not None
    try:
        document = split.document
        if isinstance(document.get("annotations"), list):  # as written, not as held compact
            count = len(document["annotations"])
            written = [split.annotation_as_written(j) for j in range(count)]
            document = {**document, "annotations": written}
        evaluate_against_itself(document)
    except Exception as exc:  # any failure inside pycocotools is the finding itself
        yield Finding(f"pycocotools fails on this file: {type(exc).__name__}: {exc}", pointer="")


@rule(
    "PL491",
    "non-coco-keypoint-count",
    what="A category with keypoints has K != 17 keypoint names, so COCOeval's default OKS sigmas "
    "do not apply. Opt in with `--select PL491` when you evaluate with COCOeval.",
    why="COCOeval's default sigmas are COCO's 17 person joints: with another K it crashes, or "
    "scores with sigmas meant for other joints. Set `params.kpt_oks_sigmas` for your skeleton.",
    scope="document",
    severity="warning",
    opt_in=True,
)
def non_coco_keypoint_count(split: Split) -> Iterator[Finding]:
    categories = split.document.get("categories") if split.document else None
    for c, category in enumerate(categories if isinstance(categories, list) else []):
        names = category.get("keypoints") if isinstance(category, dict) else None
        if isinstance(names, list) and names and len(names) != COCO_KEYPOINTS:
            yield Finding(
                f"category {category.get('name')!r} has {len(names)} keypoints, not "
                f"{COCO_KEYPOINTS}: set COCOeval's params.kpt_oks_sigmas to {len(names)} sigmas",
                pointer=json_pointer("categories", c, "keypoints"),
            )
