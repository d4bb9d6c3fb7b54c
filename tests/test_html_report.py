"""The HTML report: what it holds, how it draws, that dataset text cannot script it, and
that a real browser (Debian's chromium, headless, off the network) renders it."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from builders import coco, image, person, write_image
from conftest import CliResult
from poselint.config import Config
from poselint.diagnostics import Diagnostic
from poselint.load.dataset import Dataset
from poselint.report.html.drawing import (
    BBOX,
    BONE,
    HIGHLIGHT,
    OCCLUDED,
    VISIBLE,
    Pose,
    data_url,
    draw_pose,
    points,
)
from poselint.report.html.model import annotation_target
from poselint.report.html.page import CSP
from poselint.report.html.report import render_html

Cli = Callable[..., CliResult]

# What a hostile annotator could put in a file name: if it ever ran, the page would say so.
SCRIPT_NAME = "<script>document.title='pwned';document.body.setAttribute('data-pwned','1')<"
SCRIPT_FILE = SCRIPT_NAME + "/script>.jpg"  # the "/" makes a folder on disk, as it would
IMG_NAME = "<img src=x onerror=\"document.title='pwned-img'\">"


class _Page(HTMLParser):
    """The report's structure, as a parser (not a regex) sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict[str, object]] = []
        self.img_srcs: list[str] = []
        self.svgs = 0
        self.summary_rows = 0
        self.csp: str | None = None
        self.scripts = 0
        self._in_summary = False
        self._in_figure = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "figure" and "annotation" in (a.get("class") or ""):
            self.figures.append({"id": a.get("id"), "imgs": [], "text": ""})
            self._in_figure = True
        if tag == "img":
            self.img_srcs.append(a.get("src") or "")
            if self.figures:
                self.figures[-1]["imgs"].append(a.get("src"))  # type: ignore[attr-defined]
        if tag == "svg":
            self.svgs += 1
        if tag == "table" and a.get("id") == "summary":
            self._in_summary = True
        if tag == "tr" and self._in_summary and "split" in (a.get("class") or ""):
            self.summary_rows += 1
        if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy":
            self.csp = a.get("content")
        if tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_summary = False
        if tag == "figure":
            self._in_figure = False

    def handle_data(self, data: str) -> None:
        if self._in_figure:
            self.figures[-1]["text"] += data  # type: ignore[operator]


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def decode_data_url(url: str) -> Image.Image:
    assert url.startswith("data:image/jpeg;base64,"), url[:40]
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def export_with_stale_points(make_cvat_export: Callable[..., Path]) -> Path:
    """The raw CVAT export: Train/Validation, outside points keeping stale coordinates."""
    return make_cvat_export()


# --- the CLI --------------------------------------------------------------------------------


def test_html_needs_output(cli: Cli, make_cvat_export: Callable[..., Path]) -> None:
    result = cli("check", make_cvat_export(), "--format", "html")
    assert result.code == 2
    assert "--format html needs --output FILE" in result.err
    assert result.out == ""


def highlighted_pixels(thumb: Image.Image) -> int:
    """Pixels of the highlight red (JPEG shifts colours a little)."""
    rgb = thumb.convert("RGB")
    return sum(
        n
        for n, (r, g, b) in rgb.getcolors(1 << 20) or []  # type: ignore[misc]
        if abs(r - HIGHLIGHT[0]) < 50 and g < 90 and abs(b - HIGHLIGHT[2]) < 60
    )


