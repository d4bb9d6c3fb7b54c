"""What a parsed JSON value is: a number, an id. One definition each, used by the loader, the
tables and the rules.

Python's json, orjson and msgspec give a JSON number as an `int` or a `float` and true/false as
a `bool`, which Python counts as an int but JSON Schema does not count as a number. So the
predicates test exact types, never isinstance(value, int).
"""

from __future__ import annotations

import math
from typing import Any

NUMBER_TYPES = frozenset({int, float})  # exact types: bool is an int subclass, not a number
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def is_number(value: Any) -> bool:
    """A JSON number (not a bool)."""
    return type(value) in NUMBER_TYPES


def as_float(value: Any) -> float:
    """A JSON number as a float; NaN for anything else (a bool is no number to JSON Schema)."""
    if type(value) not in NUMBER_TYPES:
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an integer beyond float range is no usable coordinate
        return math.nan


def is_id(value: Any) -> bool:
    """A valid id as the schema types it: an integer to JSON Schema, which counts 1.0 as one
    (the rules that compare ids with each other, PL4xx, and the HTML report use this)."""
    return type(value) is int or (type(value) is float and value.is_integer())


def is_int_id(value: Any) -> bool:
    """An id written as a JSON integer that fits int64: what the numpy tables hold (an id such
    as 1.0 or 2**63 clears their `*_ok` flag there, and the rules look at it closer)."""
    return type(value) is int and INT64_MIN <= value <= INT64_MAX
