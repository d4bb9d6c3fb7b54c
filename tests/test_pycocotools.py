"""pycocotools: the opt-in rules PL490/PL491, and the differential test behind the promise
"every file poselint passes loads in pycocotools and survives a keypoint COCOeval"."""

from __future__ import annotations

import contextlib
import copy
import io
import re
from pathlib import Path

import numpy as np
import pytest
from coco_corpus import all_documents, mutated_documents
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from builders import clean_docs, coco, image, person, write_image
from poselint.rules.pycoco import evaluate_against_itself, oks_sigmas

COCO_17 = {
    "id": 1,
    "name": "person",
    "supercategory": "person",
    "keypoints": [f"joint_{i}" for i in range(17)],
    "skeleton": [[i, i + 1] for i in range(1, 17)],
}


def _records(cli, root, *select):
    result = cli("check", root, "--format", "json", "--select", ",".join(select))
    assert result.code in (0, 1), result
    records = result.json()
    assert not [r for r in records if r["code"] == "PL000"], records
    return records


def _train(make_dataset, doc):
    return make_dataset({"train": doc, "val": clean_docs()["val"]}, images=False)


# --- PL490 pycocotools-load ----------------------------------------------------------------


def test_pl490_clean_dataset_and_real_export_pass(make_dataset, make_cvat_export, cli):
    assert _records(cli, make_dataset(images=False), "PL490") == []
    assert _records(cli, make_cvat_export(), "PL490") == []


@pytest.mark.parametrize(
    ("mutation", "words"),
    [
        ("keypoints-too-short", "IndexError"),  # OKS of 1 triplet against 4 sigmas
        ("dangling-image-id", "Results do not correspond to current coco set"),
        ("no-annotations", "KeyError: 'annotations'"),
        ("bbox-missing", "KeyError: 'bbox'"),
    ],
)
def test_pl490_reports_what_pycocotools_fails_on(make_dataset, cli, mutation, words):
    root = _train(make_dataset, mutated_documents()[f"mutation:{mutation}"])
    [record] = [r for r in _records(cli, root, "PL490") if r["code"] == "PL490"]
    assert record["pointer"] == "" and record["path"].endswith("person_keypoints_train.json")
    assert words in str(record["message"]) and "pycocotools fails" in str(record["message"])


def test_pl490_is_opt_in(make_dataset, cli):
    root = _train(make_dataset, mutated_documents()["mutation:keypoints-too-short"])
    assert "PL490" not in {r["code"] for r in _records(cli, root, "PL4")}
    assert "PL490" in {r["code"] for r in _records(cli, root, "ALL")}


def test_pl490_output_carries_no_pycocotools_prints(make_dataset, cli):
    result = cli("check", make_dataset(images=False), "--select", "PL490")
    assert result.code == 0, result
    assert "index" not in result.out + result.err and "DONE" not in result.out + result.err
    assert result.out.strip() == "All checks passed!"


def test_pl490_does_not_change_the_parsed_document():
    doc = clean_docs()["train"]
    before = copy.deepcopy(doc)
    evaluate_against_itself(doc)
    assert doc == before  # COCOeval adds `ignore` to ground truths: it must get copies


def test_self_evaluation_is_a_real_evaluation():
    # Break one prediction on purpose: the same code path then scores below a perfect 1.0,
    # so a pass above is pycocotools evaluating, not skipping.
    doc = coco([image(1, "a.jpg", 640, 480)], [person(1, 1, [100, 100, 2] * 17)], [COCO_17])
    gt = COCO()
    with contextlib.redirect_stdout(io.StringIO()):
        gt.dataset = doc
        gt.createIndex()
        detections = [
            {"image_id": 1, "category_id": 1, "keypoints": [300, 300, 2] * 17, "score": 1.0}
        ]
        evaluation = COCOeval(gt, gt.loadRes(detections), iouType="keypoints")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    assert evaluation.stats[0] == 0.0


def test_oks_sigmas_match_k():
    assert len(oks_sigmas(4)) == 4 and len(oks_sigmas(17)) == 17
    assert oks_sigmas(17)[0] == pytest.approx(0.026)  # COCO's nose sigma


# --- PL491 non-coco-keypoint-count ---------------------------------------------------------


def test_pl491_warns_for_k_other_than_17(make_dataset, cli):
    result = cli("check", make_dataset(images=False), "--format", "json", "--select", "PL491")
    assert result.code == 0  # a warning
    records = result.json()
    assert {(r["code"], r["severity"], r["pointer"]) for r in records} == {
        ("PL491", "warning", "/categories/0/keypoints")
    }
    assert "has 4 keypoints, not 17" in str(records[0]["message"])


