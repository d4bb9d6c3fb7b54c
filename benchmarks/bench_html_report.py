"""Benchmark the HTML report at COCO-2017 scale, with thousands of flagged annotations.

    .venv/bin/python benchmarks/bench_html_report.py [--src /tmp/poselint-bench/pose]

--src is a dataset root; the default is the one benchmarks/bench_check.py generates (run that
first). This script writes a copy of its annotation files into --root in which every
`--every`-th annotation keeps stale coordinates on one outside point (PL601), links the image
folders, then prints, each in a fresh process as a user runs it:

- `poselint check --format json --output`: the baseline;
- `poselint check --format html --output`: the same plus the report (summary from the numpy
  views the rules built, at most 100 drawn annotations, image files read only for those).

Figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import orjson

POSELINT = Path(sys.executable).with_name("poselint")


def make_root(src: Path, root: Path, every: int) -> int:
    """Copy src's annotations with stale outside points; link its image folders. -> #flagged."""
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(parents=True, exist_ok=True)
    flagged = 0
    for ann_file in sorted((src / "annotations").glob("person_keypoints_*.json")):
        doc = orjson.loads(ann_file.read_bytes())
        for i, ann in enumerate(doc["annotations"]):
            if i % every:
                continue
            kp = ann["keypoints"]
            for k in range(len(kp) // 3):
                if kp[3 * k + 2] == 0:
                    kp[3 * k], kp[3 * k + 1] = 12.0, 34.0  # CVAT's stale coordinates
                    flagged += 1
                    break
        (root / "annotations" / ann_file.name).write_bytes(orjson.dumps(doc))
    for split_dir in (src / "images").iterdir():
        link = root / "images" / split_dir.name
        if not link.exists():
            link.symlink_to(split_dir.resolve(), target_is_directory=True)
    return flagged


def timed(argv: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and exit code of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", type=Path, default=Path("/tmp/poselint-bench/pose"))
    parser.add_argument("--root", type=Path, default=Path("/tmp/poselint-bench-html/pose"))
    parser.add_argument("--every", type=int, default=20)
    args = parser.parse_args()
    if not (args.src / "annotations").is_dir():
        sys.exit(f"{args.src}: no dataset root; run benchmarks/bench_check.py first")
    flagged = make_root(args.src, args.root, args.every)
    print(f"dataset: {args.root} ({flagged:,} annotations with a stale outside point)")
    out = args.root.parent
    base = [str(POSELINT), "check", str(args.root), "-q", "--no-image-size"]
    for fmt in ("json", "html"):
        target = out / f"report.{fmt}"
        wall, rss, code = timed([*base, "--format", fmt, "--output", str(target)])
        print(
            f"--format {fmt:<4}: {wall:6.2f} s wall, {rss:7.0f} MiB peak RSS, exit {code}, "
            f"{target.stat().st_size / 1e6:.2f} MB written"
        )
    # The report's own cost, in-process, after the same lint.
    from poselint.config import Config
    from poselint.engine import lint_dataset, select_rules
    from poselint.load.dataset import Dataset
    from poselint.report.html.report import render_html

    config = Config(image_size=False)
    dataset = Dataset(args.root, config)
    diagnostics = lint_dataset(dataset, select_rules(config))
    start = time.perf_counter()
    render_html([dataset], diagnostics, cwd=Path.cwd(), limit=config.max_per_rule)
    print(
        f"render_html alone: {time.perf_counter() - start:.2f} s, {len(diagnostics):,} diagnostics"
    )
    html = (out / "report.html").read_text("utf-8")
    figures = len(re.findall(r'<figure class="annotation"', html))
    thumbs = len(re.findall(r'src="data:image/jpeg;base64,', html))
    hidden = re.search(r"([\d,]+) more flagged annotations? not drawn", html)
    print(
        f"report: {figures} annotations drawn ({thumbs} thumbnails), "
        f"{hidden.group(1) if hidden else 0} more counted"
    )


if __name__ == "__main__":
    main()