def report_shows_each_problem(cli: Cli, root: Path, tmp_path: Path) -> tuple[str, _Page]:
    """Run `check --format html` on root; every annotation a diagnostic points into has a
    figure with its drawing, its diagnostics' text and location, and a highlight."""
    report = tmp_path / "report.html"
    result = cli("check", root, "--format", "html", "--output", report)
    assert result.code == 1, result
    assert "Found " in result.out  # the terminal still gets the text view
    listed = cli("check", root, "--format", "json").json()
    assert "PL000" not in {d["code"] for d in listed}
    by_annotation: dict[tuple[str, int], list[dict[str, object]]] = {}
    for d in listed:
        where = annotation_target(d.get("pointer"))  # type: ignore[arg-type]
        if where is not None:
            by_annotation.setdefault((str(d["path"]), where[0]), []).append(d)
    assert by_annotation, "the dataset must have annotation diagnostics for this to mean much"

    html = report.read_text("utf-8")
    page = parse(html)
    assert len(page.figures) == len(by_annotation)
    for (path, index), diagnostics in by_annotation.items():
        [figure] = [
            f
            for f in page.figures
            if f"{path} · annotations[{index}]" in f["text"]  # type: ignore[operator]
        ]
        for d in diagnostics:
            assert f"{d['path']}{d['pointer']}" in figure["text"]  # type: ignore[operator]
            assert str(d["message"]) in figure["text"]  # type: ignore[operator]
        thumbs = [decode_data_url(src) for src in figure["imgs"]]  # type: ignore[attr-defined]
        assert thumbs and all(max(t.size) == 360 for t in thumbs)
        if any("/keypoints/" in str(d["pointer"]) for d in diagnostics):
            assert highlighted_pixels(thumbs[0]) > 30, figure["id"]
    # Split-level diagnostics have no annotation: a plain list.
    other = html.split('id="other"', 1)[1]
    for d in listed:
        if annotation_target(d.get("pointer")) is None:  # type: ignore[arg-type]
            assert f"{d['path']}{d.get('pointer') or ''}</span>: <b>{d['code']}" in other
    errors = sum(d["severity"] == "error" for d in listed)
    assert f'id="total-errors">{errors:,} error' in html
    # Self-contained and script-free.
    assert page.csp == CSP and page.scripts == 0
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    return html, page


def test_cvat_export_report_draws_each_flagged_annotation(
    cli: Cli, make_cvat_export: Callable[..., Path], tmp_path: Path
) -> None:
    html, page = report_shows_each_problem(cli, make_cvat_export(), tmp_path)
    assert "x=900.0, y=-20.0" in html and "(not zeroed)" in html  # the stale outside point
    assert "[k=2 right_eye]" in html
    # Summary: both splits, rule counts, errors vs warnings, a histogram per split.
    assert page.summary_rows == 2 and page.svgs == 2
    assert re.search(
        r"<td class=\"mono\">PL601</td><td class=\"mono\">outside-point-not-zeroed", html
    )
    assert "PL201" in html.split('id="other"', 1)[1]


def test_after_fix_the_report_draws_the_files_as_they_are_now(
    cli: Cli, make_cvat_export: Callable[..., Path], tmp_path: Path
) -> None:
    root, report = make_cvat_export(), tmp_path / "fixed.html"
    # PL606 is opt-in: selected here so that a finding remains to be drawn after the fix
    select = ("--select", "PL2,PL6,PL606")
    fix = ("--fix", "--unsafe-fixes")
    assert cli("check", root, *fix, *select, "--format", "html", "--output", report).code == 1
    html = report.read_text("utf-8")
    page = parse(html)
    # Renamed splits, zeroed outside points: what remains (PL606) is drawn from the new file.
    assert '<td class="mono">train</td>' in html and '<td class="mono">val</td>' in html
    assert "person_keypoints_Train.json" not in html and "(not zeroed)" not in html
    [figure] = page.figures
    assert "person_keypoints_train.json · annotations[2]" in figure["text"]  # type: ignore[operator]
    assert figure["imgs"] and "PL606" in figure["text"]  # type: ignore[operator]


EXAMPLE_EXPORT = Path(__file__).resolve().parents[1] / "example-repo" / "incoming"


