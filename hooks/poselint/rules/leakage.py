"""PL413: the same image content in two splits (train/val leakage)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from poselint.load.dataset import Dataset, Split
from poselint.rules.base import Finding, rule

SHOWN = 4  # copies named in one message


def _image_files(split: Split) -> dict[str, str | None]:
    """posix path under images/<split>/ -> md5 when already known (DVC), else None."""
    index = split.images
    if index is None:
        return {}
    return {rel: info.md5 for rel, info in index.files.items() if info.kind == "file"}


def _hash_where_sizes_collide(
    files: dict[tuple[str, str], str | None], ds: Dataset, only: set[tuple[str, str]] | None
) -> dict[tuple[str, str], str | None]:
    """Fill in missing md5s by reading the files, but only files whose size is shared by a
    file of another split: a unique size cannot be a duplicate, so most files are never read.
    A source that cannot tell sizes (DVC's record: md5s only) reads nothing."""

    def path(key: tuple[str, str]) -> Path:
        return ds.layout.images_dir / key[0] / key[1]

    sizes: dict[tuple[str, str], int] = {}
    for key in files:
        size = ds.source.size(path(key))
        if size is not None:
            sizes[key] = size
    splits_by_size: dict[int, set[str]] = defaultdict(set)
    for key, size in sizes.items():
        splits_by_size[size].add(key[0])
    filled = dict(files)
    for key, md5 in files.items():
        wanted = only is None or key in only
        if md5 is None and wanted and key in sizes and len(splits_by_size[sizes[key]]) > 1:
            filled[key] = ds.source.content_md5(path(key))
    return filled


@rule(
    "PL413",
    "split-leakage",
    what="The same image content (md5) in two splits, e.g. a train image copied into val. "
    "Uses the md5s DVC records (no reads); without DVC set `leakage_hash_images = true`.",
    why="Evaluation then scores images the model trained on: val/test metrics are inflated "
    "and model selection is wrong.",
    scope="dataset",
)
def split_leakage(ds: Dataset) -> Iterator[Finding]:
    if not ds.source.records_md5s and not ds.config.leakage_hash_images:
        return  # no md5 is known and hashing was not asked for: nothing to compare
    files: dict[tuple[str, str], str | None] = {}
    for split in ds.splits:
        for rel, md5 in _image_files(split).items():
            files[(split.name, rel)] = md5
    if len({split for split, _ in files}) < 2:
        return
    known = ds.source.recorded_md5s()  # DVC's md5s of the unchanged workspace files
    if known is not None:
        for (name, rel), md5 in list(files.items()):
            if md5 is None:
                files[(name, rel)] = known.get(f"images/{name}/{rel}")
    missing = {key for key, md5 in files.items() if md5 is None}
    if missing:
        if known is not None:  # DVC knows the rest: read only what changed since `dvc add`
            files = _hash_where_sizes_collide(files, ds, missing)
        elif ds.config.leakage_hash_images:
            files = _hash_where_sizes_collide(files, ds, None)
    copies: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, md5 in files.items():
        if md5:
            copies[md5].append(key)
    for md5, keys in sorted(copies.items(), key=lambda item: sorted(item[1])):
        if len({split for split, _ in keys}) < 2:
            continue
        keys.sort()
        names = [f"images/{split}/{rel}" for split, rel in keys]
        more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
        last_split, last_rel = keys[-1]
        yield Finding(
            f"the same image is in {len({s for s, _ in keys})} splits: "
            f"{', '.join(names[:SHOWN])}{more} (md5 {md5}): keep it in one split only",
            path=ds.layout.images_dir / last_split / last_rel,
        )
