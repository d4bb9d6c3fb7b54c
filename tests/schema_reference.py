"""The two ways the tests run the schema over a whole document, to compare them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema

from poselint.load import schema
from poselint.load.schema import SchemaError


def iter_errors_fast(document: Any) -> Iterator[SchemaError]:
    """jsonschema-rs, as PL310 runs it."""
    return schema.iter_errors(document, validator=schema.FAST)


def iter_errors_reference(document: Any) -> Iterator[SchemaError]:
    """python-jsonschema in one call over the whole document, with the schema file exactly as
    shipped (no STORED variant): the reference, for documents parsed exactly."""
    validator = jsonschema.Draft202012Validator(schema.load_schema())
    for error in validator.iter_errors(document):
        yield schema._from_reference(error, ())
