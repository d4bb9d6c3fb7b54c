"""PL4xx categories: keypoint names, skeletons, keypoints lengths, and the same categories in
every split.

PL310 (the schema) owns types and required keys; these rules skip a category or annotation
whose shape is wrong instead of reporting it twice. Category ids and skeleton indices are
compared with is_id (jsonvalues.py): JSON Schema counts 1.0 as an integer. The numpy tables
(int64 ids only, is_int_id) decide the common case of PL406/PL407 at C speed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from poselint.diagnostics import json_pointer
from poselint.lazy import np
from poselint.load.dataset import Dataset, Split
from poselint.load.jsonvalues import is_id, is_int_id
from poselint.load.tables import column, entries
from poselint.rules.base import Finding, rule


def _keypoint_names(category: dict[str, Any]) -> list[Any] | None:
    """A category's keypoint names; absent means none; None when malformed (PL310's)."""
    names = category.get("keypoints", [])
    return names if isinstance(names, list) else None


def _keypoint_counts(document: dict[str, Any] | None) -> dict[Any, int]:
    """category id -> its number of keypoint names, for well-formed categories only."""
    counts: dict[Any, int] = {}
    for category in entries(document, "categories"):
        if isinstance(category, dict) and is_id(category.get("id")):
            names = _keypoint_names(category)
            if names is not None:
                counts.setdefault(category["id"], len(names))
    return counts


def _all_lengths_match(split: Split, counts: dict[Any, int]) -> bool:
    """The common case, from the shared numpy tables: every annotation has a well-formed
    keypoints list of exactly 3 x K values for its (resolving, int) category. False means
    "look closer", never "there is a problem"."""
    t = split.tables
    if not counts or not (t.keypoints_ok.all() and t.category_id_ok.all()):
        return False
    if not all(map(is_int_id, counts)):  # the ids an int64 table can hold
        return False
    ids = np.array(sorted(counts), dtype=np.int64)
    ks = np.array([counts[c] for c in sorted(counts)], dtype=np.int64)
    where = np.minimum(np.searchsorted(ids, t.category_id), len(ids) - 1)
    if not (ids[where] == t.category_id).all():
        return False
    lengths = 3 * np.diff(t.kp_start, append=len(t.kp_ann))  # triplets per annotation
    return bool((lengths == 3 * ks[where]).all())


def _annotations_with_keypoints(
    split: Split, suspect: Callable[[int, int], bool]
) -> Iterator[tuple[int, int, int]]:
    """(index, number of keypoints values, K of its category) for the annotations whose
    keypoints is an array, whose category resolves, and for which suspect(n, K) holds."""
    counts = _keypoint_counts(split.document)
    if _all_lengths_match(split, counts):
        return
    annotations = entries(split.document, "annotations")
    categories = column(annotations, "category_id")
    lengths = _keypoint_lengths(split, annotations)
    try:  # which (category, length) pairs occur, at C speed; usually all of them are fine
        pairs = set(zip(categories, lengths, strict=True))
        if not any(
            c in counts and is_id(c) and n is not None and suspect(n, counts[c]) for c, n in pairs
        ):
            return
    except TypeError:  # an unhashable id: PL310's
        pass
    for i, (category_id, n) in enumerate(zip(categories, lengths, strict=True)):
        if n is not None and is_id(category_id) and category_id in counts:
            k = counts[category_id]
            if suspect(n, k):
                yield i, n, k


def _keypoint_lengths(split: Split, annotations: list[Any]) -> list[int | None]:
    """Each annotation's number of keypoints values; None where keypoints is not an array."""
    store = split.keypoint_store
    assert store is not None
    stored = store.stored.tolist()
    lengths: list[int | None] = store.lengths.tolist()
    for j, annotation in enumerate(annotations):
        if not stored[j]:
            value = annotation.get("keypoints") if isinstance(annotation, dict) else None
            lengths[j] = len(value) if isinstance(value, list) else None
    return lengths


