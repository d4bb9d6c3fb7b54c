"""Who is the same person in both versions: the same annotation id on the same image (unless
the two poses are unrelated), then, for what is left, keypoint similarity on the same image."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from poselint.commands.diff.view import View, blocks, gather, key_of
from poselint.lazy import np

if TYPE_CHECKING:
    from numpy.typing import NDArray

# COCO's per-keypoint sigmas for its 17 body points; another skeleton gets their mean.
COCO_SIGMAS = np.array(
    [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]
) / 10.0  # fmt: skip
# An id match on the same image is trusted unless the two poses are unrelated (similarity
# below this): a re-export that renumbers ids can hand an old id to another person.
ID_MATCH_MIN = 0.1


# Unmatched people on the same image are paired by similarity at or above this.
SIMILAR_MIN = 0.5


def _similarity(
    a: NDArray[np.float64], b: NDArray[np.float64], area: NDArray[np.float64]
) -> NDArray[np.float64]:
    """OKS-like similarity of pose pairs (P, k, 3), over the points labelled in both."""
    k = a.shape[1]
    sigmas = COCO_SIGMAS if k == len(COCO_SIGMAS) else np.full(k, COCO_SIGMAS.mean())
    both = (a[..., 2] > 0) & (b[..., 2] > 0)
    d2 = ((a[..., :2] - b[..., :2]) ** 2).sum(-1)
    e = d2 / ((2 * sigmas) ** 2 * 2 * np.maximum(area, 1.0)[:, None])
    n = both.sum(1)
    s = np.where(both, np.exp(-e), 0.0).sum(1)
    return np.where(n > 0, s / np.maximum(n, 1), np.nan)  # NaN: no point labelled in both


def _area(v: View, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    box = v.bbox[rows]
    area = box[:, 2] * box[:, 3]
    return np.where(np.isfinite(area) & (area > 0), area, 1.0)


def pair_similarity(
    a: View, b: View, ja: NDArray[np.int64], jb: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Similarity of each pair; NaN when there is nothing to compare: no point labelled in
    both, or keypoint lists of different lengths (or unusable ones)."""
    sims = np.full(len(ja), np.nan)
    ka, kb = a.count[ja], b.count[jb]
    for k, sel in blocks(ka, kb):
        sims[sel] = _similarity(gather(a, ja[sel], k), gather(b, jb[sel], k), _area(a, ja[sel]))
    return sims


def _codes(values: list[Any], codes: dict[Any, int]) -> NDArray[np.int64]:
    """A small integer per distinct id or file name, shared by both versions (-1: none)."""
    try:  # the fast path: every value hashable; unequal values keep distinct codes
        found = list(map(codes.setdefault, values, itertools.count(len(codes))))
        return np.array(found, dtype=np.int64).reshape(len(values))
    except TypeError:  # a list or an object where an id or a name belongs
        return np.fromiter(
            (codes.setdefault(v, len(codes)) if key_of(v) is not None else -1 for v in values),
            dtype=np.int64,
            count=len(values),
        )


