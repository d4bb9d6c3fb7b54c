"""jsonvalues.py: the one definition of a JSON number and of an id, as parsers hand values over."""

from __future__ import annotations

import math

import pytest

from poselint.load.jsonvalues import as_float, is_id, is_int_id, is_number

# value, is_number, is_id (JSON Schema's integer), is_int_id (what an int64 table holds)
CASES = [
    (1, True, True, True),
    (0, True, True, True),
    (-(2**63), True, True, True),
    (2**63 - 1, True, True, True),
    (2**63, True, True, False),
    (10**400, True, True, False),
    (1.0, True, True, False),
    (1.5, True, False, False),
    (math.inf, True, False, False),
    (math.nan, True, False, False),
    (True, False, False, False),
    (False, False, False, False),
    ("1", False, False, False),
    (None, False, False, False),
    ([1], False, False, False),
]


@pytest.mark.parametrize(("value", "number", "id_", "int_id"), CASES, ids=repr)
def test_predicates(value, number, id_, int_id):
    assert (is_number(value), is_id(value), is_int_id(value)) == (number, id_, int_id)


def test_as_float():
    assert as_float(3) == 3.0 and type(as_float(3)) is float
    assert as_float(2.5) == 2.5
    for value in (True, "1", None, 10**400):  # a bool is no number; 10**400 has no float
        assert math.isnan(as_float(value))
