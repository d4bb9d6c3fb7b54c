"""Build datasets on disk the way CVAT exports them, with real images of known sizes."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

from PIL import Image

SAMPLES = Path(__file__).parent / "data" / "samples"

PERSON: dict[str, Any] = {
    "id": 1,
    "name": "person",
    "supercategory": "",
    "keypoints": ["nose", "left_eye", "right_eye", "left_ear"],
    "skeleton": [[2, 4], [1, 2], [1, 3]],
}
# A plain label next to the skeleton, as CVAT writes it (non-contiguous id, no keypoints).
CAR: dict[str, Any] = {"id": 6, "name": "car", "supercategory": "", "keypoints": [], "skeleton": []}


def image(id: int, file_name: str, width: int = 64, height: int = 48) -> dict[str, Any]:
    return {
        "id": id,
        "width": width,
        "height": height,
        "file_name": file_name,
        "license": 0,
        "flickr_url": "",
        "coco_url": "",
        "date_captured": 0,
    }


def person(id: int, image_id: int, keypoints: list[float], **extra: Any) -> dict[str, Any]:
    xs = [keypoints[i] for i in range(0, len(keypoints), 3) if keypoints[i + 2] > 0]
    ys = [keypoints[i + 1] for i in range(0, len(keypoints), 3) if keypoints[i + 2] > 0]
    bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)] if xs else [0, 0, 0, 0]
    ann = {
        "id": id,
        "image_id": image_id,
        "category_id": 1,
        "segmentation": [],
        "area": float(bbox[2] * bbox[3]),
        "bbox": [float(v) for v in bbox],
        "iscrowd": 0,
        "attributes": {"occluded": False, "keyframe": False},
        "keypoints": keypoints,
        "num_keypoints": sum(1 for v in keypoints[2::3] if v > 0),
    }
    ann.update(extra)
    return ann


def coco(
    images: list[dict[str, Any]],
    annotations: list[dict[str, Any]],
    categories: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {
            "contributor": "",
            "date_created": "",
            "description": "",
            "url": "",
            "version": "",
            "year": "",
        },
        "categories": copy.deepcopy(categories if categories is not None else [PERSON, CAR]),
        "images": images,
        "annotations": annotations,
    }


def clean_docs() -> dict[str, dict[str, Any]]:
    """A small clean dataset: nested file names, a .PNG frame, an unannotated image,
    an outside point already zeroed, and an occluded point."""
    train = coco(
        [
            image(1, "img_001.jpg"),
            image(2, "nested/dir/img_002.png", 80, 60),
            image(3, "img_003.jpg"),
        ],
        [
            person(1, 1, [10.5, 12.25, 2, 20, 10, 1, 0, 0, 0, 30, 20, 2]),
            person(2, 2, [40, 30, 2, 45, 25, 2, 50, 35, 2, 55, 40, 1]),
        ],
    )
    val = coco(
        [image(4, "frame_000007.PNG")], [person(1, 4, [5, 6, 2, 7, 8, 2, 9, 10, 1, 11, 12, 2])]
    )
    return {"train": train, "val": val}


def write_image(path: Path, width: int, height: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "PNG" if path.suffix.lower() == ".png" else "JPEG"
    Image.new("RGB", (width, height), (120, 80, 40)).save(path, fmt)


def write_json(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")


def build_dataset(
    root: Path,
    docs: dict[str, dict[str, Any]] | None = None,
    *,
    images: bool = True,
) -> Path:
    """Write annotations/person_keypoints_<split>.json and images/<split>/<file_name>s."""
    docs = clean_docs() if docs is None else docs
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    for split, doc in docs.items():
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        write_json(root / "annotations" / f"person_keypoints_{split}.json", doc)
        if images:
            for img in doc.get("images", []):
                if isinstance(img, dict) and isinstance(img.get("file_name"), str):
                    write_image(
                        root / "images" / split / img["file_name"],
                        int(img.get("width", 64)),
                        int(img.get("height", 48)),
                    )
    return root


def cvat_export(root: Path) -> Path:
    """The real fork export from tests/data/samples, with its images made real."""
    src = SAMPLES / "datumaro-export" / "cvat-ai-datumaro-fork" / "annotations"
    docs = {}
    for f in sorted(src.glob("person_keypoints_*.json")):
        split = f.stem.removeprefix("person_keypoints_")
        docs[split] = json.loads(f.read_text())
    return build_dataset(root, docs)


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
