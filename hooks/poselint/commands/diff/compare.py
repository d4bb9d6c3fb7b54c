"""The changes between two versions: per split (images, people, keypoints moved, flags,
categories) and per root (findings introduced and fixed, compared by baseline fingerprints)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poselint.commands.diff.match import match_people
from poselint.commands.diff.model import Drawn, Person, PointChange, PoseAt, RootDiff, SplitDiff
from poselint.commands.diff.view import View, blocks, empty_view, gather, key_of, split_view
from poselint.diagnostics import Diagnostic
from poselint.discovery import Target
from poselint.engine import lint_dataset
from poselint.lazy import np
from poselint.load.dataset import Dataset, Split
from poselint.report.baseline import Fingerprint, fingerprints
from poselint.rules import Rule

if TYPE_CHECKING:
    from numpy.typing import NDArray


def _names(v: View, j: int) -> list[Any]:
    cat = v.categories.get(key_of(v.category[j])) if j < len(v.category) else None
    names = cat.get("keypoints") if cat else None
    return names if isinstance(names, list) else []


def _point_changes(
    a: View, b: View, ja: NDArray[np.int64], jb: NDArray[np.int64], threshold: float,
    out: SplitDiff,
) -> dict[tuple[int, int], set[int]]:  # fmt: skip
    """Appends the moved points and changed flags to `out`; returns the changed keypoints
    of each changed pair of rows."""
    changed: dict[tuple[int, int], set[int]] = {}
    for k, sel in blocks(a.count[ja], b.count[jb]):
        pa, pb = gather(a, ja[sel], k), gather(b, jb[sel], k)
        dist = np.hypot(pa[..., 0] - pb[..., 0], pa[..., 1] - pb[..., 1])
        moved = (pa[..., 2] > 0) & (pb[..., 2] > 0) & (dist > threshold)
        flipped = pa[..., 2] != pb[..., 2]
        for kind, mask in (("moved", moved), ("flags", flipped)):
            p, kp = np.nonzero(mask)
            rows = zip(
                ja[sel[p]].tolist(), jb[sel[p]].tolist(), kp.tolist(),
                pa[p, kp].tolist(), pb[p, kp].tolist(), strict=True,
            )  # fmt: skip
            found: list[PointChange] = getattr(out, kind)
            for x, y, k_, before, after in rows:
                changed.setdefault((x, y), set()).add(k_)
                names = _names(b, y)
                found.append(
                    PointChange(
                        b.image_of(y), a.ids[x], b.ids[y], k_,
                        str(names[k_]) if k_ < len(names) else None,
                        tuple(before), tuple(after),
                    )
                )  # fmt: skip
    return changed


def _category_changes(a: View, b: View) -> list[str]:
    lines: list[str] = []
    for cid in sorted(set(a.categories) | set(b.categories), key=str):
        ca, cb = a.categories.get(cid), b.categories.get(cid)
        if ca is None or cb is None:
            cat = cb if cb is not None else ca or {}
            verb = "added" if ca is None else "removed"
            lines.append(f"category {cid!r} ({cat.get('name')!r}) {verb}")
            continue
        for key in ("name", "keypoints", "skeleton"):
            before, after = ca.get(key), cb.get(key)
            if key == "skeleton":
                before, after = _skeleton_edges(before), _skeleton_edges(after)
            if before != after:
                lines.append(f"category {cid!r} ({cb.get('name')!r}): {key} {before} -> {after}")
    return lines


def _skeleton_edges(skeleton: Any) -> Any:
    """A skeleton as sorted undirected edges: [2, 4] and [4, 2] draw the same bone."""
    if not isinstance(skeleton, list):
        return skeleton
    try:
        return sorted(sorted(e) for e in skeleton)
    except TypeError:
        return skeleton


def _pose_at(v: View, j: int) -> PoseAt:
    n = int(v.count[j])
    start = int(v.start[j]) if n else 0
    box = v.bbox[j].tolist() if j < len(v.bbox) else []
    row = int(v.image_row[j])
    cat = v.categories.get(key_of(v.category[j])) if j < len(v.category) else None
    return PoseAt(
        v.ids[j],
        v.kp[start : start + n].ravel().tolist(),
        (box[0], box[1], box[2], box[3]) if len(box) == 4 else None,
        cat.get("skeleton") if cat else None,
        v.sizes[row] if 0 <= row < len(v.sizes) else (None, None),
    )


def diff_split(name: str, a: View, b: View, threshold: float, draw: int = 0) -> SplitDiff:
    """The split's changes; the first `draw` changed people are kept to draw (PoseAt)."""
    out = SplitDiff(name)
    names_a = {n for n in a.images if isinstance(n, str)}
    names_b = {n for n in b.images if isinstance(n, str)}
    out.images_added = sorted(names_b - names_a)
    out.images_removed = sorted(names_a - names_b)
    ja, jb, same_id = match_people(a, b)
    changed = np.flatnonzero(~same_id)
    out.renumbered = len(changed)
    for x, y in zip(ja[changed].tolist(), jb[changed].tolist(), strict=True):
        if key_of(a.ids[x]) is not None and key_of(b.ids[y]) is not None:
            out.renamed[repr(b.ids[y])] = repr(a.ids[x])
    matched_a = np.zeros(len(a.ids), dtype=bool)
    matched_b = np.zeros(len(b.ids), dtype=bool)
    matched_a[ja] = matched_b[jb] = True
    out.people_added = sorted(
        (Person(b.image_of(j), b.ids[j]) for j in np.flatnonzero(~matched_b).tolist()),
        key=_person_key,
    )
    out.people_removed = sorted(
        (Person(a.image_of(j), a.ids[j]) for j in np.flatnonzero(~matched_a).tolist()),
        key=_person_key,
    )
    edited = _point_changes(a, b, ja, jb, threshold, out)
    out.changed_people = len(edited) + len(out.people_added) + len(out.people_removed)
    if draw > 0:
        out.drawn = _to_draw(a, b, edited, matched_a, matched_b, draw)
    out.moved.sort(key=_change_key)
    out.flags.sort(key=_change_key)
    out.categories = _category_changes(a, b)
    return out


