"""schemas/coco-keypoints.schema.json: loading it, and validating a parsed document against it.

The schema file is the single source of truth. Two validators read that same file:
jsonschema-rs (compiled; ~0.2 s on a COCO-2017-size document) is the fast path, and
python-jsonschema (~80 s on the same document) is the reference. tests/test_schema.py proves
they report the same failing instance paths on every document of the test suite; when
jsonschema-rs cannot be imported, python-jsonschema does the work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from poselint.diagnostics import json_pointer

SCHEMA_NAME = "coco-keypoints.schema.json"
# An editable install (or a checkout on sys.path) has no package copy; the file is here.
CHECKOUT_SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / SCHEMA_NAME

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


def backend() -> str:
    """Which validator iter_errors uses: "jsonschema-rs" or "jsonschema"."""
    return "jsonschema" if jsonschema_rs is None else "jsonschema-rs"


def iter_errors(document: Any) -> Iterator[SchemaError]:
    """Every schema error of the document, lazily, with the fast validator when available."""
    if jsonschema_rs is None:  # pragma: no cover - exercised by a subprocess test
        return iter_errors_reference(document)
    return iter_errors_fast(document)


# ---------------------------------------------------------------------------------------------
# The two validators


@cache
def _fast_validator() -> Any:
    assert jsonschema_rs is not None
    return jsonschema_rs.Draft202012Validator(load_schema())


@cache
def _reference_validator() -> Any:
    import jsonschema  # type: ignore[import-untyped]

    return jsonschema.Draft202012Validator(load_schema())


def iter_errors_fast(document: Any) -> Iterator[SchemaError]:
    """jsonschema-rs over the schema file."""
    for error in _fast_validator().iter_errors(document):
        kind = error.kind
        keyword = str(kind.name)
        detail = getattr(kind, "property", None) if keyword == "required" else _kind_value(kind)
        yield SchemaError(
            json_pointer(*error.instance_path),
            keyword,
            _message(keyword, detail, error.instance, str(error.message)),
        )


def iter_errors_reference(document: Any) -> Iterator[SchemaError]:
    """python-jsonschema over the schema file: the reference implementation."""
    for error in _reference_validator().iter_errors(document):
        keyword = str(error.validator)
        detail = error.validator_value
        if keyword == "required":
            match = _REQUIRED.match(error.message)
            detail = match.group(1) if match else None
        yield SchemaError(
            json_pointer(*error.absolute_path),
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
    except TypeError:
        text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    if isinstance(value, dict):
        return f"an object with {len(value)} keys"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    return text[:limit] + "…"


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
