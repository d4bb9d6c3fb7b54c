"""Benchmark poselint on a DVC-tracked dataset: the stale check and --no-pull.

    .venv/bin/python benchmarks/bench_dvc.py [--images 20000] [--root /tmp/poselint-bench-dvc]

Builds a git + DVC repo whose dataset has N distinct real JPEGs (one per image, ~N/10 in
val) and one person per image, `dvc add`s and `dvc push`es it to a local remote, then times,
each as a user runs it (a fresh process):

- `poselint check` of the workspace through `data/pose.dvc` (with the PL108 stale check,
  i.e. `dvc data status` on a dataset DVC has already hashed), and without it (the folder);
- `poselint check --no-pull` after deleting the workspace data and the DVC cache;
- the same after deleting every image object from the remote as well: if the time does not
  move, --no-pull reads no image bytes (its cost follows the file count, not image bytes).

Figures, not assertions.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

BIN = Path(sys.executable).parent
PERSON = {
    "id": 1,
    "name": "person",
    "supercategory": "",
    "keypoints": ["nose", "left_eye", "right_eye", "left_ear"],
    "skeleton": [[2, 4], [1, 2], [1, 3]],
}


def env_for(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(root / "home" / "dvc-site"),
            "DVC_GLOBAL_CONFIG_DIR": str(root / "home" / "dvc-global"),
            "DVC_SYSTEM_CONFIG_DIR": str(root / "home" / "dvc-system"),
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.invalid",
        }
    )
    return env


def sh(argv: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if check and proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
    return elapsed


def build(repo: Path, n_images: int) -> int:
    """The dataset; returns its image bytes."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(buf, "JPEG")
    jpeg = buf.getvalue()
    root = repo / "data" / "pose"
    total = 0
    n_val = max(1, n_images // 10)
    for split, count, first in (("train", n_images - n_val, 0), ("val", n_val, n_images - n_val)):
        folder = root / "images" / split
        folder.mkdir(parents=True)
        images, annotations = [], []
        for i in range(first, first + count):
            name = f"{i:07d}.jpg"
            data = jpeg + i.to_bytes(4, "big")  # bytes after EOI: distinct file, same image
            (folder / name).write_bytes(data)
            total += len(data)
            images.append({"id": i + 1, "width": 64, "height": 48, "file_name": name})
            annotations.append(
                {
                    "id": i + 1,
                    "image_id": i + 1,
                    "category_id": 1,
                    "segmentation": [],
                    "area": 100.0,
                    "bbox": [10.0, 10.0, 10.0, 10.0],
                    "iscrowd": 0,
                    "keypoints": [10, 10, 2, 15, 12, 2, 0, 0, 0, 20, 20, 1],
                    "num_keypoints": 3,
                }
            )
        (root / "annotations").mkdir(exist_ok=True)
        doc = {"images": images, "annotations": annotations, "categories": [PERSON]}
        (root / "annotations" / f"person_keypoints_{split}.json").write_text(json.dumps(doc))
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--root", type=Path, default=Path("/tmp/poselint-bench-dvc"))
    args = parser.parse_args()
    shutil.rmtree(args.root, ignore_errors=True)
    repo = args.root / "repo"
    repo.mkdir(parents=True)
    env = env_for(args.root)
    dvc, poselint = str(BIN / "dvc"), str(BIN / "poselint")

    image_bytes = build(repo, args.images)
    sh(["git", "init", "-q"], repo, env)
    sh([dvc, "init", "-q"], repo, env)
    t_add = sh([dvc, "add", "-q", "data/pose"], repo, env)
    sh([dvc, "remote", "add", "-d", "store", "../remote"], repo, env)
    t_push = sh([dvc, "push", "-q"], repo, env)
    print(f"dataset: {args.images:,} images, {image_bytes / 1e6:.1f} MB of images")
    print(f"  dvc add {t_add:.2f} s, dvc push {t_push:.2f} s (setup, for scale)")

    plain = sh([poselint, "check", "data/pose", "-q", "--ignore", "PL108", "--no-cache"], repo, env)
    tracked = sh([poselint, "check", "data/pose.dvc", "-q", "--no-cache"], repo, env)
    print(f"workspace, no stale check (PL108 ignored):   {plain:.2f} s")
    print(f"workspace + stale check (dvc data status):   {tracked:.2f} s")

    shutil.rmtree(repo / "data" / "pose")
    shutil.rmtree(repo / ".dvc" / "cache")
    no_pull = sh([poselint, "check", "--no-pull", "-q"], repo, env)
    print(f"--no-pull, no workspace data, no cache:      {no_pull:.2f} s")

    objects = args.root / "remote" / "files" / "md5"
    manifest = next(objects.rglob("*.dir"))
    for entry in json.loads(manifest.read_text()):
        if entry["relpath"].startswith("images/"):
            (objects / entry["md5"][:2] / entry["md5"][2:]).unlink()
    no_images = sh([poselint, "check", "--no-pull", "-q"], repo, env)
    print(f"--no-pull, every image object deleted too:   {no_images:.2f} s")


if __name__ == "__main__":
    main()
