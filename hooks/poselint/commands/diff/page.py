"""`poselint diff --format html`: each changed person drawn before and after on its image.

The drawing is the HTML report's (report/html/): the same Pose, views, thumbnails and
Content-Security-Policy, and the same autoescaping template engine. Each version's image is
read from that version: the working tree through the split's image index (which follows no
link out of the root), a git revision by the blob its tree lists, a DVC revision by the md5
its manifest records (cache, else remote). At most MAX_DRAWN people are drawn; the
page says how many more changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poselint.commands.diff.compare import split_key
from poselint.commands.diff.model import MAX_DRAWN, Drawn, PoseAt, RootDiff
from poselint.commands.diff.render import capped_lines, change_lines, summary
from poselint.diagnostics import display_path, displayable
from poselint.load.dataset import Dataset
from poselint.report.html.drawing import (
    THUMB_SIDE,
    Point,
    Pose,
    box,
    data_url,
    declared_size,
    draw_pose,
    edges,
    image_extent,
    points,
    view_region,
)
from poselint.report.html.images import Picture, decode_picture, indexed_image_path, open_picture
from poselint.report.html.model import ShownDiagnostic, short_text
from poselint.report.html.page import render_page

# An image read from a git blob or the DVC cache is held in memory whole: bounded.
MAX_IMAGE_BYTES = 64 * 1024 * 1024


@dataclass
class Side:
    thumbnail: str  # a data: URL, "" when not drawn
    note: str  # why the image is missing or not drawn


@dataclass
class DiffFigure:
    kind: str  # edited / added / removed
    image: str
    who: str  # "id 2 (was 3)"
    before: Side | None
    after: Side | None
    changes: list[str]


@dataclass
class SplitSection:
    root: str
    name: str
    summary: str
    lines: list[str]
    figures: list[DiffFigure]
    changed_people: int


class _Pictures:
    """The last image decoded per version: people on the same image come together."""

    def __init__(self) -> None:
        self.last: dict[int, tuple[tuple[str, str, float], tuple[Picture | None, str]]] = {}

    def get(
        self, ds: Dataset | None, split: str, file_name: str, scale: float
    ) -> tuple[Picture | None, str]:
        if ds is None:
            return None, "no image"
        key = (split, file_name, scale)
        held = self.last.get(id(ds))
        if held is None or held[0][:2] != key[:2] or held[0][2] < scale:
            held = (key, _read_picture(ds, split, file_name, scale))
            self.last[id(ds)] = held
        return held[1]


def _read_picture(
    ds: Dataset, key: str, file_name: str, scale: float
) -> tuple[Picture | None, str]:
    """The image as this version of the dataset has it, or why not. Only a file the split's
    image index lists is read: a name like ../../x never leaves the root or the DVC cache."""
    if not ds.exists:
        return None, "the dataset is not in this version"
    split = next((s for s in ds.splits if split_key(s) == key), None)
    if split is None:
        return None, "the split is not in this version"
    where = indexed_image_path(split, file_name)
    if not isinstance(where, Path):
        return None, where
    if ds.source.in_workspace:
        return open_picture(where, scale)
    data = ds.source.read(where, MAX_IMAGE_BYTES)
    if isinstance(data, str):
        return None, f"image not read ({data})"
    return decode_picture(data, scale)


def _pose(p: PoseAt, highlight: frozenset[int], whole: bool) -> Pose:
    placed = points(p.keypoints)
    skeleton = edges({"skeleton": p.skeleton}, len(placed))
    return Pose(placed, skeleton, set(highlight), box(p.bbox), whole)


def _union(poses: list[Pose]) -> Pose:
    """Both versions' points in one pose, so that before and after show the same region."""
    points: list[Point] = []
    for pose in poses:
        points += [Point(len(points) + p.k, p.x, p.y, p.v) for p in pose.points]
    boxes = [pose.bbox for pose in poses if pose.bbox is not None]
    if not boxes:
        return Pose(points, [], set(), None, False)
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return Pose(points, [], set(), (x0, y0, x1 - x0, y1 - y0), False)


def _changes(d: Drawn) -> list[str]:
    if d.before is None or d.after is None:
        return []
    out = []
    for k in sorted(d.keypoints):
        a, b = d.before.keypoints[3 * k : 3 * k + 3], d.after.keypoints[3 * k : 3 * k + 3]
        if len(a) < 3 or len(b) < 3:
            continue
        text = f"k={k}: ({a[0]:g}, {a[1]:g}) v={a[2]:g} → ({b[0]:g}, {b[1]:g}) v={b[2]:g}"
        out.append(text)
    return out


def _figure(d: Drawn, split: str, ds_a: Dataset, ds_b: Dataset, pictures: _Pictures) -> DiffFigure:
    poses = {
        side: _pose(p, d.keypoints, d.kind != "edited")
        for side, p in (("before", d.before), ("after", d.after))
        if p is not None
    }
    union = _union(list(poses.values()))
    sides: dict[str, Side] = {}
    for side, ds, at in (("before", ds_a, d.before), ("after", ds_b, d.after)):
        if side not in poses:
            continue
        declared = declared_size(*at.size) if at is not None else None
        try:
            guess = image_extent(None, declared, union)
            x0, y0, x1, y1 = view_region(union, *guess)
            picture, note = pictures.get(ds, split, d.image, THUMB_SIDE / max(x1 - x0, y1 - y0))
            extent = image_extent(picture, declared, union)
            region = view_region(union, *extent)
            sides[side] = Side(data_url(draw_pose(picture, extent, poses[side], region)), note)
        except (ValueError, OverflowError, MemoryError, ZeroDivisionError) as exc:
            sides[side] = Side("", f"could not draw ({type(exc).__name__})")
    ids = [p.id for p in (d.before, d.after) if p is not None]
    who = f"id {short_text(ids[-1])}"
    if len(ids) == 2 and ids[0] != ids[1]:
        who += f" (was {short_text(ids[0])})"
    return DiffFigure(
        d.kind, short_text(d.image), who, sides.get("before"), sides.get("after"), _changes(d)
    )


def render_diff_html(
    header: dict[str, Any],
    roots: list[RootDiff],
    sides: list[tuple[Dataset, Dataset]],
    cwd: Path,
    limit: int,
) -> str:
    pictures = _Pictures()
    sections = []
    drawn = changed = 0
    for r, (ds_a, ds_b) in zip(roots, sides, strict=True):
        for s in r.splits:
            figures = [_figure(d, s.split, ds_a, ds_b, pictures) for d in s.drawn]
            drawn += len(figures)
            changed += s.changed_people
            sections.append(
                SplitSection(
                    display_path(r.root, cwd), displayable(s.split),
                    summary(s) if s else "no label changes",
                    capped_lines(change_lines(s), limit), figures, s.changed_people,
                )
            )  # fmt: skip
    findings = []
    for r in roots:
        for title, found in (("introduced", r.introduced), ("fixed", r.fixed)):
            shown = [ShownDiagnostic.of(d, cwd) for d in found]
            rows = [f"{d.code} {d.location}: {d.message}" for d in shown]
            findings.append(
                (display_path(r.root, cwd), title, capped_lines(rows, limit), len(rows))
            )
    return render_page(
        "diff.html.j2",
        header=header,
        missing=[
            (display_path(r.root, cwd), s, why) for r in roots for s, why in r.missing.items()
        ],
        sections=sections,
        findings=findings,
        drawn=drawn,
        changed=changed,
        max_drawn=MAX_DRAWN,
    )