def test_example_repo_broken_export_shows_each_problem_drawn(cli: Cli, tmp_path: Path) -> None:
    root = shutil.copytree(EXAMPLE_EXPORT, tmp_path / "incoming")  # never touch the repo's copy
    html, page = report_shows_each_problem(cli, root, tmp_path)
    assert page.summary_rows >= 2 and page.svgs == page.summary_rows
    assert "(not zeroed)" in html  # CVAT's outside points with stale coordinates, listed


def test_report_path_is_written_atomically_next_to_the_target(
    cli: Cli, make_cvat_export: Callable[..., Path], tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "r.html"
    target.write_text("old")
    assert cli("check", make_cvat_export(), "--format", "html", "--output", target).code == 1
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in out_dir.iterdir()] == ["r.html"]  # no temp file left behind
    (tmp_path / "a-file").write_text("")  # a folder cannot be made here: exit 2, a message
    blocked = cli(
        "check", make_cvat_export("e2"), "--format", "html", "--output", tmp_path / "a-file/r.html"
    )
    assert blocked.code == 2 and "poselint: error" in blocked.err


# --- drawing --------------------------------------------------------------------------------


def test_visible_points_are_filled_occluded_hollow_and_the_named_point_ringed() -> None:
    background = (10, 20, 30)
    picture_pixels = Image.new("RGB", (200, 200), background)
    from poselint.report.html.images import Picture

    # k0, k1 visible and joined; k2 outside with stale coordinates, named by a diagnostic;
    # k3 occluded, joined to nothing
    keypoints = [40.0, 40.0, 2, 160.0, 40.0, 2, 100.0, 160.0, 0, 40.0, 160.0, 1]
    pose = Pose(points(keypoints), [(0, 1)], {2}, (30.0, 30.0, 140.0, 140.0), False)
    drawn = draw_pose(Picture(picture_pixels, (200, 200)), (200.0, 200.0), pose, (0, 0, 200, 200))
    assert drawn.size == (360, 360)
    s = 360 / 200

    def near(xy: tuple[float, float], colour: tuple[int, int, int], radius: int = 6) -> bool:
        x, y = round(xy[0] * s), round(xy[1] * s)
        for dx in range(-radius, radius + 1):
            for dy in range(-radius, radius + 1):
                got = drawn.getpixel((x + dx, y + dy))
                if all(abs(a - b) <= 40 for a, b in zip(got, colour, strict=True)):  # type: ignore[arg-type]
                    return True
        return False

    assert drawn.getpixel((round(40 * s), round(40 * s))) == VISIBLE  # filled
    assert drawn.getpixel((round(160 * s), round(40 * s))) == VISIBLE
    assert near((40, 160), OCCLUDED)  # its ring
    assert drawn.getpixel((round(40 * s), round(160 * s))) == background  # hollow
    assert near((100, 160), HIGHLIGHT, radius=14)  # the named outside point: cross + ring
    assert near((30, 100), BBOX, radius=2)  # bbox edge
    # What the report test counts as "highlighted" is there only with a named point.
    as_jpeg = decode_data_url(data_url(drawn))
    assert highlighted_pixels(as_jpeg) > 30
    plain = Pose(pose.points, pose.edges, set(), pose.bbox, False)
    whole = (0.0, 0.0, 200.0, 200.0)
    unmarked = draw_pose(Picture(picture_pixels, (200, 200)), (200.0, 200.0), plain, whole)
    assert highlighted_pixels(decode_data_url(data_url(unmarked))) == 0
    # The edge between k0 and k1 is drawn, in the bone colour (no endpoint is named).
    assert drawn.getpixel((round(100 * s), round(40 * s))) == BONE


def test_small_person_gets_a_close_up_and_far_stale_point_an_overview() -> None:
    from poselint.report.html.drawing import views

    keypoints = [100.5, 50.25, 2, 110.0, 45.0, 1, 900.0, -20.0, 0, 120.0, 60.0, 2]
    pose = Pose(points(keypoints), [], {2}, None, False)
    regions = views(pose, 640.0, 480.0)
    assert len(regions) == 2
    close, overview = regions
    assert close[2] - close[0] < 200 and close[0] <= 100.5 and close[2] >= 120
    assert overview[0] <= 0 and overview[2] >= 640  # the whole image and a margin beyond


