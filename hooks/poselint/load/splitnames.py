"""Split names: the canonical lowercase names and the variants people and CVAT write."""

from __future__ import annotations

import re

# Lowercased variant -> canonical split. CVAT writes Train/Validation/Test (and
# "default" for a task without subsets); people write the rest.
VARIANTS: dict[str, str] = {
    **dict.fromkeys(["train", "training", "trainset", "train_set", "trn"], "train"),
    **dict.fromkeys(
        ["val", "valid", "validation", "validate", "valset", "val_set", "dev", "eval"], "val"
    ),
    **dict.fromkeys(["test", "testing", "testset", "test_set", "tst"], "test"),
}
DEFAULT_SUBSET = "default"

# COCO names its splits by year: train2017, val2017, test2017 (and train2014, val2014).
_YEAR = re.compile(r"^(?P<base>.+?)[-_]?(?:19|20)\d\d$")

ANNOTATION_FILE = re.compile(r"^person_keypoints_(?P<split>.+)\.json$")


def annotation_file_name(split: str) -> str:
    return f"person_keypoints_{split}.json"


def variant_of(name: str) -> str | None:
    """The canonical split a variant name stands for (`Validation`, `val2017`), or None."""
    lower = name.lower()
    year = _YEAR.match(lower)
    return VARIANTS.get(lower) or (VARIANTS.get(year["base"]) if year else None)


def canonical_split(name: str, allowed: tuple[str, ...]) -> str | None:
    """The allowed split a (possibly non-canonical) name stands for, or None."""
    if name in allowed:
        return name
    target = variant_of(name) or name.lower()
    return target if target in allowed else None
