"""The HTML report: one self-contained file showing each flagged pose drawn on its image.

Everything comes from the pipeline's own objects: the diagnostics the engine produced and the
documents each Split already parsed (Split.document); nothing is parsed twice. Images are read
only for the annotations drawn, decoded at reduced size (JPEG draft mode) and embedded as
base64 thumbnails. All dataset text is untrusted: the template autoescapes every value, and a
Content-Security-Policy without script-src keeps even a missed escape from running a script.
"""

from __future__ import annotations

import base64
import io
import math
import os
import posixpath
import reprlib
import stat
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw

from poselint import __version__
from poselint.diagnostics import Diagnostic, display_path, totals
from poselint.load.dataset import Dataset, Split
from poselint.load.jsonvalues import is_id  # the ids the PL4xx rules compare (1.0 is one)
from poselint.load.tables import FloatArray
from poselint.report.text import capped, printable

if TYPE_CHECKING:
    import jinja2

MAX_FIGURES = 100  # drawn annotations per report; the rest are counted
THUMB_SIDE = 360  # longest side of a drawn thumbnail, px
MARGIN = 0.25  # the canvas may extend this fraction of the image beyond it, to show strays
FAR = 1e9  # coordinates beyond this are drawn as if here (on the view's rim either way)
MIN_VIEW = 0.2  # smallest view around a pose, as a fraction of the image's longest side
BAR_MAX = 200  # px, histogram bar of the most frequent visibility flag
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

VISIBILITY_BUCKETS = (
    ("0", "outside (v=0)", "#9e9e9e"),
    ("1", "occluded (v=1)", "#f5a623"),
    ("2", "visible (v=2)", "#2e7d32"),
    ("other", "other number", "#c62828"),
)

# Drawing colours (RGB).
OUT_OF_IMAGE = (52, 52, 58)
NO_IMAGE = (96, 96, 104)
BONE = (0, 190, 255)
VISIBLE = (60, 220, 90)
OCCLUDED = (255, 170, 40)
HIGHLIGHT = (255, 30, 60)
BBOX = (255, 235, 60)


@dataclass
class Bar:
    label: str
    colour: str
    count: int
    width: int  # px, the largest bucket is BAR_MAX


@dataclass
class SplitSummary:
    root: str
    name: str
    annotation_file: str
    images: int | None
    annotations: int | None
    labelled_keypoints: int
    keypoint_slots: int
    bars: list[Bar]
    note: str = ""


@dataclass
class ShownDiagnostic:
    code: str
    severity: str
    message: str
    location: str
    keypoint: str = ""  # "k=8 left_elbow" when the pointer names a keypoint


@dataclass
class OutsidePoint:
    index: int
    name: str
    x: str
    y: str
    stale: bool  # coordinates left non-zero (what PL601 is about)


@dataclass
class Figure:
    annotation_file: str
    index: int
    annotation_id: str
    file_name: str
    category: str
    thumbnails: list[str]  # data: URLs: a close-up when useful, then the overview
    image_note: str
    diagnostics: list[ShownDiagnostic]
    outside: list[OutsidePoint]
    anchor: str


@dataclass
class _Target:
    """One flagged annotation: where it is and what points at it."""

    split: Split
    index: int
    diagnostics: list[Diagnostic] = field(default_factory=list)
    keypoints: set[int] = field(default_factory=set)
    bbox: bool = False


def pointer_tokens(pointer: str | None) -> list[str]:
    """RFC 6901 pointer -> reference tokens ("/a~1b/0" -> ["a/b", "0"])."""
    if not pointer or not pointer.startswith("/"):
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _index(token: str) -> int | None:
    return int(token) if token.isdigit() and token.isascii() else None


def annotation_target(pointer: str | None) -> tuple[int, str | None, int | None] | None:
    """Where a pointer lands: "/annotations/17/keypoints/26" -> (17, "keypoints", 26).

    None when it does not point into an annotation."""
    tokens = pointer_tokens(pointer)
    if len(tokens) < 2 or tokens[0] != "annotations":
        return None
    index = _index(tokens[1])
    if index is None:
        return None
    member = tokens[2] if len(tokens) > 2 else None
    item = _index(tokens[3]) if len(tokens) > 3 else None
    return index, member, item


