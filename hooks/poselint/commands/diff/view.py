"""One version of a split as the diff needs it: the numpy tables the rules built (tables.py),
plus the columns of ids, file names and categories; the parsed document can then be let go."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from poselint.lazy import np
from poselint.load.dataset import Split
from poselint.load.tables import column, entries

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass
class View:
    """What the diff needs of one version of a split."""

    images: list[Any]  # file_name per image row
    ids: list[Any]  # annotation id per row
    image_row: NDArray[np.int64]  # row of each annotation's image, -1 when it has none
    kp: NDArray[np.float64]  # (M, 3)
    start: NDArray[np.int64]  # first triplet row of each annotation
    count: NDArray[np.int64]  # triplets of each annotation (0: unusable keypoints)
    bbox: NDArray[np.float64]  # (N, 4)
    category: list[Any]  # category id per annotation
    categories: dict[Any, dict[str, Any]]
    sizes: list[tuple[Any, Any]] = field(default_factory=list)  # (width, height) per image row

    @property
    def uniform(self) -> int:
        """k when every annotation has k usable triplets (the usual case), else 0."""
        k = int(self.count[0]) if len(self.count) else 0
        return k if k > 0 and bool((self.count == k).all()) else 0

    def image_of(self, j: int) -> str:
        row = int(self.image_row[j])
        name = self.images[row] if row >= 0 else None
        return name if isinstance(name, str) else "(no image)"


def empty_view() -> View:
    return View(
        [], [], np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros((0, 4)), [], {},
    )  # fmt: skip


def split_view(split: Split | None) -> View:
    if split is None or split.document is None or split.keypoint_store is None:
        return empty_view()
    doc = split.document
    t = split.tables
    images_rows = entries(doc, "images")
    images = column(images_rows, "file_name")
    annotations = entries(doc, "annotations")
    ends = np.append(t.kp_start[1:], len(t.kp)) if len(t.kp_start) else t.kp_start
    count = np.where(t.keypoints_ok, ends - t.kp_start, 0).astype(np.int64)
    cats: dict[Any, dict[str, Any]] = {}
    for cat in entries(doc, "categories"):
        if isinstance(cat, dict) and isinstance(cat.get("id"), int | str):
            cats.setdefault(cat["id"], cat)
    return View(
        images,
        column(annotations, "id"),
        t.ann_image_row.astype(np.int64),
        t.kp,
        t.kp_start.astype(np.int64),
        count,
        t.bbox,
        column(annotations, "category_id"),
        cats,
        list(zip(column(images_rows, "width"), column(images_rows, "height"), strict=True)),
    )


def key_of(value: Any) -> Any:
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def gather(v: View, rows: NDArray[np.int64], k: int) -> NDArray[np.float64]:
    """(P, k, 3): the triplets of annotations `rows`, each of which has k of them."""
    if v.uniform == k:  # every annotation has k triplets: whole 3k-float rows, no index math
        return v.kp.reshape(-1, k, 3)[rows]
    triplets: NDArray[np.float64] = v.kp[v.start[rows][:, None] + np.arange(k)]
    return triplets


# Pairs compared per block: the (block, k, 3) temporaries stay small, reused from the heap,
# instead of fresh pages for all 262k pairs at once.
BLOCK = 1 << 14


def blocks(ka: NDArray[np.int64], kb: NDArray[np.int64]) -> Iterator[tuple[int, NDArray[np.int64]]]:
    """(k, positions) of the pairs whose both sides have k usable triplets, in blocks."""
    for k in np.unique(ka[(ka == kb) & (ka > 0)]).tolist():
        sel = np.flatnonzero((ka == k) & (kb == k))
        for lo in range(0, len(sel), BLOCK):
            yield k, sel[lo : lo + BLOCK]