@rule(
    "PL406",
    "keypoints-length-mismatch",
    what="An annotation's `keypoints` is not 3 x the number of keypoint names of its category.",
    why="Every later triplet is misread as the wrong joint, or the loader's reshape fails.",
    scope="document",
)
def keypoints_length_mismatch(split: Split) -> Iterator[Finding]:
    for i, n, k in _annotations_with_keypoints(split, lambda n, k: bool(k) and n != 3 * k):
        yield Finding(
            f"keypoints has {n} values, expected {3 * k} (3 x {k} keypoint names of its category)",
            pointer=json_pointer("annotations", i, "keypoints"),
        )


@rule(
    "PL407",
    "keypoints-without-names",
    what="An annotation has keypoints but its category has no keypoint names (a plain label).",
    why="Nothing says which joint each point is; the Datumaro test fixtures do this.",
    scope="document",
)
def keypoints_without_names(split: Split) -> Iterator[Finding]:
    for i, n, _ in _annotations_with_keypoints(split, lambda n, k: not k and n > 0):
        yield Finding(
            f"{n} keypoint values on a category with no keypoint names",
            pointer=json_pointer("annotations", i, "keypoints"),
        )


def _categories(document: dict[str, Any] | None) -> Iterator[tuple[int, dict[str, Any]]]:
    for c, category in enumerate(entries(document, "categories")):
        if isinstance(category, dict):
            yield c, category


@rule(
    "PL408",
    "duplicate-keypoint-name",
    what="A category lists the same keypoint name twice.",
    why="Two joints with one name cannot be told apart when mapping to a model's outputs.",
    scope="document",
)
def duplicate_keypoint_name(split: Split) -> Iterator[Finding]:
    for c, category in _categories(split.document):
        seen: dict[str, int] = {}
        for k, name in enumerate(_keypoint_names(category) or []):
            if isinstance(name, str) and seen.setdefault(name, k) != k:
                yield Finding(
                    f"keypoint name {name!r} repeats keypoint {seen[name] + 1}",
                    pointer=json_pointer("categories", c, "keypoints", k),
                )


def _skeleton_problem(pair: list[Any], k: int, seen: set[tuple[int, int]]) -> str | None:
    a, b = pair
    if a < 1 or b < 1:
        return f"pair {pair} is 0-based; COCO skeleton indices start at 1"
    if a > k or b > k:
        return f"pair {pair} points past the category's {k} keypoint names"
    if a == b:
        return f"pair {pair} joins a keypoint to itself"
    edge = (min(a, b), max(a, b))
    if edge in seen:
        return f"pair {pair} repeats an earlier pair"
    seen.add(edge)
    return None


@rule(
    "PL409",
    "invalid-skeleton",
    what="A skeleton pair is not 1-based, points past the keypoint names, joins a keypoint to "
    "itself, or repeats another pair (in either order).",
    why="Drawing tools and limb-based losses index keypoints with these pairs; a 0-based or "
    "out-of-range pair draws the wrong limb or crashes.",
    scope="document",
)
def invalid_skeleton(split: Split) -> Iterator[Finding]:
    for c, category in _categories(split.document):
        names, skeleton = _keypoint_names(category), category.get("skeleton", [])
        if names is None or not isinstance(skeleton, list):
            continue
        seen: set[tuple[int, int]] = set()
        for p, pair in enumerate(skeleton):
            if not (isinstance(pair, list) and len(pair) == 2 and all(map(is_id, pair))):
                continue  # PL310: a pair is two integers
            problem = _skeleton_problem(pair, len(names), seen)
            if problem:
                yield Finding(problem, pointer=json_pointer("categories", c, "skeleton", p))