def test_pl491_silent_for_coco_17_and_plain_labels(make_dataset, cli):
    doc = coco(
        [image(1, "a.jpg", 640, 480)],
        [person(1, 1, [100, 100, 2] * 17)],
        [COCO_17, {"id": 6, "name": "car", "keypoints": [], "skeleton": []}],
    )
    assert _records(cli, make_dataset({"train": doc}, images=False), "PL491") == []


def test_pl491_is_opt_in(make_dataset, cli):
    assert "PL491" not in {r["code"] for r in _records(cli, make_dataset(images=False), "PL4")}


# --- differential: poselint passes => pycocotools loads and evaluates ----------------------


def _write_images(root: Path, doc: object) -> None:
    """Real images for every well-formed image entry, so the image rules can pass too."""
    images = doc.get("images") if isinstance(doc, dict) else None
    for img in images if isinstance(images, list) else []:
        if not isinstance(img, dict):
            continue
        name, w, h = img.get("file_name"), img.get("width"), img.get("height")
        sizes_ok = all(type(v) in (int, float) and v >= 1 and v == int(v) for v in (w, h))
        safe = (
            isinstance(name, str) and re.fullmatch(r"[\w. -][\w./ -]*", name) and ".." not in name
        )
        if safe and sizes_ok:
            write_image(root / "images" / "train" / name, int(w), int(h))


def _val_for(doc: object) -> dict:
    """A val split with the same categories and no images, so PL412 compares equal sets."""
    if isinstance(doc, dict) and isinstance(doc.get("categories"), list):
        return {**copy.deepcopy(doc), "images": [], "annotations": []}
    return clean_docs()["val"]


def _pycocotools_self_evaluation(path: Path) -> list[float]:
    """COCO() from the file path, then COCOeval(iouType='keypoints') of it against itself."""
    stats = []
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(path))
        for category in gt.loadCats(gt.getCatIds()):
            k = len(category.get("keypoints") or [])
            anns = gt.loadAnns(gt.getAnnIds(catIds=[category["id"]]))
            detections = [
                {"image_id": a["image_id"], "category_id": a["category_id"],
                 "keypoints": a["keypoints"], "score": 1.0}
                for a in anns if a["keypoints"]
            ]  # fmt: skip
            if not k or not detections:
                continue
            evaluation = COCOeval(gt, gt.loadRes(detections), iouType="keypoints")
            evaluation.params.catIds = [category["id"]]
            evaluation.params.kpt_oks_sigmas = np.full(k, 0.0625)  # K, not COCO's 17
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
            stats.append(float(evaluation.stats[0]))
    return stats


def test_every_dataset_poselint_passes_works_in_pycocotools(make_dataset, cli):
    """For each corpus document (samples, clean builds, mutations) laid out as a dataset with
    real images: when `poselint check` passes it, pycocotools must load it from the file and
    evaluate it against itself; the contrapositive is that whatever pycocotools chokes on,
    poselint rejects."""
    passing, broken = [], []
    for name, doc in all_documents().items():
        root = make_dataset({"train": doc, "val": _val_for(doc)}, images=False)
        _write_images(root, doc)
        # the stand-in val split holds nobody (PL608): the train document is under test
        result = cli("check", root, "--format", "json", "--ignore", "PL608")
        assert result.code in (0, 1), (name, result)
        assert "PL000" not in result.codes(), (name, result)
        if result.code == 1:
            continue
        passing.append(name)
        try:
            stats = _pycocotools_self_evaluation(
                root / "annotations" / "person_keypoints_train.json"
            )
        except Exception as exc:  # collected, so one run names every offender
            broken.append((name, f"{type(exc).__name__}: {exc}"))
            continue
        # against itself a file scores a perfect AP (-1: no ground truth that counts)
        if not all(ap == pytest.approx(1.0) or ap == -1.0 for ap in stats):
            broken.append((name, f"self-evaluation AP {stats}"))
    assert broken == []
    # not vacuous: the clean builds, the real exports' content and CVAT's variants pass
    print(f"{len(passing)} corpus datasets pass poselint and pycocotools")
    assert len(passing) >= 15, passing
    assert {"clean:train", "mutation:crowd-with-rle", "mutation:keypoints-ints"} <= set(passing)


def test_pl490_and_pl491_never_raise_on_the_corpus(make_dataset, cli):
    reported = 0
    for name, doc in all_documents().items():
        root = make_dataset({"train": doc}, images=False)
        result = cli("check", root, "--format", "json", "--select", "PL490,PL491")
        assert result.code in (0, 1), (name, result)
        assert "PL000" not in result.codes(), (name, result)
        reported += "PL490" in result.codes()
    assert reported >= 10  # pycocotools does choke on a good part of the corpus
