"""Baselines: accept a dataset's existing findings, fail only on new ones.

A finding's fingerprint names what it is about in terms that survive a re-export: the rule,
the dataset root, the split, the image's `file_name`, the annotation's `id`, the keypoint's
index and the field. JSON pointers hold list positions, which shift when a file is reordered
or entries are added, so they are translated through the split's loaded document when the
fingerprint is taken. A baseline is a multiset: two identical findings need two entries.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from poselint.config import ConfigError
from poselint.diagnostics import Diagnostic
from poselint.fsutil import atomic_write_bytes
from poselint.load.dataset import Dataset, Split
from poselint.load.tables import entries

VERSION = 1
FIELDS = ("code", "root", "split", "file", "image", "annotation", "keypoint", "where")

# code, root, split, file, image, annotation, keypoint, where (None where it does not apply)
Fingerprint = tuple[str, str, str | None, str | None, str | None, str | None, int | None, str]


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _index(part: str) -> int | None:
    return int(part) if part.isdigit() else None


@dataclass
class _SplitNames:
    """Positions in one split's document -> stable names, looked up on demand."""

    split: Split
    _image_names: dict[Any, str] | None = None
    # annotation row -> (its id as fingerprints write it, its image's file_name): a person
    # is often named by several findings
    _annotations: dict[int, tuple[str, str | None]] = field(default_factory=dict)

    def annotation(self, row: int) -> tuple[str, str | None]:
        known = self._annotations.get(row)
        if known is None:
            anns = entries(self.document, "annotations")
            ann = anns[row] if row < len(anns) and isinstance(anns[row], dict) else {}
            ann_id = ann.get("id")
            label = repr(ann_id) if isinstance(ann_id, int | str) else f"#{row}"
            known = self._annotations[row] = (label, self.image_of_id(ann.get("image_id")))
        return known

    @property
    def document(self) -> dict[str, Any] | None:
        return self.split.document

    def image_name(self, row: int) -> str | None:
        images = entries(self.document, "images")
        if 0 <= row < len(images) and isinstance(images[row], dict):
            name = images[row].get("file_name")
            return name if isinstance(name, str) else None
        return None

    def image_of_id(self, image_id: Any) -> str | None:
        if self._image_names is None:
            self._image_names = {}
            for img in reversed(entries(self.document, "images")):  # the first row wins
                if isinstance(img, dict) and isinstance(img.get("file_name"), str):
                    with_id = img.get("id")
                    if isinstance(with_id, int | str):
                        self._image_names[with_id] = img["file_name"]
        return self._image_names.get(image_id) if isinstance(image_id, int | str) else None


def _keypoint_where(rest: list[str]) -> tuple[int | None, str]:
    """["keypoints", "7"] -> keypoint 2, "keypoints.y": the triplet, not the flat position."""
    if len(rest) >= 2 and rest[0] == "keypoints" and (n := _index(rest[1])) is not None:
        return n // 3, "keypoints." + "xyv"[n % 3] + "".join("/" + r for r in rest[2:])
    return None, "/".join(rest)


