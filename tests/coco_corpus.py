"""Every COCO document the schema and pycocotools differential tests run on.

The real samples, the clean builder documents, and mutations of a clean document: each
mutation breaks (or stretches) one thing the schema or the integrity rules talk about.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from builders import SAMPLES, clean_docs, coco, image, person

Doc = dict[str, Any]


def sample_documents() -> dict[str, Any]:
    return {
        f"sample:{path.relative_to(SAMPLES).as_posix()}": json.loads(path.read_text())
        for path in sorted(SAMPLES.rglob("*.json"))
    }


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    """A mutation that sets doc[path] (slash separated, ints index arrays) to value."""

    def apply(doc: Doc) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
        node: Any = doc
        for part in parents:
            node = node[part]
        node[last] = copy.deepcopy(value)

    return apply


def _delete(path: str) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split("/")]
        node: Any = doc
        for part in parents:
            node = node[part]
        del node[last]

    return apply


def _append(path: str, value: Any) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        node: Any = doc
        for part in [int(p) if p.isdigit() else p for p in path.split("/")]:
            node = node[part]
        node.append(copy.deepcopy(value))

    return apply


def _every_annotation(key: str, value: Any) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        for ann in doc["annotations"]:
            ann[key] = copy.deepcopy(value)

    return apply


def _many_annotations(doc: Doc) -> None:
    doc["annotations"] = [
        person(i, 1, [1, 2, 2, 3, 4, 2, 5, 6, 1, 7, 8, 2], iscrowd=2, area=-1)
        for i in range(1, 301)
    ]


def _deep(levels: int) -> list[Any]:
    """[[[...]]] nested `levels` deep: jsonschema-rs cannot return a failing value over 255."""
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


# name -> mutation of the clean train document
MUTATIONS: dict[str, Callable[[Doc], None]] = {
    # top level
    "no-images": _delete("images"),
    "no-annotations": _delete("annotations"),
    "no-categories": _delete("categories"),
    "no-info-no-licenses": lambda d: [d.pop(k) for k in ("info", "licenses")].clear(),
    "images-is-object": _set("images", {}),
    "annotations-is-null": _set("annotations", None),
    "categories-is-string": _set("categories", "person"),
    "info-is-array": _set("info", []),
    "licenses-is-object": _set("licenses", {}),
    "license-id-string": _set("licenses/0/id", "0"),
    "extra-top-level-key": _set("x_cvat_version", "2.20"),
    "deep-info": _set("info", _deep(300)),
    "deep-extra-key": _set("x_meta", {"a": _deep(300)}),
    "empty-arrays": lambda d: d.update(images=[], annotations=[]),
    # images
    "image-not-object": _set("images/0", [1, 2]),
    "image-id-string": _set("images/0/id", "1"),
    "image-id-bool": _set("images/0/id", True),
    "image-id-float-integral": _set("images/0/id", 1.0),
    "image-id-huge": _set("images/2/id", 2**62),
    "width-zero": _set("images/0/width", 0),
    "width-negative": _set("images/0/width", -64),
    "width-fractional": _set("images/0/width", 64.5),
    "width-integral-float": _set("images/0/width", 64.0),
    "width-string": _set("images/0/width", "64"),
    "height-missing": _delete("images/0/height"),
    "height-null": _set("images/0/height", None),
    "file-name-empty": _set("images/0/file_name", ""),
    "file-name-number": _set("images/0/file_name", 7),
    "file-name-missing": _delete("images/1/file_name"),
    "file-name-unicode": _set("images/2/file_name", "caméra/ü 1.jpg"),
    "date-captured-string": _set("images/0/date_captured", "2024-01-01 00:00:00"),
    "date-captured-null": _set("images/0/date_captured", None),
    "image-extra-keys": _set("images/0/x_meta", {"a": [1, {"b": None}]}),
    "image-deep": _set("images/1", _deep(300)),
    # annotations
    "annotation-not-object": _set("annotations/0", "person"),
    "keypoints-missing": _delete("annotations/0/keypoints"),
    "keypoints-string-value": _set("annotations/0/keypoints/4", "10"),
    "keypoints-null-value": _set("annotations/0/keypoints/0", None),
    "keypoints-bool-value": _set("annotations/0/keypoints/2", True),
    "keypoints-not-array": _set("annotations/0/keypoints", {"nose": [1, 2, 2]}),
    "keypoints-ints": _set("annotations/1/keypoints", [40, 30, 2, 45, 25, 2, 50, 35, 2, 55, 40, 1]),
    "keypoints-too-short": _set("annotations/0/keypoints", [10.5, 12.25, 2]),
    "keypoints-too-long": _append("annotations/0/keypoints", 0),
    "num-keypoints-missing": _delete("annotations/0/num_keypoints"),
    "num-keypoints-negative": _set("annotations/0/num_keypoints", -1),
    "num-keypoints-fraction": _set("annotations/0/num_keypoints", 2.5),
    "bbox-missing": _delete("annotations/0/bbox"),
    "bbox-three-numbers": _set("annotations/0/bbox", [1, 2, 3]),
    "bbox-five-numbers": _set("annotations/0/bbox", [1, 2, 3, 4, 5]),
    "bbox-negative-width": _set("annotations/0/bbox", [10, 10, -5, 5]),
    "bbox-negative-both": _set("annotations/0/bbox", [10, 10, -5, -5]),
    "bbox-string-element": _set("annotations/0/bbox/1", "12"),
    "bbox-null": _set("annotations/0/bbox", None),
    "bbox-outside-image": _set("annotations/0/bbox", [60, 40, 30, 30]),
    "bbox-negative-origin": _set("annotations/0/bbox", [-10, 0, 5, 5]),
    "bbox-within-tolerance": _set("annotations/0/bbox", [-0.5, -1, 64.5, 49]),
    "area-negative": _set("annotations/0/area", -0.5),
    "area-string": _set("annotations/0/area", "12"),
    "iscrowd-two": _set("annotations/0/iscrowd", 2),
    "iscrowd-true": _set("annotations/0/iscrowd", True),
    "info-empty-string": _set("info", ""),
    "licenses-empty-string": _set("licenses", ""),
    "iscrowd-float-zero": _set("annotations/0/iscrowd", 0.0),
    "iscrowd-string": _set("annotations/0/iscrowd", "0"),
    "iscrowd-missing": _delete("annotations/0/iscrowd"),
    "image-id-missing": _delete("annotations/0/image_id"),
    "image-id-null": _set("annotations/0/image_id", None),
    "category-id-string": _set("annotations/0/category_id", "1"),
    "annotation-id-float": _set("annotations/0/id", 1.5),
    "segmentation-polygon": _set("annotations/0/segmentation", [[1, 1, 5, 1, 5, 5]]),
    "segmentation-string": _set("annotations/0/segmentation", "polygon"),
    "segmentation-rle-list": _set(
        "annotations/0/segmentation", {"counts": [0, 20, 30], "size": [48, 64]}
    ),
    "segmentation-rle-string": _set(
        "annotations/0/segmentation", {"counts": "PQ1", "size": [48, 64]}
    ),
    "segmentation-rle-no-size": _set("annotations/0/segmentation", {"counts": [1, 2]}),
    "segmentation-rle-negative-count": _set(
        "annotations/0/segmentation", {"counts": [1, -2], "size": [48, 64]}
    ),
    "segmentation-polygon-strings": _set("annotations/0/segmentation", [["1", "2"]]),
    "crowd-with-rle": lambda d: d["annotations"][0].update(
        iscrowd=1, segmentation={"counts": [0, 5, 3067], "size": [48, 64]}
    ),
    "attributes-not-object": _set("annotations/0/attributes", ["occluded"]),
    "attributes-rich": _set("annotations/0/attributes", {"track_id": 3, "pose": "good", "x": None}),
    "attributes-deep": _set("annotations/0/attributes", {"x": _deep(300)}),
    "attributes-deep-array": _set("annotations/0/attributes", _deep(300)),
    "score-string": _set("annotations/0/score", "high"),
    "score-number": _set("annotations/0/score", 0.9),
    "every-annotation-broken": _every_annotation("iscrowd", "no"),
    "many-errors": _many_annotations,
    # categories
    "category-name-missing": _delete("categories/0/name"),
    "category-name-empty": _set("categories/0/name", ""),
    "category-id-missing": _delete("categories/1/id"),
    "category-keypoints-missing": _delete("categories/1/keypoints"),
    "category-skeleton-missing": _delete("categories/1/skeleton"),
    "category-keypoints-string": _set("categories/0/keypoints", "nose,left_eye"),
    "category-keypoint-name-number": _set("categories/0/keypoints/1", 1),
    "category-keypoint-name-empty": _set("categories/0/keypoints/1", ""),
    "category-keypoint-name-duplicate": _set("categories/0/keypoints/1", "nose"),
    "skeleton-triple": _set("categories/0/skeleton/0", [1, 2, 3]),
    "skeleton-single": _set("categories/0/skeleton/0", [1]),
    "skeleton-string": _set("categories/0/skeleton/0", ["1", "2"]),
    "skeleton-float": _set("categories/0/skeleton/0", [1.5, 2]),
    "skeleton-not-array": _set("categories/0/skeleton", {"1": 2}),
    "skeleton-zero-based": _set("categories/0/skeleton", [[0, 1], [1, 2]]),
    "skeleton-out-of-range": _append("categories/0/skeleton", [4, 5]),
    "skeleton-self-loop": _append("categories/0/skeleton", [3, 3]),
    "skeleton-duplicate-reversed": _append("categories/0/skeleton", [4, 2]),
    "supercategory-number": _set("categories/0/supercategory", 1),
    # integrity (schema-valid)
    "duplicate-image-id": _set("images/1/id", 1),
    "duplicate-annotation-id": _set("annotations/1/id", 1),
    "duplicate-category-id": _set("categories/1/id", 1),
    "dangling-image-id": _set("annotations/0/image_id", 99),
    "dangling-category-id": _set("annotations/0/category_id", 99),
    "keypoints-on-plain-category": _set("annotations/0/category_id", 6),
    "duplicate-file-name": _set("images/2/file_name", "img_001.jpg"),
    "plain-annotation-no-keypoints": _append(
        "annotations",
        {**person(9, 3, [], category_id=6), "bbox": [1.0, 1.0, 5.0, 5.0], "area": 25.0},
    ),
}


def mutated_documents() -> dict[str, Doc]:
    out = {}
    for name, mutate in MUTATIONS.items():
        doc = clean_docs()["train"]
        mutate(doc)
        out[f"mutation:{name}"] = doc
    return out


def builder_documents() -> dict[str, Any]:
    docs = {f"clean:{split}": doc for split, doc in clean_docs().items()}
    docs["clean:empty"] = coco([], [])
    docs["clean:one-image"] = coco([image(1, "a.jpg")], [])
    return docs


def all_documents() -> dict[str, Any]:
    """Every document of the test suite's corpus, by a name that says where it comes from."""
    return {**sample_documents(), **builder_documents(), **mutated_documents()}
