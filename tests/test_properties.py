"""Property-based tests: mutate valid datasets in every way; poselint must stay well-behaved."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hostile import check_invariants
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import build_dataset, clean_docs

ANNOTATION = Path("annotations") / "person_keypoints_train.json"

weird_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 1e308, -0.0, 2**64, 3, 1.5]),
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            "../../etc/passwd",
            "/abs.jpg",
            "a\\b.jpg",
            "<script>x</script>",
            "é.jpg",
            "e\u0301.jpg",
            "\x00.jpg",
            "x" * 300,
        ]
    ),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=8),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _containers(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            found += _containers(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _containers(v, (*path, i))
    return found


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    doc: Any = copy.deepcopy(clean_docs()["train"])
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _containers(doc)
        path = draw(st.sampled_from(paths))
        if not path:
            if draw(st.booleans()):
                doc = draw(weird_values)
            continue
        parent, key = _get(doc, path[:-1]), path[-1]
        action = draw(st.sampled_from(["replace", "delete", "duplicate", "retype"]))
        if action == "replace":
            parent[key] = draw(weird_values)
        elif action == "delete":
            del parent[key]
        elif action == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif action == "retype":
            value = parent[key]
            parent[key] = [value] if not isinstance(value, list) else {"0": value}
    return doc


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_dataset(tmp_path_factory.mktemp("prop") / "ds")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=mutated_documents())
def test_mutated_document_never_breaks_poselint(root: Path, doc: Any) -> None:
    (root / ANNOTATION).write_text(json.dumps(doc))
    check_invariants(root)


@settings(max_examples=40, deadline=None)
@given(doc=mutated_documents())
def test_mutated_document_with_images_ignored(root: Path, doc: Any) -> None:
    (root / ANNOTATION).write_text(json.dumps(doc))
    check_invariants(root, "--no-image-size", "--select", "ALL")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=mutated_documents(), spelling=st.sampled_from(["train", "Train", "TRAINING"]))
def test_fix_never_loses_images_and_leaves_json_that_parses(
    tmp_path_factory: pytest.TempPathFactory, doc: Any, spelling: str
) -> None:
    import shutil

    base = tmp_path_factory.mktemp("fixprop")
    docs = clean_docs()
    root = build_dataset(base / "ds", {spelling: docs["train"], "val": docs["val"]})
    (root / "annotations" / f"person_keypoints_{spelling}.json").write_text(json.dumps(doc))
    images_before = sorted(p.name for p in (root / "images").rglob("*") if p.is_file())
    check_invariants(root, "--fix")
    images_after = sorted(p.name for p in (root / "images").rglob("*") if p.is_file())
    assert images_after == images_before
    for annotation in (root / "annotations").iterdir():
        json.loads(annotation.read_bytes())  # every annotation file still parses
    shutil.rmtree(base)