def test_pointer_parsing() -> None:
    assert annotation_target("/annotations/17/keypoints/26") == (17, "keypoints", 26)
    assert annotation_target("/annotations/3") == (3, None, None)
    assert annotation_target("/annotations/3/bbox/2") == (3, "bbox", 2)
    assert annotation_target("/images/3/file_name") is None
    assert annotation_target("/annotations/x") is None
    assert annotation_target(None) is None
    assert annotation_target("/annotations/٣") is None  # a non-ASCII digit is not an index


# --- untrusted dataset text -----------------------------------------------------------------


def hostile_dataset(make_dataset: Callable[..., Path]) -> Path:
    """Script in a file name, a handler in a keypoint name and an attribute; stale points."""
    category = {
        "id": 1,
        "name": "person</title><script>document.title='pwned-cat'</script>",
        "supercategory": "",
        "keypoints": ["nose", IMG_NAME, "right_eye", "left_ear"],
        "skeleton": [[2, 4], [1, 2], [1, 3]],
    }
    train = coco(
        [image(1, SCRIPT_FILE), image(2, "img_002.jpg")],
        [
            person(1, 1, [10, 12, 2, 20, 10, 1, 50, 40, 0, 30, 20, 2], attributes={"x": IMG_NAME}),
            person(2, 2, [10, 12, 2, 20, 10, 2, 30, 30, 0, 30, 20, 2]),
        ],
        [category],
    )
    val = coco(
        [image(3, "v.jpg")], [person(1, 3, [5, 6, 2, 7, 8, 2, 9, 10, 1, 11, 12, 2])], [category]
    )
    return make_dataset({"train": train, "val": val})


def test_dataset_text_is_escaped(make_dataset: Callable[..., Path], tmp_path: Path) -> None:
    root = hostile_dataset(make_dataset)
    ds = Dataset(root, Config())
    path = root / "annotations" / "person_keypoints_train.json"
    diagnostics = [
        Diagnostic("PL601", f"outside point in {SCRIPT_FILE}", path, "/annotations/0/keypoints/6"),
        Diagnostic("PL999", f"about {IMG_NAME}", path, "/images/0/file_name"),
    ]
    html = render_html([ds], diagnostics, cwd=tmp_path, limit=20)
    for raw in (SCRIPT_NAME, IMG_NAME, "<script>document.title='pwned-cat'"):
        assert raw not in html
    assert "&lt;script&gt;document.title=" in html
    assert "&lt;img src=x onerror=" in html
    page = parse(html)
    assert page.scripts == 0 and len(page.figures) == 1
    assert all(src.startswith("data:image/jpeg;base64,") for src in page.img_srcs)


