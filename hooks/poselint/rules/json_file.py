"""PL3xx: each annotation file is readable, valid JSON, and a JSON object."""

from __future__ import annotations

from collections.abc import Iterator

from poselint.diagnostics import json_pointer
from poselint.load.dataset import Split
from poselint.rules.base import Finding, Fix, rule


@rule(
    "PL301",
    "annotation-unreadable",
    what="The annotation file cannot be read: permissions, not a regular file, or over "
    "`max_annotation_bytes`.",
    why="Nothing else can be checked, and training would crash on it.",
    scope="file",
)
def annotation_unreadable(split: Split) -> Iterator[Finding]:
    if split.loaded and split.loaded.read_error:
        yield Finding(f"cannot read the annotation file: {split.loaded.read_error}")


@rule(
    "PL302",
    "utf8-bom",
    what="The annotation file starts with a UTF-8 byte order mark.",
    why="pycocotools and most JSON loaders reject a BOM; editors on Windows add it silently.",
    scope="file",
    fix=Fix(
        "safe",
        "poselint.fix.document:fix_bom",
        why="Only the three BOM bytes go; the JSON reads the same.",
    ),
)
def utf8_bom(split: Split) -> Iterator[Finding]:
    if split.loaded and split.loaded.had_bom:
        yield Finding(
            "file starts with a UTF-8 byte order mark (BOM): save it as UTF-8 without BOM"
        )


@rule(
    "PL303",
    "invalid-json",
    what="The annotation file is not valid JSON: empty, truncated, NaN/Infinity, invalid UTF-8, "
    "or nested too deep.",
    why="The training job fails to load it, or a lenient parser reads NaN into the labels.",
    scope="file",
)
def invalid_json(split: Split) -> Iterator[Finding]:
    if split.loaded and split.loaded.syntax:
        s = split.loaded.syntax
        yield Finding(f"invalid JSON at line {s.line} column {s.column}: {s.message}")
    store = split.keypoint_store
    for j in store.out_of_range if store is not None and store.text_offsets is not None else ():
        yield Finding(
            "invalid JSON: a number beyond the float64 range",
            pointer=json_pointer("annotations", j, "keypoints"),
        )


@rule(
    "PL304",
    "top-level-not-object",
    what="The annotation file's top level is not a JSON object.",
    why="A COCO file is an object with `images`, `annotations` and `categories`.",
    scope="file",
)
def top_level_not_object(split: Split) -> Iterator[Finding]:
    loaded = split.loaded
    if loaded and loaded.parsed and loaded.document is None:
        kind = type(loaded.value).__name__.replace("NoneType", "null").replace("dict", "object")
        kind = {"list": "array", "str": "string", "int": "number", "float": "number"}.get(
            kind, kind
        )
        yield Finding(f"top level is a JSON {kind}, expected an object", pointer="")


@rule(
    "PL305",
    "duplicate-key",
    what="A key occurs twice in one JSON object (checked for files up to "
    "`duplicate_key_check_bytes`, default 64 MiB; with `--fix`/`--diff` at any size).",
    why="Most parsers keep the last value silently, so two tools can read different labels "
    "from the same file.",
    scope="document",
)
def duplicate_key(split: Split) -> Iterator[Finding]:
    for pointer, key in (split.loaded.duplicate_keys if split.loaded else None) or []:
        yield Finding(
            f"key '{key}' occurs more than once in this object; the last one wins", pointer=pointer
        )
