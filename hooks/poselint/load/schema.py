"""schemas/coco-keypoints.schema.json: loading it, and validating a parsed document against it.

The schema file is the single source of truth. Two validators read that same file:
jsonschema-rs (compiled) is the fast path, and python-jsonschema (a pure-Python walk,
hundreds of times slower at COCO scale) is the reference. tests/test_schema.py proves
they report the same failing instance paths on every document of the test suite; when
jsonschema-rs cannot be imported, python-jsonschema does the work.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from poselint.diagnostics import json_pointer
from poselint.load.keypoints import STORED
from poselint.load.polygons import POLYGONS

SCHEMA_NAME = "coco-keypoints.schema.json"
# An editable install (or a checkout on sys.path) has no package copy; the file is here.
CHECKOUT_SCHEMA = Path(__file__).resolve().parents[3] / "schemas" / SCHEMA_NAME

try:  # the fast path; optional so that a platform without a wheel still works
    import jsonschema_rs
except ImportError:  # pragma: no cover - exercised by a subprocess test
    jsonschema_rs = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class SchemaError:
    pointer: str  # RFC 6901 pointer of the failing value
    keyword: str  # the schema keyword that failed: type, required, minimum, ...
    message: str


def schema_text() -> str:
    """The schema as shipped in the wheel, or from the checkout for editable installs."""
    packaged = resources.files("poselint").joinpath("schemas").joinpath(SCHEMA_NAME)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return CHECKOUT_SCHEMA.read_text(encoding="utf-8")


@cache
def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_text())
    return schema


@cache
def validation_schema() -> dict[str, Any]:
    """The schema as both validators apply it to a compact parse (document.py): an annotation's
    `keypoints` may be keypoints.STORED, which stands for an array of JSON numbers held in the
    keypoint store, and its `segmentation` polygons.POLYGONS, an array of arrays of numbers
    kept as text: exactly what the schema's subschemas accept there (asserted below). Any
    other value meets the subschema unchanged, through if/else: same keywords, same instance
    paths, same messages as over the document as written."""
    schema = copy.deepcopy(load_schema())
    properties = schema["$defs"]["annotation"]["properties"]
    keypoints, segmentation = properties["keypoints"], properties["segmentation"]
    assert (keypoints["type"], keypoints["items"]) == ("array", {"type": "number"}), (
        "keypoints.py stores exactly the arrays of numbers: update it with the schema"
    )
    numbers = {"type": "array", "items": {"type": "number"}}
    assert schema["$defs"]["polygons"] == {"type": "array", "items": numbers}, "polygons.py"
    assert {"$ref": "#/$defs/polygons"} in segmentation["anyOf"], "polygons.py"
    properties["keypoints"] = {"if": {"const": STORED}, "else": keypoints}
    properties["segmentation"] = {"if": {"const": POLYGONS}, "else": segmentation}
    return schema


FAST, REFERENCE = "jsonschema-rs", "jsonschema"

# The top-level arrays holding one entry per image, person or category. An invalid document is
# validated entry by entry, so errors stream and memory stays bounded: one jsonschema-rs call
# builds all of its errors before returning the first (gigabytes for a broken exporter's file).
ENTRY_ARRAYS = ("images", "annotations", "categories")


def backend() -> str:
    """Which validator iter_errors uses by default."""
    return REFERENCE if jsonschema_rs is None else FAST


def is_valid(document: Any) -> bool | None:
    """Whether the whole document matches the schema, in one compiled call; None when only
    the reference validator is installed (minutes at COCO scale)."""
    return _is_valid(FAST, None, document) if backend() == FAST else None


def iter_errors(
    document: Any,
    limit: int | None = None,
    validator: str | None = None,
    known_invalid: bool = False,
) -> Iterator[SchemaError]:
    """Every schema error of the document, lazily, with the fast validator when available.

    With a limit, at most `limit` errors, then one closing SchemaError (keyword "limit") that
    counts the entries with errors left unlisted.
    """
    validator = validator or backend()
    # A clean document costs one compiled call; python-jsonschema would take minutes for the
    # same answer, so it goes straight to the walk.
    if validator == FAST and not known_invalid and _is_valid(FAST, None, document):
        return
    position: tuple[str, int] | None = None
    for count, (position, error) in enumerate(_walk(document, validator)):
        if limit is not None and count == limit:
            yield _limit_error(document, validator, limit, position)
            return
        yield error


def _walk(document: Any, validator: str) -> Iterator[tuple[Any, SchemaError]]:
    """(entry position or None, error) for the document: the top level with its entry arrays
    emptied, then each entry against the schema's item schema. The same errors, with the same
    pointers, as one call over the whole document (tests/test_schema.py checks it)."""
    if not isinstance(document, dict):
        yield from ((None, e) for e in _errors(validator, None, document, ()))
        return
    shell = {k: [] if k in ENTRY_ARRAYS and isinstance(v, list) else v for k, v in document.items()}
    yield from ((None, e) for e in _errors(validator, None, shell, ()))
    for key in ENTRY_ARRAYS:
        entries = document.get(key)
        if isinstance(entries, list):
            for i, entry in enumerate(entries):
                yield from (((key, i), e) for e in _errors(validator, key, entry, (key, i)))


def _limit_error(
    document: Any, validator: str, limit: int, position: tuple[str, int] | None
) -> SchemaError:
    """Count, without building error objects, the entries from `position` on that fail."""
    rest = 0
    if isinstance(document, dict):
        first_key, first_index = position or (ENTRY_ARRAYS[0], 0)
        for key in ENTRY_ARRAYS[ENTRY_ARRAYS.index(first_key) :]:
            entries = document.get(key)
            if isinstance(entries, list):
                start = first_index if key == first_key else 0
                rest += sum(
                    1
                    for entry in islice(entries, start, None)
                    if not _is_valid(validator, key, entry)
                )
    return SchemaError(
        "",
        "limit",
        f"stopped listing schema errors at {limit:,}; {rest:,} entries of images, annotations "
        "and categories from there on fail the schema",
    )


# ---------------------------------------------------------------------------------------------
# The two validators, over the whole schema or over one entry array's item schema


@cache
def _validator(validator: str, key: str | None) -> Any:
    schema = validation_schema()
    if key is not None:  # e.g. {"$ref": "#/$defs/annotation"}, with the definitions it needs
        schema = {
            "$schema": schema["$schema"],
            "$defs": schema["$defs"],
            **schema["properties"][key]["items"],
        }
    if validator == FAST:
        assert jsonschema_rs is not None
        return jsonschema_rs.Draft202012Validator(schema)
    # the reference validator, slow to import: only without jsonschema_rs, or for an entry
    # nested too deeply for it
    import jsonschema  # type: ignore[import-untyped]

    return jsonschema.Draft202012Validator(schema)


def _is_valid(validator: str, key: str | None, instance: Any) -> bool:
    try:
        return bool(_validator(validator, key).is_valid(instance))
    except (ValueError, RecursionError):  # too deep for the validator: the walk says where
        return False


def _errors(
    validator: str, key: str | None, instance: Any, prefix: tuple[str | int, ...]
) -> Iterator[SchemaError]:
    if validator == FAST:
        try:  # one entry's errors: few, and jsonschema-rs builds them all at once anyway
            errors = [_from_fast(e, prefix) for e in _validator(FAST, key).iter_errors(instance)]
        except ValueError:
            # jsonschema-rs cannot hand back a failing value nested over 255 levels deep
            # ("Recursion limit reached"); the reference validator can, for this one entry.
            yield from _errors(REFERENCE, key, instance, prefix)
            return
        yield from errors
        return
    try:
        for error in _validator(REFERENCE, key).iter_errors(instance):
            yield _from_reference(error, prefix)
    except RecursionError:  # the parser allows 1,024 levels; Python's own stack fewer
        yield SchemaError(
            json_pointer(*prefix), "depth", "nested too deeply to check against the schema"
        )


def _from_fast(error: Any, prefix: tuple[str | int, ...]) -> SchemaError:
    kind = error.kind
    keyword = str(kind.name)
    detail = getattr(kind, "property", None) if keyword == "required" else _kind_value(kind)
    return SchemaError(
        json_pointer(*prefix, *error.instance_path),
        keyword,
        _message(keyword, detail, error.instance, str(error.message)),
    )


def _from_reference(error: Any, prefix: tuple[str | int, ...]) -> SchemaError:
    keyword = str(error.validator)
    detail = error.validator_value
    if keyword == "required":
        match = _REQUIRED.match(error.message)
        detail = match.group(1) if match else None
    return SchemaError(
        json_pointer(*prefix, *error.absolute_path),
        keyword,
        _message(keyword, detail, error.instance, error.message),
    )


_REQUIRED = re.compile(r"""^['"](.*)['"] is a required property$""")


