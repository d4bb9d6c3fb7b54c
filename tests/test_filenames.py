"""Split.file_names: the one-pass fast path for plain names agrees with the per-name path."""

from __future__ import annotations

import posixpath

from hypothesis import given, settings
from hypothesis import strategies as st

from poselint.load.filenames import Reference, sort_file_names, unsafe_reason

SEGMENT = st.text(alphabet="ab-_. 0é\\/:\n\x00", min_size=0, max_size=6)
NAMES = st.lists(st.one_of(SEGMENT, st.just("img/0001.jpg"), st.just("../x.jpg")), max_size=6)


def _per_name(names: list[object]) -> tuple[list[Reference], list[tuple[int, str, str]]]:
    safe, unsafe = [], []
    for row, name in enumerate(names):
        if not isinstance(name, str):
            continue
        reason = unsafe_reason(name)
        if reason is None:
            normal = posixpath.normpath(name)
            safe.append(Reference(row, name, name if normal == name else normal))
        else:
            unsafe.append((row, name, reason))
    return safe, unsafe


@settings(max_examples=300, deadline=None)
@given(st.one_of(NAMES, st.lists(st.sampled_from(["a.jpg", "b/c.jpg", "d-e f.png"]), min_size=1)))
def test_fast_path_and_per_name_path_agree(names):
    doc = {"images": [{"id": i, "file_name": n} for i, n in enumerate(names)]}
    result = sort_file_names(doc)
    safe, unsafe = _per_name(names)
    assert [(r.row, r.name, r.key) for r in result.safe] == [(r.row, r.name, r.key) for r in safe]
    assert result.unsafe == unsafe


def test_non_strings_are_left_to_the_schema():
    doc = {"images": [{"file_name": 3}, {"file_name": "a.jpg"}, "junk", {}]}
    result = sort_file_names(doc)
    assert [(r.row, r.key) for r in result.safe] == [(1, "a.jpg")] and result.unsafe == []