def _number(value: object) -> float | None:
    """A finite coordinate, or None (dataset values may be anything)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    as_float = float(value)
    return as_float if math.isfinite(as_float) else None


# Dataset values shown as text: containers a few levels deep at most (an `id` nested 1000
# deep must not recurse 1000 times), and short.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 200, 200


def _text(value: object, limit: int = 200) -> str:
    text = value if isinstance(value, str) else _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_template(name: str) -> jinja2.Template:
    """A page template: autoescaped, strict, every value through _finalize."""
    import jinja2  # only the HTML pages need it: `poselint check` starts faster without

    template = (resources.files("poselint.report") / "templates" / name).read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, finalize=_finalize)
    return env.from_string(template)


def _finalize(value: object) -> object:
    """Every value the template prints, as text output shows it: control, bidi and format
    characters escaped (a name cannot reorder what follows it), non-UTF-8 bytes as `\\xff`."""
    return printable(value) if isinstance(value, str) else value


# --- summaries ---------------------------------------------------------------------------


def visibility_counts(flags: FloatArray) -> Counter[str]:
    """How many keypoint flags are 0, 1, 2 or another number (three vector compares)."""
    counts = Counter({str(v): int(np.count_nonzero(flags == v)) for v in (0, 1, 2)})
    counts["other"] = len(flags) - sum(counts.values())
    return counts


def _bars(counts: Counter[str]) -> list[Bar]:
    top = max(counts.values(), default=0)
    return [
        Bar(label, colour, counts[key], round(BAR_MAX * counts[key] / top) if top else 0)
        for key, label, colour in VISIBILITY_BUCKETS
    ]


def summarise(split: Split, cwd: Path) -> SplitSummary:
    root = display_path(split.dataset.root, cwd)
    file = split.files.annotation_file
    annotation_file = display_path(file, cwd) if file else "(none)"
    document = split.document
    if document is None:
        note = "no annotation file" if file is None else "the annotation file did not parse"
        return SplitSummary(
            root, split.name, annotation_file, None, None, 0, 0, _bars(Counter()), note
        )
    images = document.get("images")
    annotations = document.get("annotations")
    # The numpy views the content rules already built: every triplet of every annotation
    # whose keypoints are a list of 3k numbers (the schema rule reports the others).
    counts = visibility_counts(split.tables.kp[:, 2])
    return SplitSummary(
        root=root,
        name=split.name,
        annotation_file=annotation_file,
        images=len(images) if isinstance(images, list) else None,
        annotations=len(annotations) if isinstance(annotations, list) else None,
        labelled_keypoints=counts["1"] + counts["2"],
        keypoint_slots=sum(counts.values()),
        bars=_bars(counts),
    )


# --- drawing -----------------------------------------------------------------------------


def safe_image_path(images_dir: Path, file_name: object) -> Path | None:
    """images_dir/file_name, or None when the name could point elsewhere (PL502's business)."""
    if not isinstance(file_name, str) or not file_name or "\0" in file_name or "\\" in file_name:
        return None
    relative = PurePosixPath(file_name)
    if relative.is_absolute() or ".." in relative.parts:
        return None
    return images_dir / relative


def indexed_image_path(split: Split, file_name: object) -> Path | str:
    """The image to draw, or why not. Only files the split's image index lists as regular
    files are opened: the walk the PL5xx rules trust, which follows no link out of the dataset
    root but DVC's cache, and never opens a FIFO."""
    images_dir = split.files.images_dir
    path = safe_image_path(images_dir, file_name) if images_dir is not None else None
    if path is None or split.images is None or not isinstance(file_name, str):
        return "unsafe or missing file_name: image not read"
    key = posixpath.normpath(file_name)
    info = split.images.files.get(key)
    if info is not None and info.kind == "file":
        return path
    if info is not None and info.kind == "other":
        return "not a regular file: image not read"
    why = split.images.notes.get(key)
    return f"image not read: {why}" if why else "image file missing"


@dataclass
class Picture:
    pixels: Image.Image  # RGB, maybe decoded at 1/2..1/8 scale (JPEG draft)
    size: tuple[int, int]  # the image's real size, which annotation coordinates refer to


def open_picture(path: Path | None, scale: float) -> tuple[Picture | None, str]:
    """The image decoded at `scale` or a little more, or None and why not. Never raises."""
    if path is None:
        return None, "unsafe or missing file_name: image not read"
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the report
            return None, "not a regular file: image not read"
    except FileNotFoundError:
        return None, "image file missing"
    except OSError as exc:
        return None, f"image not readable ({type(exc).__name__})"
    return decode_picture(path, scale)


def decode_picture(source: Path | bytes, scale: float) -> tuple[Picture | None, str]:
    """An image file (or its bytes, read from a git or DVC revision) decoded at `scale` or a
    little more, or None and why not. Never raises."""
    try:
        with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as im:
            size = im.size
            scale = min(1.0, scale)
            # JPEG: decode at 1/2..1/8 in the decoder itself, far faster than full size.
            im.draft("RGB", (max(1, int(size[0] * scale)), max(1, int(size[1] * scale))))
            return Picture(im.convert("RGB"), size), ""
    except FileNotFoundError:
        return None, "image file missing"
    # Pillow raises many types on hostile files (OSError, SyntaxError, ValueError,
    # DecompressionBombError...): the report shows the pose without its picture instead.
    except Exception as exc:
        return None, f"image not readable ({type(exc).__name__})"


class _LastPicture:
    """Consecutive flagged annotations often share an image: decode it once for them."""

    def __init__(self) -> None:
        self.key: tuple[Path, float] | None = None
        self.value: tuple[Picture | None, str] = (None, "")

    def get(self, path: Path | None, scale: float) -> tuple[Picture | None, str]:
        if path is None:
            return open_picture(None, scale)
        if self.key is None or self.key[0] != path or self.key[1] < scale:
            self.key, self.value = (path, scale), open_picture(path, scale)
        return self.value


@dataclass
class _Point:
    k: int
    x: float | None
    y: float | None
    v: object


def _coordinate(value: object) -> float | None:
    """A coordinate to draw: 1e308 still sits on the rim, without overflowing the arithmetic."""
    number = _number(value)
    return None if number is None else min(max(number, -FAR), FAR)


def _points(keypoints: object) -> list[_Point]:
    if not isinstance(keypoints, list):
        return []
    return [
        _Point(i // 3, _coordinate(keypoints[i]), _coordinate(keypoints[i + 1]), keypoints[i + 2])
        for i in range(0, len(keypoints) - 2, 3)
    ]


def _edges(category: dict[str, Any] | None, n_points: int) -> list[tuple[int, int]]:
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


def _flag(v: object) -> int | None:
    return int(v) if _number(v) is not None and v in (0, 1, 2) else None


@dataclass
class Pose:
    """What to draw for one annotation, in image coordinates."""

    points: list[_Point]
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
            and (_flag(p.v) in (1, 2) or (p.k in self.highlight and not labelled_only))
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
    labelled = {p.k for p in pose.points if _flag(p.v) in (1, 2)}
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
        flag = _flag(p.v)
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


# --- assembling --------------------------------------------------------------------------


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
        return _text(names[k], 60)
    return ""


def _bbox(ann: dict[str, Any]) -> tuple[float, float, float, float] | None:
    raw = ann.get("bbox")
    if not isinstance(raw, list) or len(raw) != 4:
        return None
    x, y, w, h = (_coordinate(v) for v in raw)
    return None if x is None or y is None or w is None or h is None else (x, y, w, h)


def _declared_size(img: dict[str, Any] | None) -> tuple[float, float] | None:
    if img is None:
        return None
    w, h = _coordinate(img.get("width")), _coordinate(img.get("height"))
    return (w, h) if w is not None and h is not None and w > 0 and h > 0 else None


def _shown(d: Diagnostic, category: dict[str, Any] | None, cwd: Path) -> ShownDiagnostic:
    where = annotation_target(d.pointer)
    keypoint = ""
    if where and where[1] == "keypoints" and where[2] is not None:
        k = where[2] // 3
        keypoint = f"k={k} {_keypoint_name(category, k)}".strip()
    location = d.display_path(cwd) + (d.pointer or "")
    return ShownDiagnostic(d.code, d.severity, d.message, location, keypoint)


class _Lookups:
    """images and categories by id, per split, built only for splits with flagged annotations."""

    def __init__(self) -> None:
        self._by_split: dict[int, tuple[dict[Any, Any], dict[Any, Any]]] = {}

    def of(self, split: Split, document: dict[str, Any]) -> tuple[dict[Any, Any], dict[Any, Any]]:
        if id(split) not in self._by_split:
            self._by_split[id(split)] = (_images_by_id(document), _categories_by_id(document))
        return self._by_split[id(split)]


def _figure(
    number: int, target: _Target, lookups: _Lookups, pictures: _LastPicture, cwd: Path
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
    points = _points(keypoints)
    pose = Pose(points, _edges(category, len(points)), target.keypoints, _bbox(ann), target.bbox)
    file_name = img.get("file_name") if img else None
    declared = _declared_size(img)

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
            _text(keypoints[3 * p.k]),  # _points checked it is a list
            _text(keypoints[3 * p.k + 1]),
            stale=(p.x, p.y) != (0.0, 0.0),
        )
        for p in points
        if _flag(p.v) == 0
    ]
    annotation_file = split.files.annotation_file
    return Figure(
        annotation_file=display_path(annotation_file, cwd) if annotation_file else "",
        index=target.index,
        annotation_id=_text(ann.get("id")),
        file_name=_text(file_name) if file_name is not None else "(unknown image)",
        category=_text(category.get("name")) if category else _text(category_id),
        thumbnails=thumbnails,
        image_note=note,
        diagnostics=[_shown(d, category, cwd) for d in target.diagnostics],
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

    from poselint.rules import rules_by_code

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
    lookups, pictures = _Lookups(), _LastPicture()
    return load_template("report.html.j2").render(
        version=__version__,
        bar_max=BAR_MAX,
        thumb_side=THUMB_SIDE,
        csp=CSP,
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
        listed=[
            ShownDiagnostic(d.code, d.severity, d.message, d.display_path(cwd) + (d.pointer or ""))
            for d in listed
        ],
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
    from poselint.fsutil import atomic_write_bytes

    html = render_html(datasets, diagnostics, cwd=cwd, limit=limit)
    atomic_write_bytes(path, html.encode("utf-8"))
