"""The schema: valid JSON Schema, shipped in the wheel, and PL310 built on it.

The differential test is the proof behind the speed design: jsonschema-rs (the fast path)
and python-jsonschema (the reference) must agree on every document of the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import orjson
import pytest
from coco_corpus import all_documents, mutated_documents
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema_reference import iter_errors_fast, iter_errors_reference

from builders import clean_docs, person
from poselint.load import schema
from poselint.rules import schema_rules

REPO = Path(__file__).resolve().parents[1]
SCHEMA_FILE = REPO / "schemas" / "coco-keypoints.schema.json"
CORPUS = all_documents()
# Values that are not objects: the rule never sees them (PL304 does), the validators must agree.
ODD_VALUES = {"odd:array": [], "odd:string": "coco", "odd:null": None, "odd:number": 3}


def _errors(doc, iterate):
    return sorted((e.pointer, e.keyword) for e in iterate(doc))


def _pl310(cli, root):
    result = cli("check", root, "--format", "json", "--select", "PL310")
    assert result.code in (0, 1), result
    return [(d["pointer"], d["message"]) for d in result.json() if d["code"] == "PL310"]


def test_schema_passes_the_meta_schema_check():
    document = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(document)
    assert jsonschema.validators.validator_for(document) is jsonschema.Draft202012Validator


def test_meta_schema_check_can_fail():
    broken = {**json.loads(SCHEMA_FILE.read_text()), "type": "objekt"}
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.Draft202012Validator.check_schema(broken)


def test_the_corpus_has_both_valid_and_invalid_documents():
    valid = [n for n, d in CORPUS.items() if not _errors(d, iter_errors_reference)]
    assert len(valid) >= 20 and len(CORPUS) - len(valid) >= 60


@pytest.mark.parametrize("name", sorted({**CORPUS, **ODD_VALUES}))
def test_fast_path_agrees_with_the_reference_validator(name):
    doc = {**CORPUS, **ODD_VALUES}[name]
    # PL310's path: jsonschema-rs, entry by entry once the document is known to be invalid
    fast = _errors(doc, iter_errors_fast)
    # the reference: python-jsonschema, one call over the whole document
    reference = _errors(doc, iter_errors_reference)
    assert fast == reference
    # and the entry-by-entry walk is exact for the reference validator too
    assert _errors(doc, lambda d: schema.iter_errors(d, validator=schema.REFERENCE)) == reference
    # the same messages too, so a user cannot tell which validator ran
    messages = sorted(e.message for e in iter_errors_reference(doc))
    assert sorted(e.message for e in iter_errors_fast(doc)) == messages
    # and the same over the compact parse PL310 sees (keypoints arrays in the numpy store,
    # keypoints.STORED in the document; the schema's validation variant accepts it)
    compact = _compact(doc)
    if compact is not None:
        assert _errors(compact, iter_errors_fast) == reference
        assert sorted(e.message for e in iter_errors_fast(compact)) == messages
        assert schema.is_valid(compact) is (not reference)


def _compact(doc):
    """The document as `poselint check` parses it from its JSON text; None when it did not
    take the compact path (not an object, or annotations not an array of objects)."""
    from poselint.load.document import parse_bytes
    from poselint.load.keypoints import STORED

    if not isinstance(doc, dict):
        return None
    loaded = parse_bytes(Path("doc.json"), json.dumps(doc).encode())
    annotations = loaded.document.get("annotations") if loaded.document else None
    if not isinstance(annotations, list) or not annotations:
        return None
    if not any(isinstance(a, dict) and a.get("keypoints") is STORED for a in annotations):
        return None
    return loaded.document


def test_the_compact_parse_is_checked_on_most_of_the_corpus():
    compact = [n for n, d in CORPUS.items() if _compact(d) is not None]
    assert len(compact) >= 0.8 * len(CORPUS), len(compact)


@pytest.mark.parametrize("name", [n for n in CORPUS if n.startswith(("sample:", "clean:"))])
def test_samples_and_clean_documents_are_schema_valid(name):
    assert _errors(CORPUS[name], iter_errors_reference) == []


def test_the_fast_path_is_what_runs():
    assert schema.backend() == "jsonschema-rs"


def test_schema_loads_from_the_checkout_in_an_editable_install():
    assert schema.load_schema() == json.loads(SCHEMA_FILE.read_text())


def test_wheel_ships_the_schema_and_uses_it_installed(tmp_path):
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip_wheel, "-w", str(tmp_path / "dist"), str(REPO)],
        check=True,
        capture_output=True,
    )
    [wheel] = (tmp_path / "dist").glob("poselint-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        shipped = zf.read("poselint/schemas/coco-keypoints.schema.json")
        zf.extractall(tmp_path / "site")
    assert shipped == SCHEMA_FILE.read_bytes()
    # Import poselint from the unpacked wheel: no checkout schemas/ folder next to it.
    code = (
        "import poselint.load.schema as s, json; "
        "assert not s.CHECKOUT_SCHEMA.exists(), s.CHECKOUT_SCHEMA; "
        "print(s.__file__); print(len(s.load_schema()['$defs']))"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0].startswith(str(tmp_path / "site"))
    assert int(out[1]) == len(json.loads(SCHEMA_FILE.read_text())["$defs"])


def test_without_jsonschema_rs_the_reference_validator_runs(make_dataset, cli):
    root = make_dataset({"train": mutated_documents()["mutation:many-errors"]})
    expected = cli("check", root, "--format", "json", "--select", "PL310").json()
    code = (
        "import sys; sys.modules['jsonschema_rs'] = None\n"  # makes `import jsonschema_rs` fail
        "from poselint.load import schema\n"
        "assert schema.backend() == 'jsonschema', schema.backend()\n"
        "from poselint.cli import main\n"
        "sys.exit(main(['check', sys.argv[1], '--format', 'json', '--select', 'PL310']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, cwd=Path.cwd()
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout) == expected
    assert len(expected) == 600


# --- PL310 through the CLI ------------------------------------------------------------------


def test_pl310_clean_dataset_and_cvat_export_pass(make_dataset, make_cvat_export, cli):
    assert _pl310(cli, make_dataset()) == []
    assert _pl310(cli, make_cvat_export()) == []


@pytest.mark.parametrize(
    ("mutation", "pointer", "words"),
    [
        ("no-images", "", "missing required key 'images'"),
        ("images-is-object", "/images", "expected array, got object"),
        ("width-zero", "/images/0/width", "less than the minimum 1"),
        ("width-fractional", "/images/0/width", "expected integer, got number 64.5"),
        ("height-missing", "/images/0", "missing required key 'height'"),
        ("file-name-empty", "/images/0/file_name", "must not be empty"),
        (
            "keypoints-string-value",
            "/annotations/0/keypoints/4",
            'expected number, got string "10"',
        ),
        ("keypoints-missing", "/annotations/0", "missing required key 'keypoints'"),
        ("bbox-three-numbers", "/annotations/0/bbox", "has 3 items, expected at least 4"),
        ("bbox-negative-width", "/annotations/0/bbox/2", "-5 is less than the minimum 0"),
        ("area-negative", "/annotations/0/area", "less than the minimum 0"),
        ("iscrowd-two", "/annotations/0/iscrowd", "2 is not one of 0, 1"),
        ("segmentation-rle-no-size", "/annotations/0/segmentation", "RLE object"),
        ("category-name-missing", "/categories/0", "missing required key 'name'"),
        ("skeleton-triple", "/categories/0/skeleton/0", "has 3 items, expected at most 2"),
        ("info-is-array", "/info", "expected object or string, got array"),
    ],
)
def test_pl310_reports_the_failing_value(make_dataset, cli, mutation, pointer, words):
    root = make_dataset({"train": mutated_documents()[f"mutation:{mutation}"]}, images=False)
    findings = _pl310(cli, root)
    assert [p for p, _ in findings] == [pointer]
    assert words in findings[0][1]


@pytest.mark.parametrize(
    "mutation",
    [
        *("width-integral-float", "iscrowd-float-zero", "crowd-with-rle"),
        *("segmentation-rle-string", "extra-top-level-key", "image-extra-keys"),
        *("attributes-rich", "no-info-no-licenses", "category-keypoints-missing"),
        *("keypoints-ints", "score-number", "date-captured-string"),
        *("iscrowd-true", "info-empty-string", "licenses-empty-string"),
    ],
)
def test_pl310_accepts_what_cvat_and_datumaro_write(make_dataset, cli, mutation):
    root = make_dataset({"train": mutated_documents()[f"mutation:{mutation}"]}, images=False)
    assert _pl310(cli, root) == []


@pytest.mark.parametrize(
    ("mutation", "pointer", "message"),
    [
        (
            "iscrowd-true",
            "/annotations/0/iscrowd",
            "iscrowd is written true (not 1) on 1 annotation, the first here",
        ),
        ("info-empty-string", "/info", 'info is the string "", not an object'),
        ("licenses-empty-string", "/licenses", 'licenses is the string "", not an array'),
    ],
)
def test_pl311_warns_about_what_loaders_accept_but_coco_does_not_define(
    make_dataset, cli, mutation, pointer, message
):
    """iscrowd false/true and info "" break no loader (pycocotools reads false as 0): a
    warning, which does not fail the run, instead of a PL310 error."""
    docs = {**clean_docs(), "train": mutated_documents()[f"mutation:{mutation}"]}
    result = cli("check", make_dataset(docs), "--format", "json")
    assert result.code == 0, result
    assert [(d["code"], d["severity"], d["pointer"], d["message"]) for d in result.json()] == [
        ("PL311", "warning", pointer, message)
    ]


def test_pl311_one_finding_per_file_for_iscrowd_false(make_dataset, cli):
    """PoseTrack writes iscrowd false on every person: one warning per file, not thousands."""
    doc = clean_docs()["train"]
    for annotation in doc["annotations"]:
        annotation["iscrowd"] = False
    result = cli("check", make_dataset({**clean_docs(), "train": doc}), "--format", "json")
    assert result.code == 0, result
    assert [d["message"] for d in result.json()] == [
        "iscrowd is written false (not 0) on 2 annotations, the first here"
    ]


def test_pl311_leaves_other_types_to_pl310(make_dataset, cli):
    docs = {**clean_docs(), "train": mutated_documents()["mutation:info-is-array"]}
    codes = [d["code"] for d in cli("check", make_dataset(docs), "--format", "json").json()]
    assert codes == ["PL310"]


def test_iscrowd_false_is_what_pycocotools_reads_as_0():
    """Why PL311 is a warning: COCOeval's own ignore flag and IoU read false as 0."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    doc = clean_docs()["train"]
    doc["annotations"][0]["iscrowd"] = False
    gt = COCO()
    gt.dataset = doc
    gt.createIndex()
    dt = gt.loadRes([{**a, "score": 1.0} for a in doc["annotations"]])
    ev = COCOeval(gt, dt, "bbox")
    ev.evaluate()
    ev.accumulate()
    assert [g["ignore"] for g in ev._gts[1, 1]] == [False]  # iscrowd false: not ignored
    assert ev.eval["precision"].max() == 1.0  # the file against itself: perfect