def test_unsafe_unreadable_and_special_image_files_never_break_the_report(
    make_dataset: Callable[..., Path], tmp_path: Path
) -> None:
    train = coco(
        [
            image(1, "../../outside.jpg"),
            image(2, "broken.jpg"),
            image(3, "fifo.jpg"),
            image(4, "gone.jpg"),
            image(5, "ok.jpg"),
        ],
        [
            person(1, 1, [10, 12, 2, 20, 10, 1, 50, 40, 0, 30, 20, 2]),
            person(2, 2, [10, 12, 2, 20, 10, 1, 50, 40, 0, 30, 20, 2]),
            person(3, 3, [10, 12, 2, 20, 10, 1, 50, 40, 0, 30, 20, 2]),
            person(4, 4, [10, 12, 2, 20, 10, 1, 50, 40, 0, 30, 20, 2]),
            # junk where numbers belong, a 1e308 coordinate, a dangling image_id
            {**person(5, 5, [10, 12, 2]), "keypoints": ["x", [1], {"v": 2}, 1e308, 5, 2]},
            person(6, 99, [10, 12, 2, 20, 10, 1, 50, 40, 0, 30, 20, 2]),
        ],
    )
    root = make_dataset({"train": train}, images=False)
    images = root / "images" / "train"
    write_image(tmp_path / "outside.jpg", 64, 48)  # what "../../outside.jpg" would reach
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    os.mkfifo(images / "fifo.jpg")  # opening it for reading would block forever
    write_image(images / "ok.jpg", 64, 48)
    path = root / "annotations" / "person_keypoints_train.json"
    diagnostics = [
        Diagnostic("PL601", "stale", path, f"/annotations/{i}/keypoints/6") for i in range(6)
    ]
    html = render_html([Dataset(root, Config())], diagnostics, cwd=tmp_path, limit=20)
    page = parse(html)
    assert len(page.figures) == 6
    assert "unsafe or missing file_name: image not read" in html
    assert "image not readable (" in html
    assert "not a regular file: image not read" in html
    assert "image file missing" in html
    assert "no image with this image_id" in html
    assert all(f["imgs"] for f in page.figures)  # every pose still drawn, on a stand-in


