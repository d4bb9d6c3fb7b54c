"""A pose drawn on its image: the region to show around it, the skeleton, the flagged
keypoints circled, and the thumbnail as a data: URL. Coordinates are dataset values: any
number, or none, is drawn (or skipped) without raising."""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from poselint.report.html.images import Picture

THUMB_SIDE = 360  # longest side of a drawn thumbnail, px
MARGIN = 0.25  # the canvas may extend this fraction of the image beyond it, to show strays
FAR = 1e9  # coordinates beyond this are drawn as if here (on the view's rim either way)
MIN_VIEW = 0.2  # smallest view around a pose, as a fraction of the image's longest side

# Drawing colours (RGB).
OUT_OF_IMAGE = (52, 52, 58)
NO_IMAGE = (96, 96, 104)
BONE = (0, 190, 255)
VISIBLE = (60, 220, 90)
OCCLUDED = (255, 170, 40)
HIGHLIGHT = (255, 30, 60)
BBOX = (255, 235, 60)


def _number(value: object) -> float | None:
    """A finite coordinate, or None (dataset values may be anything)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    as_float = float(value)
    return as_float if math.isfinite(as_float) else None


@dataclass
class Point:
    k: int
    x: float | None
    y: float | None
    v: object


def coordinate(value: object) -> float | None:
    """A coordinate to draw: 1e308 still sits on the rim, without overflowing the arithmetic."""
    number = _number(value)
    return None if number is None else min(max(number, -FAR), FAR)


def box(raw: object) -> tuple[float, float, float, float] | None:
    """An `[x, y, w, h]` bbox to draw, or None when it is not four numbers."""
    if not isinstance(raw, (list, tuple)) or len(raw) != 4:
        return None
    x, y, w, h = (coordinate(v) for v in raw)
    return None if x is None or y is None or w is None or h is None else (x, y, w, h)


def declared_size(width: object, height: object) -> tuple[float, float] | None:
    """An image's declared width and height, when both are positive numbers."""
    w, h = coordinate(width), coordinate(height)
    return (w, h) if w is not None and h is not None and w > 0 and h > 0 else None