def _id_codes(a: list[Any], b: list[Any]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Codes for the annotation ids of both versions: equal codes, equal ids (-1: no id)."""
    if set(map(type, a)) | set(map(type, b)) <= {int}:
        try:
            ia, ib = np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)
        except OverflowError:
            pass
        else:
            both = np.concatenate([ia, ib])
            if len(both) == 0 or (both.min() >= 0 and both.max() < 2**31):
                return ia, ib  # small enough to be their own codes
            known = np.unique(both)
            return np.searchsorted(known, ia), np.searchsorted(known, ib)
    ids: dict[Any, int] = {}
    keyed = [[v if key_of(v) is not None else None for v in side] for side in (a, b)]
    ca, cb = (np.fromiter(
        (ids.setdefault(v, len(ids)) if v is not None else -1 for v in side),
        dtype=np.int64, count=len(side),
    ) for side in keyed)  # fmt: skip
    return ca, cb


def _image_codes(v: View, image_codes: NDArray[np.int64]) -> NDArray[np.int64]:
    codes = np.full(len(v.image_row), -1, dtype=np.int64)
    has = v.image_row >= 0
    codes[has] = image_codes[v.image_row[has]]
    return codes


def _first_rows(keys: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Sorted distinct keys >= 0 and the first row holding each."""
    rows = np.flatnonzero(keys >= 0)
    unique, first = np.unique(keys[rows], return_index=True)
    return unique, rows[first]


def _same_image_pairs(
    code_a: NDArray[np.int64], rows_a: NDArray[np.int64],
    code_b: NDArray[np.int64], rows_b: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:  # fmt: skip
    """Every (a, b) of rows_a x rows_b on the same image (code), without a Python loop."""
    order = np.argsort(code_b[rows_b], kind="stable")
    sorted_rows, sorted_codes = rows_b[order], code_b[rows_b][order]
    codes = code_a[rows_a]
    lo = np.searchsorted(sorted_codes, codes, "left")
    n = np.searchsorted(sorted_codes, codes, "right") - lo
    cand_a = np.repeat(rows_a, n)
    offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    return cand_a, sorted_rows[np.repeat(lo, n) + offsets]


def match_people(
    a: View, b: View
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Rows (in a, in b) of the same person, by id on the same image, then by similarity;
    and whether each pair kept its id."""
    names: dict[Any, int] = {}
    image_a, image_b = _codes(a.images, names), _codes(b.images, names)
    code_a, code_b = _image_codes(a, image_a), _image_codes(b, image_b)
    id_a, id_b = _id_codes(a.ids, b.ids)
    width = int(max(id_a.max(initial=0), id_b.max(initial=0))) + 1
    key_a = np.where((code_a >= 0) & (id_a >= 0), code_a * width + id_a, -1)
    key_b = np.where((code_b >= 0) & (id_b >= 0), code_b * width + id_b, -1)
    unique_a, first_a = _first_rows(key_a)
    unique_b, first_b = _first_rows(key_b)
    pos = np.minimum(np.searchsorted(unique_b, unique_a), max(len(unique_b) - 1, 0))
    found = (unique_b[pos] == unique_a) if len(unique_b) else np.zeros(len(unique_a), bool)
    ja, jb = first_a[found], first_b[pos[found]]
    # a pair whose shared points are all far apart is a renumbered id, not an edit; with no
    # point to compare (all hidden on one side) or changed keypoint lists, the id decides
    trusted = ~(pair_similarity(a, b, ja, jb) < ID_MATCH_MIN)
    ja, jb = ja[trusted], jb[trusted]
    used_a = np.zeros(len(a.ids), dtype=bool)
    used_b = np.zeros(len(b.ids), dtype=bool)
    used_a[ja] = used_b[jb] = True
    # What is left: pair by similarity on the same image, greedily from the most similar.
    left_a = np.flatnonzero(~used_a & (code_a >= 0))
    left_b = np.flatnonzero(~used_b & (code_b >= 0))
    cand_a, cand_b = _same_image_pairs(code_a, left_a, code_b, left_b)
    # boxes that do not touch are not the same person: skip their similarity (a crowded
    # image makes n x m candidates; a NaN box is kept, the similarity decides)
    box_a, box_b = a.bbox[cand_a], b.bbox[cand_b]
    apart = (
        (np.minimum(box_a[:, 0] + box_a[:, 2], box_b[:, 0] + box_b[:, 2])
         < np.maximum(box_a[:, 0], box_b[:, 0]))
        | (np.minimum(box_a[:, 1] + box_a[:, 3], box_b[:, 1] + box_b[:, 3])
           < np.maximum(box_a[:, 1], box_b[:, 1]))
    )  # fmt: skip
    cand_a, cand_b = cand_a[~apart], cand_b[~apart]
    sims = np.nan_to_num(pair_similarity(a, b, cand_a, cand_b), nan=0.0)
    keep = np.flatnonzero(sims >= SIMILAR_MIN)
    # a person in a single similar pair on both sides needs no greedy choice
    alone = (np.bincount(cand_a[keep], minlength=len(a.ids))[cand_a[keep]] == 1) & (
        np.bincount(cand_b[keep], minlength=len(b.ids))[cand_b[keep]] == 1
    )
    extra_a, extra_b = cand_a[keep[alone]].tolist(), cand_b[keep[alone]].tolist()
    keep = keep[~alone]
    keep = keep[np.argsort(-sims[keep], kind="stable")]
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    for x, y in zip(cand_a[keep].tolist(), cand_b[keep].tolist(), strict=True):
        if x not in taken_a and y not in taken_b:
            taken_a.add(x)
            taken_b.add(y)
            extra_a.append(x)
            extra_b.append(y)
    ja = np.concatenate([ja, np.array(extra_a, dtype=np.int64)])
    jb = np.concatenate([jb, np.array(extra_b, dtype=np.int64)])
    order = np.argsort(jb, kind="stable")
    ja, jb = ja[order], jb[order]
    return ja, jb, id_a[ja] == id_b[jb]