def test_figures_are_capped_with_a_count_of_the_rest(
    make_cvat_export: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_cvat_export()
    path = root / "annotations" / "person_keypoints_Train.json"
    diagnostics = [
        Diagnostic("PL601", "stale", path, f"/annotations/{i}/keypoints/6") for i in range(4)
    ]
    html = render_html(
        [Dataset(root, Config())], diagnostics, cwd=tmp_path, limit=20, max_figures=1
    )
    assert len(parse(html).figures) == 1
    assert "Flagged annotations (4)" in html
    assert "3 more flagged annotations not drawn" in html


def test_wheel_ships_the_template_and_renders_installed(
    make_cvat_export: Callable[..., Path], tmp_path: Path
) -> None:
    repo = Path(__file__).resolve().parents[1]
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip_wheel, "-w", str(tmp_path / "dist"), str(repo)],
        check=True,
        capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("poselint-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert "poselint/report/templates/report.html.j2" in zf.namelist()
        zf.extractall(tmp_path / "site")
    # Render from the unpacked wheel, with no checkout next to it.
    root, out = make_cvat_export(), tmp_path / "r.html"
    code = (
        "import sys, poselint.cli as c; print(c.__file__); "
        "sys.exit(c.main(['check', sys.argv[1], '--format', 'html', '--output', sys.argv[2]]))"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(root), str(out)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(str(tmp_path / "site"))
    assert len(parse(out.read_text("utf-8")).figures) >= 1


# --- a real browser --------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]


@pytest.fixture
def chromium(tmp_path: Path) -> Callable[..., str]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(".ci/run installs chromium; it is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    runs = iter(range(100))

    def run(*args: str) -> str:
        profile = tmp_path / f"chromium-profile-{next(runs)}"  # fresh each time
        done = subprocess.run(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    return run


def test_browser_detects_a_script_that_runs(chromium: Callable[..., str], tmp_path: Path) -> None:
    """The check below can fail: the same payload, unescaped and without the CSP, runs."""
    page = tmp_path / "control.html"
    page.write_text(
        f"<html><head><title>control</title></head><body>{SCRIPT_NAME}/script></body></html>"
    )
    dom = chromium("--dump-dom", page.as_uri())
    assert "<title>pwned</title>" in dom and 'data-pwned="1"' in dom
    # The CSP alone stops it, even unescaped: the second line of defence.
    guarded = tmp_path / "guarded.html"
    guarded.write_text(
        f'<html><head><meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>guarded</title></head><body>{SCRIPT_NAME}/script></body></html>"
    )
    dom = chromium("--dump-dom", guarded.as_uri())
    assert "<title>guarded</title>" in dom and 'data-pwned="1"' not in dom


def test_report_in_headless_chromium(
    cli: Cli, chromium: Callable[..., str], make_dataset: Callable[..., Path], tmp_path: Path
) -> None:
    root = hostile_dataset(make_dataset)
    report = tmp_path / "report.html"
    result = cli("check", root, "--format", "html", "--output", report)
    assert result.code == 1, result
    assert "PL000" not in result.out

    dom = chromium("--dump-dom", report.as_uri())
    # Nothing from the dataset ran: the title is ours, no attribute or element was added.
    assert "<title>poselint report</title>" in dom
    assert "pwned" not in dom.split("<body", 1)[0]
    assert "<body>" in dom and 'data-pwned="1"' not in dom
    page = parse(dom)
    assert page.scripts == 0
    # The injected text is there, as text.
    assert "&lt;script&gt;document.title='pwned'" in dom
    # The expected elements: summary table, a figure per flagged annotation with data: images,
    # an SVG histogram per split.
    assert page.summary_rows == 2 and page.svgs == 2
    assert page.figures and all(f["imgs"] for f in page.figures)
    assert all(s.startswith("data:image/jpeg;base64,") for s in page.img_srcs)
    assert re.search(r'<svg class="histogram"[^>]*>.*?<rect', dom, re.S)

    shot = tmp_path / "report.png"
    chromium(
        f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars", report.as_uri()
    )
    with Image.open(shot) as png:
        assert png.size == (1280, 2000)
        # Rendered, not blank: the page has the report's dark text and the thumbnails' colours.
        assert len(png.convert("RGB").getcolors(1 << 20) or []) > 50


def test_a_link_out_of_the_dataset_root_is_not_drawn(
    make_dataset: Callable[..., Path], tmp_path: Path
) -> None:
    """The report opens only what the image index trusts: no link out of the root."""
    train = coco(
        [image(1, "linked.jpg"), image(2, "ok.jpg")],
        [person(i, i, [10, 12, 2, 20, 10, 1, 50, 40, 0, 30, 20, 2]) for i in (1, 2)],
    )
    root = make_dataset({"train": train}, images=False)
    secret = tmp_path / "elsewhere" / "secret.jpg"
    write_image(secret, 64, 48)
    os.symlink(secret, root / "images" / "train" / "linked.jpg")
    write_image(root / "images" / "train" / "ok.jpg", 64, 48)
    path = root / "annotations" / "person_keypoints_train.json"
    diagnostics = [
        Diagnostic("PL601", "stale", path, f"/annotations/{i}/keypoints/6") for i in range(2)
    ]
    html = render_html([Dataset(root, Config())], diagnostics, cwd=tmp_path, limit=20)
    assert html.count("image not read") + html.count("image file missing") == 1
    assert len(parse(html).figures) == 2


def test_ids_nested_1000_deep_are_shown_shortened(
    cli: Cli, make_dataset: Callable[..., Path]
) -> None:
    """An `id` or `image_id` nested 1000 deep (the schema check reports it) is shown as a few
    levels of brackets, not rendered by a recursion that runs out of stack."""
    deep = "[" * 1000 + "1" + "]" * 1000
    train = coco(
        [image(1, "a.jpg")],
        [person(7, 1, [10, 12, 7, 20, 10, 2]), person(8, 1, [10, 12, 7, 20, 10, 2])],
    )
    root = make_dataset({"train": train})
    path = root / "annotations" / "person_keypoints_train.json"
    text = path.read_text().replace('"id": 7', f'"id": {deep}', 1)
    path.write_text(text.replace('"image_id": 1', f'"image_id": {deep}', 1))
    report = root.parent / "report.html"
    result = cli("check", root, "--format", "html", "--output", report, "-q", cwd=root.parent)
    assert result.code == 1 and result.err == "", result
    assert "PL602" in result.out and "PL310" in result.out
    figures = parse(report.read_text()).figures
    assert len(figures) == 2
    first = str(figures[0]["text"])
    assert "[[[[...]]]]" in first and "no image with this image_id" in first
    assert "[[[[[" not in first