def points(keypoints: object) -> list[Point]:
    if not isinstance(keypoints, list):
        return []
    return [
        Point(i // 3, coordinate(keypoints[i]), coordinate(keypoints[i + 1]), keypoints[i + 2])
        for i in range(0, len(keypoints) - 2, 3)
    ]


def edges(category: dict[str, Any] | None, n_points: int) -> list[tuple[int, int]]:
    skeleton = category.get("skeleton") if category else None
    edges = []
    for edge in skeleton if isinstance(skeleton, list) else []:
        if (
            isinstance(edge, list)
            and len(edge) == 2
            and all(isinstance(e, int) and not isinstance(e, bool) for e in edge)
            and all(1 <= e <= n_points for e in edge)
        ):
            edges.append((edge[0] - 1, edge[1] - 1))  # COCO skeletons are 1-based
    return edges


def visibility_flag(v: object) -> int | None:
    return int(v) if _number(v) is not None and v in (0, 1, 2) else None


@dataclass
class Pose:
    """What to draw for one annotation, in image coordinates."""

    points: list[Point]
    edges: list[tuple[int, int]]
    highlight: set[int]  # keypoint indices a diagnostic names
    bbox: tuple[float, float, float, float] | None
    highlight_bbox: bool

    def placed(self, labelled_only: bool = False) -> dict[int, tuple[float, float]]:
        """Points to mark: labelled ones, and any point a diagnostic names, with coordinates."""
        return {
            p.k: (p.x, p.y)
            for p in self.points
            if p.x is not None
            and p.y is not None
            and (visibility_flag(p.v) in (1, 2) or (p.k in self.highlight and not labelled_only))
        }


Region = tuple[float, float, float, float]  # x0, y0, x1, y1 in image coordinates


def view_region(pose: Pose, width: float, height: float, labelled_only: bool = False) -> Region:
    """The part of image space to draw: around the pose, so that a small person is not a dot,
    or the whole image when the pose fills most of it; never far beyond the image."""
    placed = pose.placed(labelled_only).values()
    xs = [x for x, _ in placed]
    ys = [y for _, y in placed]
    if pose.bbox is not None and pose.bbox[2] > 0 and pose.bbox[3] > 0 and not labelled_only:
        bx, by, bw, bh = pose.bbox
        xs += [bx, bx + bw]
        ys += [by, by + bh]
    lo_x, hi_x = -MARGIN * width, (1 + MARGIN) * width
    lo_y, hi_y = -MARGIN * height, (1 + MARGIN) * height
    if not xs:
        return 0.0, 0.0, width, height
    longest = max(width, height)
    side = max(max(xs) - min(xs), max(ys) - min(ys), MIN_VIEW * longest)
    pad = 0.2 * side
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    half_w = max(max(xs) - min(xs), side) / 2 + pad
    half_h = max(max(ys) - min(ys), side) / 2 + pad
    x0, x1 = max(cx - half_w, lo_x), min(cx + half_w, hi_x)
    y0, y1 = max(cy - half_h, lo_y), min(cy + half_h, hi_y)
    if (x1 - x0) * (y1 - y0) > 0.5 * width * height:  # nearly all of it: show all of it,
        rim = 0.03 * longest  # and beyond it only as far as a point lies (markers stay whole)
        x0 = 0.0 if min(xs) >= 0 else max(min(xs) - rim, lo_x)
        y0 = 0.0 if min(ys) >= 0 else max(min(ys) - rim, lo_y)
        x1 = width if max(xs) <= width else min(max(xs) + rim, hi_x)
        y1 = height if max(ys) <= height else min(max(ys) + rim, hi_y)
    return x0, y0, x1, y1


def views(pose: Pose, width: float, height: float) -> list[Region]:
    """One view around everything to mark; plus a close-up first when a far-off point
    (say an outside point with stale coordinates) would shrink the person to a dot."""
    overview = view_region(pose, width, height)
    if not pose.placed(labelled_only=True):
        return [overview]
    close = view_region(pose, width, height, labelled_only=True)
    side = max(close[2] - close[0], close[3] - close[1])
    if side < 0.5 * max(overview[2] - overview[0], overview[3] - overview[1]):
        return [close, overview]
    return [overview]


def image_extent(
    picture: Picture | None, declared: tuple[float, float] | None, pose: Pose
) -> tuple[float, float]:
    """The size the coordinates refer to: the real image's, else the declared one."""
    if picture is not None:
        return float(picture.size[0]), float(picture.size[1])
    if declared is not None:
        return declared
    extent = pose.placed().values()  # no image and no size: the points' extent stands in
    return max([x for x, _ in extent] + [1.0]), max([y for _, y in extent] + [1.0])


def draw_pose(
    picture: Picture | None, extent: tuple[float, float], pose: Pose, region: Region
) -> Image.Image:
    """The region of the image (or a grey stand-in) with the skeleton drawn on it."""
    width, height = extent
    x0, y0, x1, y1 = region
    scale = THUMB_SIDE / max(x1 - x0, y1 - y0)
    canvas_size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    canvas = Image.new("RGB", canvas_size, OUT_OF_IMAGE)

    def at(x: float, y: float) -> tuple[float, float]:
        """Canvas position; a point beyond the view sits on its rim."""
        cx = min(max((x - x0) * scale, 0.0), canvas_size[0] - 1.0)
        cy = min(max((y - y0) * scale, 0.0), canvas_size[1] - 1.0)
        return cx, cy

    # The visible part of the image, cut from the (maybe draft-decoded) pixels and scaled.
    ix0, iy0, ix1, iy1 = max(x0, 0.0), max(y0, 0.0), min(x1, width), min(y1, height)
    if ix1 > ix0 and iy1 > iy0:
        where = (round((ix0 - x0) * scale), round((iy0 - y0) * scale))
        size = (max(1, round((ix1 - ix0) * scale)), max(1, round((iy1 - iy0) * scale)))
        if picture is not None:
            sx, sy = picture.pixels.width / width, picture.pixels.height / height
            box = (ix0 * sx, iy0 * sy, ix1 * sx, iy1 * sy)
            canvas.paste(picture.pixels.resize(size, Image.Resampling.BILINEAR, box=box), where)
        else:
            canvas.paste(NO_IMAGE, (*where, where[0] + size[0], where[1] + size[1]))

    draw = ImageDraw.Draw(canvas)
    if pose.bbox is not None:
        bx, by, bw, bh = pose.bbox
        draw.rectangle(
            (*at(bx, by), *at(bx + max(bw, 0.0), by + max(bh, 0.0))),
            outline=HIGHLIGHT if pose.highlight_bbox else BBOX,
            width=3 if pose.highlight_bbox else 1,
        )
    placed = pose.placed()
    labelled = {p.k for p in pose.points if visibility_flag(p.v) in (1, 2)}
    for a, b in pose.edges:
        if a in labelled and b in labelled and a in placed and b in placed:
            hot = a in pose.highlight or b in pose.highlight
            draw.line(
                (*at(*placed[a]), *at(*placed[b])),
                fill=HIGHLIGHT if hot else BONE,
                width=4 if hot else 2,
            )
    r = 5
    for p in pose.points:
        if p.k not in placed:
            continue
        cx, cy = at(*placed[p.k])
        flag = visibility_flag(p.v)
        if p.k in pose.highlight:
            draw.ellipse((cx - 12, cy - 12, cx + 12, cy + 12), outline=HIGHLIGHT, width=3)
            draw.text((cx + 14, cy - 14), str(p.k), fill=HIGHLIGHT)
        if flag == 2:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=VISIBLE, outline=(0, 0, 0))
        elif flag == 1:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=OCCLUDED, width=3)
        else:  # an outside or invalid point a diagnostic names: a cross at its coordinates
            draw.line((cx - r, cy - r, cx + r, cy + r), fill=HIGHLIGHT, width=3)
            draw.line((cx - r, cy + r, cx + r, cy - r), fill=HIGHLIGHT, width=3)
    return canvas


def data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
