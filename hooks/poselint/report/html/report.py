"""`check --format html`: the diagnostics that point into an annotation, grouped by it and
drawn on its image; the others listed. Everything comes from the pipeline's own objects: the
diagnostics the engine produced and the documents each Split already parsed; nothing is
parsed twice. Images are read only for the annotations drawn."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from poselint.diagnostics import Diagnostic, display_path, totals
from poselint.fsutil import atomic_write_bytes
from poselint.load.dataset import Dataset, Split
from poselint.load.jsonvalues import is_id  # the ids the PL4xx rules compare (1.0 is one)
from poselint.report.common import capped
from poselint.report.html.drawing import (
    THUMB_SIDE,
    Pose,
    box,
    data_url,
    declared_size,
    draw_pose,
    edges,
    image_extent,
    points,
    views,
    visibility_flag,
)
from poselint.report.html.images import LastPicture, Picture, indexed_image_path
from poselint.report.html.model import (
    BAR_MAX,
    Figure,
    OutsidePoint,
    ShownDiagnostic,
    annotation_target,
    short_text,
    summarise,
)
from poselint.report.html.page import render_page
from poselint.rules import rules_by_code

MAX_FIGURES = 100  # drawn annotations per report; the rest are counted


@dataclass
class _Target:
    """One flagged annotation: where it is and what points at it."""

    split: Split
    index: int
    diagnostics: list[Diagnostic] = field(default_factory=list)
    keypoints: set[int] = field(default_factory=set)
    bbox: bool = False


def _targets(
    datasets: Sequence[Dataset], diagnostics: Sequence[Diagnostic]
) -> tuple[list[_Target], list[Diagnostic]]:
    """Diagnostics that point into an annotation, grouped by it; the others, in order."""
    splits = {
        split.files.annotation_file: split
        for ds in datasets
        for split in ds.splits
        if split.files.annotation_file is not None
    }
    targets: dict[tuple[int, int], _Target] = {}
    rest: list[Diagnostic] = []
    for d in diagnostics:
        where = annotation_target(d.pointer)
        split = splits.get(d.path)
        document = split.document if split else None
        anns = document.get("annotations") if document else None
        if where is None or split is None or not isinstance(anns, list) or where[0] >= len(anns):
            rest.append(d)
            continue
        index, member, item = where
        target = targets.setdefault((id(split), index), _Target(split, index))
        target.diagnostics.append(d)
        if member == "keypoints" and item is not None:
            target.keypoints.add(item // 3)
        elif member == "bbox" or member is None:
            target.bbox = True
    order = {id(s): i for i, s in enumerate(splits.values())}
    ordered = sorted(targets.values(), key=lambda t: (order[id(t.split)], t.index))
    return ordered, rest


def _images_by_id(document: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    images = document.get("images")
    by_id: dict[Any, dict[str, Any]] = {}
    for img in images if isinstance(images, list) else []:
        if isinstance(img, dict) and is_id(img.get("id")):
            by_id.setdefault(img["id"], img)
    return by_id


def _categories_by_id(document: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    categories = document.get("categories")
    return {
        c["id"]: c
        for c in (categories if isinstance(categories, list) else [])
        if isinstance(c, dict) and is_id(c.get("id"))
    }


def _keypoint_name(category: dict[str, Any] | None, k: int) -> str:
    names = category.get("keypoints") if category else None
    if isinstance(names, list) and 0 <= k < len(names):
        return short_text(names[k], 60)
    return ""


def _on_annotation(d: Diagnostic, category: dict[str, Any] | None, cwd: Path) -> ShownDiagnostic:
    """A diagnostic under its figure, naming the keypoint its pointer lands on."""
    where = annotation_target(d.pointer)
    keypoint = ""
    if where and where[1] == "keypoints" and where[2] is not None:
        k = where[2] // 3
        keypoint = f"k={k} {_keypoint_name(category, k)}".strip()
    return ShownDiagnostic.of(d, cwd, keypoint)


class _Lookups:
    """images and categories by id, per split, built only for splits with flagged annotations."""

    def __init__(self) -> None:
        self._by_split: dict[int, tuple[dict[Any, Any], dict[Any, Any]]] = {}

    def of(self, split: Split, document: dict[str, Any]) -> tuple[dict[Any, Any], dict[Any, Any]]:
        if id(split) not in self._by_split:
            self._by_split[id(split)] = (_images_by_id(document), _categories_by_id(document))
        return self._by_split[id(split)]


def _figure(
    number: int, target: _Target, lookups: _Lookups, pictures: LastPicture, cwd: Path
) -> Figure:
    split = target.split
    document = split.document
    assert document is not None  # _targets keeps only splits whose document has annotations
    images, categories = lookups.of(split, document)
    raw = document["annotations"][target.index]
    ann: dict[str, Any] = raw if isinstance(raw, dict) else {}
    image_id, category_id = ann.get("image_id"), ann.get("category_id")
    img = images.get(image_id) if is_id(image_id) else None
    category = categories.get(category_id) if is_id(category_id) else None
    keypoints = split.keypoints_of(target.index)
    placed = points(keypoints)
    pose = Pose(
        placed, edges(category, len(placed)), target.keypoints, box(ann.get("bbox")), target.bbox
    )
    file_name = img.get("file_name") if img else None
    declared = declared_size(img.get("width"), img.get("height")) if img else None

    picture: Picture | None = None
    if img is None:
        note = "no image with this image_id"
    elif split.files.images_dir is None:
        note = "the split has no image folder"
    else:
        scale = 1.0  # the decode resolution the closest view needs
        if declared is not None:
            scale = max(
                THUMB_SIDE / max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in views(pose, *declared)
            )
        image_file = indexed_image_path(split, file_name)
        picture, note = (
            pictures.get(image_file, scale) if isinstance(image_file, Path) else (None, image_file)
        )
    thumbnails = []
    try:
        extent = image_extent(picture, declared, pose)
        for region in views(pose, *extent):
            thumbnails.append(data_url(draw_pose(picture, extent, pose, region)))
    except (ValueError, OverflowError, MemoryError) as exc:  # absurd coordinates
        note = f"could not draw ({type(exc).__name__})"

    outside = [
        OutsidePoint(
            p.k,
            _keypoint_name(category, p.k),
            short_text(keypoints[3 * p.k]),  # points checked it is a list
            short_text(keypoints[3 * p.k + 1]),
            stale=(p.x, p.y) != (0.0, 0.0),
        )
        for p in placed
        if visibility_flag(p.v) == 0
    ]
    annotation_file = split.files.annotation_file
    return Figure(
        annotation_file=display_path(annotation_file, cwd) if annotation_file else "",
        index=target.index,
        annotation_id=short_text(ann.get("id")),
        file_name=short_text(file_name) if file_name is not None else "(unknown image)",
        category=short_text(category.get("name")) if category else short_text(category_id),
        thumbnails=thumbnails,
        image_note=note,
        diagnostics=[_on_annotation(d, category, cwd) for d in target.diagnostics],
        outside=outside,
        anchor=f"flagged-{number}",
    )


def render_html(
    datasets: Sequence[Dataset],
    diagnostics: Sequence[Diagnostic],
    *,
    cwd: Path,
    limit: int,
    max_figures: int = MAX_FIGURES,
) -> str:
    """The whole report as one HTML string."""

    targets, rest = _targets(datasets, diagnostics)
    names = {code: r.name for code, r in rules_by_code().items()}
    per_rule: Counter[str] = Counter()
    for d in diagnostics:  # findings, not lines: "... and N more" counts N
        per_rule[d.code] += d.count
    severities: dict[str, set[str]] = {}
    for d in diagnostics:
        severities.setdefault(d.code, set()).add(d.severity)
    rule_rows = [
        (
            code,
            names.get(code, "internal-error" if code == "PL000" else ""),
            "/".join(sorted(severities[code])),
            n,
        )
        for code, n in sorted(per_rule.items())
    ]
    listed, hidden = capped(rest, limit)
    found = totals(diagnostics)
    lookups, pictures = _Lookups(), LastPicture()
    return render_page(
        "report.html.j2",
        bar_max=BAR_MAX,
        splits=[summarise(split, cwd) for ds in datasets for split in ds.splits],
        rule_rows=rule_rows,
        errors=found.errors,
        warnings=found.warnings,
        fixable=found.fixable,
        unsafe=found.unsafe,
        figures=[
            _figure(n, t, lookups, pictures, cwd) for n, t in enumerate(targets[:max_figures])
        ],
        flagged=len(targets),
        figures_hidden=max(0, len(targets) - max_figures),
        listed=[ShownDiagnostic.of(d, cwd) for d in listed],
        listed_hidden=sorted(hidden.items()),
        limit=limit,
    )


def write_html_report(
    path: Path,
    datasets: Sequence[Dataset],
    diagnostics: Sequence[Diagnostic],
    *,
    cwd: Path,
    limit: int,
) -> None:
    html = render_html(datasets, diagnostics, cwd=cwd, limit=limit)
    atomic_write_bytes(path, html.encode("utf-8"))
