"""The changes `poselint diff` finds, as plain data the renderers print."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from poselint.diagnostics import Diagnostic
from poselint.lazy import np

# Changed people drawn before/after in an HTML diff; the page counts the rest.
MAX_DRAWN = 100


@dataclass(frozen=True)
class Person:
    image: str
    id: Any  # the annotation's id as written (None when it has none)

    def label(self) -> str:
        return (
            f"person {self.id!r} on {self.image}"
            if self.id is not None
            else f"a person on {self.image}"
        )


@dataclass(frozen=True)
class PointChange:
    image: str
    id_a: Any
    id_b: Any
    keypoint: int
    name: str | None  # the category's name for this keypoint
    before: tuple[float, float, float]
    after: tuple[float, float, float]

    @property
    def distance(self) -> float:
        return float(np.hypot(self.after[0] - self.before[0], self.after[1] - self.before[1]))


@dataclass(frozen=True)
class PoseAt:
    """One version of a person, as plain data to draw once the documents are let go."""

    id: Any
    keypoints: list[float]  # flat x, y, v triplets
    bbox: tuple[float, float, float, float] | None
    skeleton: Any  # the category's skeleton as written
    size: tuple[Any, Any]  # the image's declared (width, height)


@dataclass(frozen=True)
class Drawn:
    kind: str  # "edited", "added" or "removed"
    image: str
    before: PoseAt | None
    after: PoseAt | None
    keypoints: frozenset[int]  # the keypoints that moved or changed flag


@dataclass
class SplitDiff:
    split: str
    images_added: list[str] = field(default_factory=list)
    images_removed: list[str] = field(default_factory=list)
    people_added: list[Person] = field(default_factory=list)
    people_removed: list[Person] = field(default_factory=list)
    renumbered: int = 0  # people matched by keypoints whose id changed
    moved: list[PointChange] = field(default_factory=list)
    flags: list[PointChange] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    # a person's id after -> before, as fingerprints write them, where a re-export changed it
    renamed: dict[str, str] = field(default_factory=dict)
    # the first changed people, to draw (--format html); `changed_people` counts them all
    drawn: list[Drawn] = field(default_factory=list)
    changed_people: int = 0

    def __bool__(self) -> bool:
        return bool(
            self.images_added or self.images_removed or self.people_added
            or self.people_removed or self.moved or self.flags or self.categories
        )  # fmt: skip


@dataclass
class RootDiff:
    root: Path
    missing: dict[str, str]  # "before"/"after" -> why that side has no dataset
    splits: list[SplitDiff]
    introduced: list[Diagnostic]
    fixed: list[Diagnostic]