def _to_draw(
    a: View, b: View, edited: dict[tuple[int, int], set[int]],
    matched_a: NDArray[np.bool_], matched_b: NDArray[np.bool_], limit: int,
) -> list[Drawn]:  # fmt: skip
    """The first `limit` changed people (edited, then added, then removed), by image."""
    people = [
        Drawn("edited", b.image_of(y), _pose_at(a, x), _pose_at(b, y), frozenset(kps))
        for (x, y), kps in sorted(edited.items(), key=lambda e: (b.image_of(e[0][1]), e[0][1]))
    ][:limit]
    for j in np.flatnonzero(~matched_b).tolist()[: limit - len(people)]:
        people.append(Drawn("added", b.image_of(j), None, _pose_at(b, j), frozenset()))
    for j in np.flatnonzero(~matched_a).tolist()[: limit - len(people)]:
        people.append(Drawn("removed", a.image_of(j), _pose_at(a, j), None, frozenset()))
    return people


def _person_key(p: Person) -> tuple[str, str]:
    return (p.image, str(p.id))


def _change_key(c: PointChange) -> tuple[str, str, int]:
    return (c.image, str(c.id_b), c.keypoint)


def split_key(split: Split) -> str:
    return split.canonical or split.name


def _findings(ds: Dataset, rules: list[Rule], base: Path) -> list[tuple[Diagnostic, Fingerprint]]:
    if not ds.exists:
        return []
    found = lint_dataset(ds, rules)
    return list(zip(found, fingerprints(found, ds, base), strict=True))


def _read_side(
    ds: Dataset, rules: list[Rule], base: Path
) -> tuple[list[tuple[Diagnostic, Fingerprint]], dict[str, View]]:
    """One version: its findings (fingerprinted) and a view of each split; then its parsed
    documents are let go, so the two versions never hold two sets of Python objects at once
    (the views keep only arrays and columns)."""
    found = _findings(ds, rules, base)
    views = {split_key(s): split_view(s) for s in ds.splits} if ds.exists else {}
    for split in ds.splits:
        for cached in ("loaded", "tables", "images", "file_names", "schema_valid", "image_headers"):
            split.__dict__.pop(cached, None)  # functools.cached_property keeps them here
    return found, views


def _changed_findings(
    before: list[tuple[Diagnostic, Fingerprint]], after: list[tuple[Diagnostic, Fingerprint]]
) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """(introduced, fixed): findings of one side whose fingerprint the other has fewer of."""

    def extra(
        side: list[tuple[Diagnostic, Fingerprint]], other: list[tuple[Diagnostic, Fingerprint]]
    ) -> list[Diagnostic]:
        left = Counter(fp for _, fp in other)
        out = []
        for d, fp in side:
            if left[fp] > 0:
                left[fp] -= 1
            else:
                out.append(d)
        return out

    return extra(after, before), extra(before, after)


def _renamed(fp: Fingerprint, ids: dict[str, str] | None) -> Fingerprint:
    if not ids or fp[5] is None or fp[5] not in ids:
        return fp
    return (*fp[:5], ids[fp[5]], *fp[6:])


def diff_root(
    target: Target, before: Dataset, after: Dataset, rules: list[Rule], threshold: float,
    draw: int = 0,
) -> RootDiff:  # fmt: skip
    missing = {
        side: ds.source.error or "no such folder"
        for side, ds in (("before", before), ("after", after))
        if not ds.exists
    }
    base = Path.cwd()
    found_a, views_a = _read_side(before, rules, base)
    found_b, views_b = _read_side(after, rules, base)
    empty = empty_view()
    splits = []
    for key in sorted(set(views_a) | set(views_b)):
        split = diff_split(key, views_a.get(key, empty), views_b.get(key, empty), threshold, draw)
        draw -= len(split.drawn)
        splits.append(split)
    # findings about a person the re-export renumbered keep the id it had before
    names_b = {split_key(s): s.name for s in after.splits} if after.exists else {}
    renamed = {names_b[d.split]: d.renamed for d in splits if d.renamed and d.split in names_b}
    found_b = [(d, _renamed(fp, renamed.get(fp[2] or ""))) for d, fp in found_b]
    introduced, fixed = _changed_findings(found_a, found_b)
    return RootDiff(target.root, missing, splits, introduced, fixed)
