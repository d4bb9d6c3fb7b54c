"""PL703: duplicate people, two annotations on one image whose keypoints match (OKS)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from poselint.diagnostics import json_pointer
from poselint.lazy import np
from poselint.load.dataset import Split
from poselint.load.tables import entries
from poselint.rules.base import Finding, FindingBatch, rule
from poselint.rules.pose.common import batch, quiet
from poselint.rules.pose.groups import Group, groups_of

if TYPE_CHECKING:
    from poselint.rules.pose.common import FloatArray, IntArray

# PL703 compares the people of each image pairwise; a bigger crowd is skipped. A person with
# fewer labelled points is a duplicate only of one labelling exactly the same points.
MIN_OKS_POINTS = 3
MAX_PEOPLE_PER_IMAGE = 200
_EPS = sys.float_info.epsilon  # np.spacing(1), as COCOeval adds it


def _same_image_pairs(image: IntArray) -> tuple[IntArray, IntArray]:
    """Every pair (i, j), i < j, of positions whose `image` values are equal: by offset in
    the sorted order, so the work is the number of pairs, not n squared. Images with more
    than MAX_PEOPLE_PER_IMAGE people are left out: a crowd that size is no pose data, and
    its pairs would grow with the square."""
    order = np.argsort(image, kind="stable")
    keys = image[order]
    starts = np.flatnonzero(np.diff(keys, prepend=keys[:1] - 1))  # keys are sorted
    sizes = np.diff(np.append(starts, len(keys)))
    crowded = np.repeat(sizes > MAX_PEOPLE_PER_IMAGE, sizes)
    order, keys = order[~crowded], keys[~crowded]
    left: list[IntArray] = []
    right: list[IntArray] = []
    d = 1
    while d < len(keys):
        same = np.flatnonzero(keys[:-d] == keys[d:])
        if len(same) == 0:
            break
        left.append(order[same])
        right.append(order[same + d])
        d += 1
    if not left:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(left), np.concatenate(right)


def _oks(g: Group, gt: IntArray, dt: IntArray, threshold: float) -> FloatArray:
    """COCO's OKS of person dt against person gt (positions in g), over gt's labelled points;
    0 when it cannot reach `threshold`, or when gt has fewer than MIN_OKS_POINTS labelled
    points and dt does not label exactly the same ones (a copy does; a stranger whose one
    labelled point lands near gt's is no duplicate)."""
    count = g.lab.sum(axis=0)[gt]
    few = np.flatnonzero((count > 0) & (count < MIN_OKS_POINTS))
    if len(few):  # pairs whose gt has few points: a small (K, pairs) comparison
        same = (g.lab[:, gt[few]] == g.lab[:, dt[few]]).all(axis=0)
        count = count.copy()
        count[few[~same]] = 0
    first = np.argmax(g.lab, axis=0)[gt]  # gt's first labelled point
    var = (2 * g.sigmas) ** 2
    # Cheap test first: OKS >= threshold needs gt's first point to score at least
    # 1 - (1 - threshold) * count on its own, since each of the others scores at most 1.
    dx = g.x[first, gt] - g.x[first, dt]
    dy = g.y[first, gt] - g.y[first, dt]
    with np.errstate(invalid="ignore", over="ignore"):
        e = (dx * dx + dy * dy) / var[first] / (g.scale[gt] ** 2 + _EPS) / 2
        need = 1 - (1 - threshold) * count
        maybe = np.flatnonzero((count > 0) & ((need <= 0) | (np.exp(-e) >= need)))
    oks = np.zeros(len(gt))
    if len(maybe):
        a, b = gt[maybe], dt[maybe]
        vis = g.lab[:, a]
        dx2 = (g.x[:, a] - g.x[:, b]).astype(np.float64) ** 2
        dy2 = (g.y[:, a] - g.y[:, b]).astype(np.float64) ** 2
        with np.errstate(invalid="ignore", over="ignore"):
            e2 = (dx2 + dy2) / var[:, None] / (g.scale[a] ** 2 + _EPS) / 2
            oks[maybe] = (np.exp(-e2) * vis).sum(axis=0) / count[maybe]
    return oks


@rule(
    "PL703",
    "duplicate-person",
    what="Two annotations on one image whose keypoints match: OKS (COCO's sigmas, or the "
    "contract's) at least `duplicate_oks` (default 0.95) either way round.",
    why="The same person annotated twice (cocoapi #424) is trained on twice and, in the "
    "validation split, counts as a missed detection for every model.",
    scope="document",
)
@quiet
def duplicate_person(split: Split) -> Iterator[FindingBatch]:
    t = split.tables
    threshold = split.dataset.config.duplicate_oks
    annotations = entries(split.document, "annotations")
    for g in groups_of(split):
        people = np.flatnonzero(t.ann_image_id_ok[g.anns])
        i, j = _same_image_pairs(t.ann_image_id[g.anns[people]])
        i, j = people[i], people[j]
        oks = np.zeros(len(i))
        chunk = 1 << 18  # pairs per pass: bounded temporaries
        for lo in range(0, len(i), chunk):
            pi, pj = i[lo : lo + chunk], j[lo : lo + chunk]
            oks[lo : lo + chunk] = np.fmax(_oks(g, pi, pj, threshold), _oks(g, pj, pi, threshold))
        hit = np.flatnonzero(oks >= threshold)
        if not len(hit):
            continue
        first = np.minimum(g.anns[i[hit]], g.anns[j[hit]])
        second = np.maximum(g.anns[i[hit]], g.anns[j[hit]])
        order = np.lexsort((first, second))  # by the duplicate's position in the file
        first, second, found = first[order], second[order], oks[hit][order]

        def findings(
            first: IntArray = first, second: IntArray = second, found: FloatArray = found
        ) -> Iterator[Finding]:
            for h in range(len(first)):
                f, s = int(first[h]), int(second[h])
                other = annotations[f]
                yield Finding(
                    f"annotation duplicates annotations/{f} (id {other.get('id')!r}) on the same "
                    f"image: OKS {float(found[h]):.3f} >= duplicate_oks {threshold:g}; delete "
                    "one of them",
                    pointer=json_pointer("annotations", s),
                )

        yield from batch(len(first), findings())