def _kind_value(kind: Any) -> Any:
    for attribute in ("types", "limit", "options"):
        if hasattr(kind, attribute):
            return getattr(kind, attribute)
    return getattr(kind, "value", None)


# ---------------------------------------------------------------------------------------------
# One message format whichever validator found the error


def describe(value: Any, limit: int = 40) -> str:
    """A value as JSON when short, else a summary: never a megabyte of RLE in a message."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:  # nested over orjson's 255 levels (the parser allows 1,024)
        text = ""
    if text and len(text) <= limit:
        return text
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    if isinstance(value, dict):
        return f"an object with {len(value)} keys"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    return text[:limit] + "…" if text else type(value).__name__


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _types(detail: Any) -> str:
    names = [detail] if isinstance(detail, str) else sorted(str(n) for n in detail or [])
    return " or ".join(names) or "another type"


def _message(keyword: str, detail: Any, instance: Any, fallback: str) -> str:
    shown = describe(instance)
    if keyword == "type":
        got = "null" if instance is None else f"{_json_type(instance)} {shown}"
        return f"expected {_types(detail)}, got {got}"
    if keyword == "required":
        return f"missing required key '{detail}'" if detail else fallback
    if keyword == "minimum":
        return f"{shown} is less than the minimum {detail}"
    if keyword == "minLength":
        return "must not be empty" if detail == 1 else f"shorter than {detail} characters"
    if keyword == "minItems" and isinstance(instance, list):
        return f"has {len(instance)} items, expected at least {detail}"
    if keyword == "maxItems" and isinstance(instance, list):
        return f"has {len(instance)} items, expected at most {detail}"
    if keyword == "enum":
        allowed = ", ".join(describe(v) for v in detail) if isinstance(detail, list) else "?"
        return f"{shown} is not one of {allowed}"
    if keyword == "anyOf":
        return f"{shown} matches none of the allowed forms"
    return fallback if len(fallback) <= 200 else fallback[:200] + "…"