def test_pl310_never_stops_at_the_first_error(make_dataset, cli):
    doc = clean_docs()["train"]
    doc["annotations"] = [person(i, 1, [1, 2, 2] * 4, iscrowd=2) for i in range(1, 31)]
    doc["annotations"][17]["keypoints"][26 % 12] = "x"
    findings = _pl310(cli, make_dataset({"train": doc}, images=False))
    pointers = {p for p, _ in findings}
    assert len(findings) == 31
    assert "/annotations/17/keypoints/2" in pointers and "/annotations/29/iscrowd" in pointers


def test_pl310_text_output_is_capped_per_rule(make_dataset, cli):
    root = make_dataset({"train": mutated_documents()["mutation:many-errors"]}, images=False)
    result = cli("check", root, "--select", "PL310")
    assert result.code == 1
    assert result.out.count(": PL310 ") == 20
    assert "PL310: 580 more not shown" in result.out


def test_pl310_stops_listing_after_the_bound(make_dataset, cli, monkeypatch):
    monkeypatch.setattr(schema_rules, "MAX_SCHEMA_FINDINGS", 50)
    root = make_dataset({"train": mutated_documents()["mutation:many-errors"]}, images=False)
    findings = _pl310(cli, root)
    assert len(findings) == 51
    # 300 annotations with 2 errors each: 50 listed reach into annotation 25
    assert findings[-1] == (
        "",
        "stopped listing schema errors at 50; 275 entries of images, annotations and "
        "categories from there on fail the schema",
    )