def _category_set(document: dict[str, Any] | None) -> dict[Any, tuple[int, tuple[Any, ...]]]:
    """id -> (index, (name, keypoint names, skeleton as a set of undirected edges)).

    Only well-formed parts take part (strings, pairs of integers): malformed ones are PL310's,
    and comparing arbitrary JSON could recurse a thousand levels deep.
    """
    out: dict[Any, tuple[int, tuple[Any, ...]]] = {}
    for c, category in _categories(document):
        if not is_id(category.get("id")):
            continue
        name = category.get("name")
        names = _keypoint_names(category) or []
        skeleton = category.get("skeleton", [])
        edges = frozenset(
            frozenset(pair)
            for pair in (skeleton if isinstance(skeleton, list) else [])
            if isinstance(pair, list) and all(map(is_id, pair))
        )
        out.setdefault(
            category["id"],
            (
                c,
                (
                    name if isinstance(name, str) else None,
                    tuple(n if isinstance(n, str) else None for n in names),
                    edges,
                ),
            ),
        )
    return out


def _difference(a: tuple[Any, ...], b: tuple[Any, ...]) -> str:
    return " and ".join(
        p for p, x, y in zip(("name", "keypoint names", "skeleton"), a, b, strict=True) if x != y
    )


@rule(
    "PL412",
    "category-set-mismatch",
    what="The splits' annotation files do not have the same categories (ids, names, keypoint "
    "names, skeleton; the order of skeleton pairs does not matter).",
    why="A model trained on one keypoint order and evaluated on another scores garbage "
    "without any error.",
    scope="dataset",
)
def category_set_mismatch(dataset: Dataset) -> Iterator[Finding]:
    loaded = [(s, _category_set(s.document)) for s in dataset.splits if s.document is not None]
    if len(loaded) < 2:
        return
    # Every split is compared with the first one in name order (train before val).
    first_split, first = loaded[0]
    other = f"{first_split.name}'s file"
    for split, categories in loaded[1:]:
        path = split.files.annotation_file
        for cid in sorted(first.keys() - categories.keys(), key=repr):
            name = first[cid][1][0]
            yield Finding(
                f"category id {cid} ({name!r}) of {other} is missing here",
                pointer="/categories",
                path=path,
            )
        for cid, (c, category) in categories.items():
            pointer = json_pointer("categories", c)
            if cid not in first:
                yield Finding(f"category id {cid} is not in {other}", pointer=pointer, path=path)
            elif category != first[cid][1]:
                difference = _difference(category, first[cid][1])
                yield Finding(
                    f"category id {cid} has a different {difference} than in {other}",
                    pointer=pointer,
                    path=path,
                )


_SEPARATOR = re.compile(r"[ _\-.]")
_CAMEL = re.compile(r"[a-z][A-Z]")


def _name_style(name: str) -> str | None:
    """How a keypoint name joins its words: ' ', '_', '-', '.' or camelCase; None for one word."""
    found = _SEPARATOR.search(name.strip())
    if found:
        return repr(found.group())
    return "camelCase" if _CAMEL.search(name) else None


@rule(
    "PL418",
    "mixed-keypoint-name-style",
    what="One category's keypoint names join their words in different ways (`left elbow` next "
    "to `left_wrist`).",
    why="Code that maps keypoints by name (flip pairs from `left_`/`right_`, a model's keypoint "
    "list, a converter) misses the odd ones out; usually a label renamed by hand in CVAT.",
    scope="document",
    severity="warning",
)
def mixed_keypoint_name_style(split: Split) -> Iterator[Finding]:
    for c, category in _categories(split.document):
        styles: dict[str, list[int]] = {}
        names = _keypoint_names(category) or []
        for k, name in enumerate(names):
            style = _name_style(name) if isinstance(name, str) else None
            if style:
                styles.setdefault(style, []).append(k)
        if len(styles) < 2:
            continue
        usual = max(styles, key=lambda s: len(styles[s]))
        for style, ks in styles.items():
            if style != usual:
                k = ks[0]
                yield Finding(
                    f"keypoint name {names[k]!r} joins words with {style}, while "
                    f"{len(styles[usual])} others use {usual} (e.g. {names[styles[usual][0]]!r})"
                    + (f"; {len(ks) - 1} more like it" if len(ks) > 1 else ""),
                    pointer=json_pointer("categories", c, "keypoints", k),
                )