@dataclass
class _Namer:
    """What every finding of one dataset shares, worked out once per file (not per finding:
    a legacy dataset has hundreds of thousands of findings)."""

    dataset: Dataset
    base: Path
    root: str = ""
    files: dict[Path, tuple[Split | None, str, _SplitNames | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root = Path(os.path.relpath(self.dataset.root, self.base)).as_posix()

    def file(self, path: Path) -> tuple[Split | None, str, _SplitNames | None]:
        known = self.files.get(path)
        if known is None:
            split = next((s for s in self.dataset.splits if s.files.annotation_file == path), None)
            try:
                file = path.relative_to(self.dataset.root).as_posix()
            except ValueError:
                file = Path(os.path.relpath(path, self.base)).as_posix()
            namer = _SplitNames(split) if split is not None else None
            known = self.files[path] = (split, file, namer)
        return known


def fingerprint(d: Diagnostic, namer: _Namer) -> Fingerprint:
    split, file, names = namer.file(d.path)
    pointer = d.pointer or ""
    parts = pointer.split("/")[1:]
    if "~" in pointer:
        parts = [_unescape(p) for p in parts]
    image = annotation = None
    keypoint: int | None = None
    where = pointer
    document = split.document if split is not None else None
    if names is not None and document is not None and len(parts) >= 2:
        row = _index(parts[1])
        key, rest = parts[0], parts[2:]
        if row is not None and key == "images":
            image, where = names.image_name(row) or f"#{row}", "images/" + "/".join(rest)
        elif row is not None and key == "annotations":
            annotation, image = names.annotation(row)
            keypoint, where = _keypoint_where(rest)
            where = "annotations/" + where
        elif row is not None and key == "categories":
            cats = entries(document, "categories")
            cat = cats[row] if row < len(cats) and isinstance(cats[row], dict) else {}
            cat_id = cat.get("id")
            label = repr(cat_id) if isinstance(cat_id, int | str) else f"#{row}"
            where = f"categories[{label}]/" + "/".join(rest)
    split_name = split.name if split is not None else None
    return (d.code, namer.root, split_name, file, image, annotation, keypoint, where)


def fingerprints(
    diagnostics: Sequence[Diagnostic], dataset: Dataset, base: Path
) -> list[Fingerprint]:
    """One fingerprint per diagnostic (same order), read from the dataset's loaded splits."""
    namer = _Namer(dataset, base)
    return [fingerprint(d, namer) for d in diagnostics]


# --- the file ---------------------------------------------------------------------------------


def to_bytes(found: Iterable[tuple[Fingerprint, str]]) -> bytes:
    """Sorted entries with a count each (and one message, for a reader), as indented JSON."""
    counts: Counter[Fingerprint] = Counter()
    messages: dict[Fingerprint, str] = {}
    for fp, message in found:
        counts[fp] += 1
        messages.setdefault(fp, message)
    records = []
    for fp in sorted(counts, key=lambda f: tuple("" if v is None else str(v) for v in f)):
        record: dict[str, object] = {k: v for k, v in zip(FIELDS, fp, strict=True) if v is not None}
        record["count"] = counts[fp]
        record["message"] = messages[fp]
        records.append(record)
    return orjson.dumps({"version": VERSION, "findings": records}, option=orjson.OPT_INDENT_2)


def write_baseline(path: Path, found: Iterable[tuple[Fingerprint, str]]) -> None:
    atomic_write_bytes(path, to_bytes(found) + b"\n")


def _as_fingerprint(record: Any) -> tuple[Fingerprint, int] | None:
    if not isinstance(record, dict):
        return None
    code, root, where = record.get("code"), record.get("root"), record.get("where", "")
    count = record.get("count", 1)
    if not (isinstance(code, str) and isinstance(root, str) and isinstance(where, str)):
        return None
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return None
    strs = [record.get(k) for k in ("split", "file", "image", "annotation")]
    keypoint = record.get("keypoint")
    if not all(v is None or isinstance(v, str) for v in strs):
        return None
    if keypoint is not None and (not isinstance(keypoint, int) or isinstance(keypoint, bool)):
        return None
    return (code, root, strs[0], strs[1], strs[2], strs[3], keypoint, where), count


def read_baseline(path: Path) -> Counter[Fingerprint]:
    """The counted fingerprints; a ConfigError (exit 2) naming the file and entry if bad."""
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: no such baseline file (create it with `poselint check --write-baseline "
            f"{path}`)"
        ) from exc
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read this baseline: {exc}") from exc
    records = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(records, list) or data.get("version") != VERSION:
        raise ConfigError(
            f'{path}: not a poselint baseline (expected {{"version": {VERSION}, '
            '"findings": [...]})'
        )
    counts: Counter[Fingerprint] = Counter()
    for i, record in enumerate(records):
        parsed = _as_fingerprint(record)
        if parsed is None:
            raise ConfigError(f"{path}: /findings/{i} is not a baseline entry")
        counts[parsed[0]] += parsed[1]
    return counts


@dataclass
class Filtered:
    new: list[Diagnostic] = field(default_factory=list)
    known: int = 0  # findings the baseline accepts
    fixed: int = 0  # baseline entries (counted) no longer found, in the roots checked


def apply_baseline(
    baseline: Counter[Fingerprint],
    found: Sequence[tuple[Diagnostic, Fingerprint]],
    roots_checked: set[str],
) -> Filtered:
    """Drop the findings the baseline holds, one entry per finding."""
    left = Counter(baseline)
    out = Filtered()
    for d, fp in found:
        if left[fp] > 0:
            left[fp] -= 1
            out.known += 1
        else:
            out.new.append(d)
    out.fixed = sum(n for fp, n in left.items() if n > 0 and fp[1] in roots_checked)
    return out


@dataclass
class BaselineRun:
    """`check --baseline FILE` / `--write-baseline FILE` over one run: each root's findings
    are fingerprinted right after it is linted, while its documents are loaded."""

    path: Path
    writing: bool
    accepted: Counter[Fingerprint] | None = None
    found: list[tuple[Diagnostic, Fingerprint]] = field(default_factory=list)
    roots: set[str] = field(default_factory=set)

    @classmethod
    def start(cls, baseline: Path | None, write: Path | None) -> BaselineRun | None:
        if write is not None:
            return cls(write, writing=True)
        if baseline is not None:
            return cls(baseline, writing=False, accepted=read_baseline(baseline))
        return None

    @property
    def seen(self) -> int:
        return len(self.found)

    def add(self, dataset: Dataset, diagnostics: Sequence[Diagnostic]) -> None:
        base = self.path.resolve().parent
        self.found.extend(zip(diagnostics, fingerprints(diagnostics, dataset, base), strict=True))
        self.roots.add(Path(os.path.relpath(dataset.root, base)).as_posix())

    def finish(self, out: Any) -> list[Diagnostic] | None:
        """Write the baseline (None: the run is done), or the findings not in it; a line on
        `out` (stderr) says what happened."""
        if self.writing:
            write_baseline(self.path, ((fp, d.message) for d, fp in self.found))
            n = len(self.found)
            print(
                f"poselint: wrote {n} finding{'s' * (n != 1)} to the baseline {self.path}", file=out
            )
            return None
        assert self.accepted is not None
        kept = apply_baseline(self.accepted, self.found, self.roots)
        fixed = kept.fixed
        print(
            f"poselint: baseline {self.path}: {kept.known} known finding"
            f"{'s' * (kept.known != 1)} not reported, {len(kept.new)} new; "
            f"{fixed} baseline entr{'ies' if fixed != 1 else 'y'} now fixed"
            + (" (rewrite it with --write-baseline to shrink it)" if fixed else ""),
            file=out,
        )
        return kept.new