@pytest.mark.parametrize("validator", [schema.FAST, schema.REFERENCE])
def test_many_errors_are_counted_not_built(validator):
    doc = clean_docs()["train"]
    doc["annotations"] = [person(i, 1, [1, 2, 2] * 4, iscrowd=2) for i in range(1, 10_001)]
    for ann in doc["annotations"]:
        ann["keypoints"] = ["x"] * 12  # 13 errors per annotation: 130,000 in all
    errors = list(schema.iter_errors(doc, limit=1_000, validator=validator))
    assert len(errors) == 1_001
    assert errors[-1].keyword == "limit"
    assert "9,924 entries" in errors[-1].message  # the 1,001st error is in annotation 76


def test_pl310_message_never_dumps_a_huge_value(make_dataset, cli):
    doc = clean_docs()["train"]
    doc["annotations"][0]["segmentation"] = {"counts": list(range(100_000))}
    [(pointer, message)] = _pl310(cli, make_dataset({"train": doc}, images=False))
    assert pointer == "/annotations/0/segmentation"
    assert len(message) < 300 and "an object with 1 keys" in message


@pytest.mark.parametrize("validator", [schema.FAST, schema.REFERENCE])
def test_values_nested_to_the_parsers_bound_give_errors_not_exceptions(validator):
    # orjson accepts 1,024 levels; jsonschema-rs returns failing values up to 255 deep and
    # Python's stack gives out near 1,000. Either way: a diagnostic, never an exception.
    deep = orjson.loads(b"[" * 1020 + b"]" * 1020)
    doc = {**clean_docs()["train"], "info": deep}
    doc["images"][1] = deep
    errors = sorted((e.pointer, e.keyword) for e in schema.iter_errors(doc, validator=validator))
    assert errors == [("", "depth"), ("/images/1", "depth")]
    assert "nested too deeply" in schema.iter_errors(doc, validator=validator).__next__().message


def test_pl310_reports_a_deep_value_jsonschema_rs_cannot_return(make_dataset, cli):
    findings = _pl310(cli, make_dataset({"train": mutated_documents()["mutation:deep-info"]}))
    assert findings == [("/info", "expected object or string, got array an array of 1 items")]


# --- randomised differential: the corpus above, plus whatever hypothesis makes up -------------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0, 1, 2, -1, 0.0, 1.0, 64.0, 1.5, "", "x", "0"])
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node, path=()):
    yield path
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        yield from _paths(child, (*path, key))


@st.composite
def _mutated(draw):
    doc = clean_docs()[draw(st.sampled_from(["train", "val"]))]
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        path = draw(st.sampled_from([p for p in _paths(doc) if p]))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(_json_values)
    return orjson.loads(json.dumps(doc))  # numbers as the parser hands them over


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_mutated())
def test_fast_path_agrees_with_the_reference_on_random_mutations(doc):
    fast = sorted((e.pointer, e.keyword, e.message) for e in iter_errors_fast(doc))
    reference = sorted((e.pointer, e.keyword, e.message) for e in iter_errors_reference(doc))
    assert fast == reference
