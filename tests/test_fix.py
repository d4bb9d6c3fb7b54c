"""--fix and --diff: what changes, what never changes, output lines and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders import clean_docs, coco, image, person, write_json

BOM = b"\xef\xbb\xbf"


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under root -> its bytes (None for folders): equal snapshots, equal trees."""
    out: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = None if path.is_dir() else path.read_bytes()
    return out


def ann_file(root: Path, split: str) -> Path:
    return root / "annotations" / f"person_keypoints_{split}.json"


def load(root: Path, split: str) -> dict:
    return json.loads(ann_file(root, split).read_bytes())


def outside_docs() -> dict[str, dict]:
    """train: an outside point with coordinates (ints) and one with floats; val: clean."""
    docs = clean_docs()
    docs["train"]["annotations"][0]["keypoints"] = [10, 12, 2, 20, 10, 1, 33, 44, 0, 30, 20, 2]
    docs["train"]["annotations"][1]["keypoints"] = [
        40.0,
        30.0,
        2,
        45.5,
        25.25,
        0,
        50.0,
        35.0,
        2,
        55.0,
        40.0,
        1,
    ]
    docs["train"]["annotations"][1]["num_keypoints"] = 3
    return docs


def test_cvat_export_is_fixed_and_then_clean(make_cvat_export, cli):
    root = make_cvat_export()
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert result.code == 1, result
    lines = result.out.splitlines()
    assert lines[:5] == [
        "fixed 4 outside points in annotations/person_keypoints_Train.json",
        "renamed annotations/person_keypoints_Train.json -> "
        "annotations/person_keypoints_train.json",
        "renamed annotations/person_keypoints_Validation.json -> "
        "annotations/person_keypoints_val.json",
        "renamed images/Train -> images/train",
        "renamed images/Validation -> images/val",
    ]
    assert sorted(os.listdir(root / "images")) == ["train", "val"]
    assert cli("check", root).code == 0
    again = cli("check", root, "--fix", "--unsafe-fixes")
    assert again.code == 0 and "renamed" not in again.out and "fixed" not in again.out


def test_diff_and_dry_run_change_nothing(make_cvat_export, cli):
    root = make_cvat_export()
    before = snapshot(root)
    for flag in ("--diff", "--dry-run"):
        result = cli("check", root, flag, "--unsafe-fixes", cwd=root)
        assert result.code == 1
        assert "would rename images/Train -> images/train" in result.out
        assert "would fix 4 outside points in annotations/person_keypoints_Train.json" in result.out
        assert snapshot(root) == before


def test_nothing_to_fix_is_exit_0_and_untouched(make_dataset, cli):
    root = make_dataset()
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    result = cli("check", root, "--fix", "--unsafe-fixes")
    assert result.code == 0 and "All checks passed!" in result.out
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == before
    assert cli("check", root, "--diff").code == 0


def test_unfixable_error_remains_exit_1(make_dataset, cli):
    root = make_dataset()
    (root / "stray.txt").write_text("")
    result = cli("check", root, "--fix", "--unsafe-fixes", "--format", "json")
    assert result.code == 1 and result.codes() == {"PL101"}


def test_case_only_rename(make_dataset, cli):
    docs = clean_docs()
    root = make_dataset({"TRAIN": docs["train"], "val": docs["val"]})
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert "renamed images/TRAIN -> images/train" in result.out
    # Exact names from the listing: right on case-insensitive filesystems too.
    assert sorted(os.listdir(root / "images")) == ["train", "val"]
    assert "person_keypoints_train.json" in os.listdir(root / "annotations")
    assert not any(n.startswith(".poselint") for n in os.listdir(root / "images"))
    assert cli("check", root).code == 0


def test_interrupted_case_only_rename_is_completed(make_dataset, cli):
    root = make_dataset()
    os.rename(root / "images" / "train", root / "images" / ".poselint-rename-to-train")
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert (
        "renamed images/.poselint-rename-to-train -> images/train "
        "(completing an interrupted rename)" in result.out
    )
    assert result.code == 1 and cli("check", root).code == 0


def test_leftover_temp_file_of_a_write_is_removed(make_dataset, cli):
    root = make_dataset()
    temp = root / "annotations" / ".poselint-tmp-person_keypoints_train.json.k2j4h1z_.tmp"
    temp.write_text('{"half": ')
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert result.code == 1 and not temp.exists()
    assert result.out.splitlines()[0] == (
        "removed annotations/.poselint-tmp-person_keypoints_train.json.k2j4h1z_.tmp "
        "(temp file of an interrupted write)"
    )


def test_leftovers_stay_when_no_selected_rule_has_a_fixer(make_dataset, cli):
    root = make_dataset()
    temp = root / "annotations" / ".poselint-tmp-person_keypoints_train.json.k2j4h1z_.tmp"
    temp.write_text('{"half": ')
    before = snapshot(root)
    result = cli("check", root, "--fix", "--unsafe-fixes", "--select", "PL305", cwd=root)
    assert (result.code, result.out) == (0, "All checks passed!\n")
    assert snapshot(root) == before


@pytest.mark.parametrize("select", [[], ["--select", "PL302"], ["--select", "PL305"]])
def test_a_users_temp_named_file_is_never_removed(make_dataset, cli, select):
    """Only poselint's own temp names (`.poselint-tmp-...`) count as leftovers of a write."""
    root = make_dataset()
    backup = root / "annotations" / ".person_keypoints_train.json.before-relabel.tmp"
    backup.write_bytes(ann_file(root, "train").read_bytes())
    before = snapshot(root)
    result = cli("check", root, "--fix", "--unsafe-fixes", *select, cwd=root)
    assert snapshot(root) == before
    assert "removed" not in result.out
    # PL104 reports the stray file when it is selected; nothing else is wrong
    assert result.code == (0 if select else 1), result


def test_target_exists_refuses_and_changes_nothing(make_dataset, cli):
    docs = outside_docs()
    root = make_dataset({"Train": docs["train"], "train": docs["train"], "val": docs["val"]})
    raw = ann_file(root, "val").read_bytes()
    ann_file(root, "val").write_bytes(BOM + raw)  # another fixable problem: must stay too
    before = snapshot(root)
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert result.code == 1
    assert (
        "refused to fix .: images/train already exists next to images/Train: merge them or "
        "remove one by hand, then run --fix again (nothing changed)" in result.out
    )
    assert snapshot(root) == before


def test_two_variants_of_one_split_refuse(make_dataset, cli):
    docs = clean_docs()
    root = make_dataset({"Train": docs["train"], "Training": docs["train"], "val": docs["val"]})
    before = snapshot(root)
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert result.code == 1 and "would become" in result.out
    assert snapshot(root) == before


def test_bom_is_stripped_and_nothing_else_changes(make_dataset, cli):
    root = make_dataset()
    path = ann_file(root, "val")
    original = path.read_bytes()
    path.write_bytes(BOM + original)
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert result.code == 1
    assert "removed the UTF-8 BOM from annotations/person_keypoints_val.json" in result.out
    assert path.read_bytes() == original


def test_file_name_prefix_of_the_old_folder_is_rewritten(make_dataset, cli):
    docs = clean_docs()
    train = docs["train"]
    root = make_dataset({"Train": train, "val": docs["val"]})
    # file_name repeats the split folder: images/Train/ holds img_001.jpg, not Train/img_001.jpg
    for img in train["images"]:
        img["file_name"] = "Train/" + img["file_name"]
    write_json(ann_file(root, "Train"), train)
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert (
        "rewrote 3 file_name values in annotations/person_keypoints_Train.json "
        "(dropped the 'Train/' prefix)" in result.out
    )
    names = [img["file_name"] for img in load(root, "train")["images"]]
    assert names == ["img_001.jpg", "nested/dir/img_002.png", "img_003.jpg"]
    assert cli("check", root).code == 0


def test_key_order_unknown_fields_and_number_types_are_kept(make_dataset, cli):
    docs = outside_docs()
    train = docs["train"]
    train["x_custom"] = {"b": 1, "a": [1.0, 2]}
    train["annotations"][0]["attributes"]["pose_quality"] = "good"
    train["annotations"][0]["zzz_unknown"] = 100.0
    root = make_dataset(docs)
    path = ann_file(root, "train")
    before = json.loads(path.read_text())
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert "fixed 2 outside points in annotations/person_keypoints_train.json" in result.out
    after = json.loads(path.read_text())

    expected = json.loads(json.dumps(before))
    expected["annotations"][0]["keypoints"][6:8] = [0, 0]  # ints stay ints
    expected["annotations"][1]["keypoints"][3:5] = [0.0, 0.0]  # floats stay floats
    assert after == expected
    assert json.dumps(after) == json.dumps(expected)  # same key order everywhere
    kps0, kps1 = after["annotations"][0]["keypoints"], after["annotations"][1]["keypoints"]
    assert type(kps0[6]) is int and type(kps1[3]) is float and type(kps1[0]) is float
    assert b'"zzz_unknown": 100.0' in path.read_bytes()


STYLES = {
    "compact": {"separators": (",", ":")},
    "spaced": {},
    "indent2": {"indent": 2},
    "indent4": {"indent": 4},
    "tabs": {"indent": "\t"},
    "ascii-escapes": {"indent": 2, "ensure_ascii": True},
}


@pytest.mark.parametrize("style", STYLES)
def test_layout_of_the_file_is_kept(make_dataset, cli, style):
    docs = outside_docs()
    docs["train"]["info"]["description"] = "caméra 2"
    root = make_dataset(docs)
    path = ann_file(root, "train")
    options = {"ensure_ascii": False, **STYLES[style]}
    path.write_text(json.dumps(docs["train"], **options) + "\n", encoding="utf-8")
    assert cli("check", root, "--fix", "--unsafe-fixes").code == 1
    expected = json.loads(json.dumps(docs["train"]))
    expected["annotations"][0]["keypoints"][6:8] = [0, 0]
    expected["annotations"][1]["keypoints"][3:5] = [0.0, 0.0]
    assert path.read_text(encoding="utf-8") == json.dumps(expected, **options) + "\n"


def test_crlf_indented_file_keeps_its_line_endings(make_dataset, cli):
    docs = outside_docs()
    root = make_dataset(docs)
    path = ann_file(root, "train")
    path.write_bytes(json.dumps(docs["train"], indent=2).replace("\n", "\r\n").encode())
    assert cli("check", root, "--fix", "--unsafe-fixes").code == 1
    data = path.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") > 10
    assert json.loads(data)["annotations"][0]["keypoints"][6:8] == [0, 0]


def test_num_keypoints_is_recounted(make_dataset, cli):
    docs = clean_docs()
    docs["train"]["annotations"][0]["num_keypoints"] = 4  # the triplets have 3 with v > 0
    root = make_dataset(docs)
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert "fixed num_keypoints of 1 annotation in annotations/person_keypoints_train.json" in (
        result.out
    )
    assert load(root, "train")["annotations"][0]["num_keypoints"] == 3
    assert cli("check", root).code == 0


def test_zero_outside_keypoints_false_keeps_coordinates(make_dataset, cli, tmp_path):
    root = make_dataset(outside_docs())
    (tmp_path / "poselint.toml").write_text("zero_outside_keypoints = false\n")
    before = snapshot(root)
    result = cli("check", root, "--fix", "--unsafe-fixes")
    assert result.code == 0 and snapshot(root) == before


def test_ignored_code_is_not_fixed(make_dataset, cli):
    root = make_dataset(outside_docs())
    before = snapshot(root)
    assert cli("check", root, "--fix", "--unsafe-fixes", "--ignore", "PL601").code == 0
    assert snapshot(root) == before


def test_duplicate_keys_file_is_not_rewritten(make_dataset, cli):
    root = make_dataset(outside_docs())
    path = ann_file(root, "train")
    text = path.read_text()
    path.write_text(text.replace('"licenses":', '"info": {}, "licenses":', 1))
    before = path.read_bytes()
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert "not rewritten: it has duplicate keys" in result.out
    assert path.read_bytes() == before and result.code == 1


@pytest.mark.parametrize("indent", [None, 2])
def test_duplicate_keys_over_the_report_bound_still_stop_a_rewrite(
    make_dataset, cli, tmp_path, indent
):
    """PL305's report bound (duplicate_key_check_bytes) is for `check`; a rewrite would drop
    the first value, so --fix checks every file whatever its size."""
    root = make_dataset(outside_docs())
    path = ann_file(root, "train")
    text = json.dumps(load(root, "train"), indent=indent)
    first = '"file_name": "img_001.jpg"'
    assert text.count(first) == 1
    # CVAT-like: the image's first name as drawn, then the one the tool wrote last
    path.write_text(text.replace(first, f'"file_name": "old/a:b.jpg", {first}'))
    (tmp_path / "poselint.toml").write_text("duplicate_key_check_bytes = 100\n")
    before = snapshot(root)
    assert "PL305" not in cli("check", root, "--format", "json").codes()  # over the bound
    for flag in ("--diff", "--fix"):
        result = cli("check", root, flag, "--unsafe-fixes", cwd=root)
        assert (
            "note: annotations/person_keypoints_train.json not rewritten: "
            "it has duplicate keys (PL305); resolve them first" in result.out.splitlines()
        ), result
        assert "outside point" not in result.out and result.code == 1
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1, "b": {"c": "x:y", "d": [1, {"e": 2}]}}', []),
        ('{"s": ["a:b", "c"], "t": [[1.5, 2], ["u:v"]], "k:": 1}', []),
        ('{"a": 1, "a": 2}', [("", "a")]),
        ('{"a": "p:q", "a": "r"}', [("", "a")]),
        ('{"a": {"k:": 1, "k:": 1}, "b": 2}', [("/a", "k:")]),
        # an escaped ':' must not balance the dropped pair
        ('{"a": "\\u003a", "a": 1, "b": 2}', [("", "a")]),
        ('{"x": [1, {"a": 1, "a": 1}]}', [("/x/1", "a")]),  # in a list the walk skips
        ('[{"a": 1}, {"a": 1, "b": 0, "b": 0}]', [("/1", "b")]),
    ],
)
def test_the_fast_duplicate_key_proof_never_hides_one(text, expected):
    """--fix scans every file: the colon-count proof of "no duplicate key", then the stdlib
    parse when it cannot prove it. Both must give what the stdlib parse alone gives."""
    from poselint.load.document import duplicate_keys, find_duplicate_keys

    data = text.encode()
    assert find_duplicate_keys(data) == expected
    assert duplicate_keys(data, json.loads(data)) == expected


def test_huge_integer_file_is_not_rewritten(make_dataset, cli):
    docs = outside_docs()
    docs["train"]["x_big"] = 123456789012345678901234567890
    root = make_dataset(docs)
    before = ann_file(root, "train").read_bytes()
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert "integer beyond 64 bits" in result.out
    assert ann_file(root, "train").read_bytes() == before


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("flag", ["--fix", "--diff"])
def test_integer_below_int64_is_a_note_not_an_internal_error(make_dataset, cli, indent, flag):
    """-2**63 - 1 has 19 digits: orjson cannot write it back (nor read it as an int)."""
    docs = outside_docs()
    docs["train"]["x_small"] = -(2**63) - 1
    root = make_dataset(docs)
    path = ann_file(root, "train")
    separators = (",", ":") if indent is None else (",", ": ")  # as CVAT lays it out
    path.write_text(json.dumps(docs["train"], indent=indent, separators=separators))
    before = snapshot(root)
    result = cli("check", root, flag, "--unsafe-fixes", "--select", "PL6", cwd=root)
    assert result.out.splitlines()[0] == (
        "note: annotations/person_keypoints_train.json not rewritten: it holds an integer "
        "beyond 64 bits, which a rewrite would turn into a float"
    ), result
    assert result.code == 1 and result.err == ""
    assert snapshot(root) == before


def test_integers_of_the_64_bit_range_are_rewritten(make_dataset, cli):
    docs = outside_docs()
    docs["train"]["x_range"] = [-(2**63), 2**64 - 1, 10**19]
    root = make_dataset(docs)
    result = cli("check", root, "--fix", "--unsafe-fixes", "--select", "PL6", cwd=root)
    assert result.out.splitlines()[0] == (
        "fixed 2 outside points in annotations/person_keypoints_train.json"
    ), result
    assert load(root, "train")["x_range"] == [-(2**63), 2**64 - 1, 10**19]


def _nested(depth: int) -> object:
    value: object = 1
    for level in range(depth - 1):
        value = [value] if level % 2 else {"d": value}
    return value


@pytest.mark.parametrize("depth", [300, 1000])
@pytest.mark.parametrize("indent", [None, 2, 4])
def test_deeply_nested_field_is_rewritten_like_any_other(make_dataset, cli, depth, indent):
    """`check` accepts 1024 levels; orjson writes 255, the stdlib ~1000 by default: the
    rewrite must write what check accepts, in the file's own layout."""
    from poselint.load.document import deep_recursion

    docs = outside_docs()
    root = make_dataset(docs)
    path = ann_file(root, "train")
    train = docs["train"]
    train["x_deep"] = _nested(depth)
    separators = (",", ":") if indent is None else (",", ": ")
    with deep_recursion():
        path.write_text(json.dumps(train, indent=indent, separators=separators))
        train["annotations"][0]["keypoints"][6:8] = [0, 0]
        train["annotations"][1]["keypoints"][3:5] = [0.0, 0.0]
        expected = json.dumps(train, indent=indent, separators=separators).encode()
    result = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert result.out.splitlines() == [
        "fixed 2 outside points in annotations/person_keypoints_train.json",
        "All checks passed!",
    ], result
    assert result.code == 1 and path.read_bytes() == expected


def test_json_format_keeps_stdout_a_json_array(make_cvat_export, cli):
    root = make_cvat_export()
    result = cli("check", root, "--fix", "--unsafe-fixes", "--format", "json")
    assert result.code == 1
    assert isinstance(result.json(), list)  # the report still parses
    assert "renamed" in result.err


def test_dvc_tracked_root_ends_with_dvc_add(make_dataset, cli, tmp_path):
    docs = clean_docs()
    root = make_dataset({"Train": docs["train"], "val": docs["val"]}, name="pose")
    (tmp_path / "pose.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: pose\n"
    )
    result = cli("check", root, "--fix", "--unsafe-fixes")
    assert result.code == 1
    assert result.out.splitlines()[-1] == (
        "pose is tracked by DVC: run `dvc add pose` to record the fixes"
    )


def test_dvc_file_argument_names_its_output(make_dataset, cli, tmp_path):
    docs = clean_docs()
    data = tmp_path / "data"
    make_dataset({"Train": docs["train"], "val": docs["val"]}, name="data/pose")
    (tmp_path / "data.dvc").write_text("outs:\n- path: data\n")
    result = cli("check", tmp_path / "data.dvc", "--fix", "--unsafe-fixes")
    assert "run `dvc add data`" in result.out.splitlines()[-1]
    assert (data / "pose" / "images" / "train").is_dir()


@pytest.mark.parametrize(
    ("option", "where", "problem"),
    [
        ("--metrics", "folder", "is a folder"),
        ("--output", "file/report.json", "file is not a folder"),
    ],
)
def test_fix_changes_nothing_when_its_output_cannot_be_written(
    make_dataset, cli, tmp_path, option, where, problem
):
    """The --output/--stats write came after the fixes: when it failed, files had been
    rewritten and renamed but the run said only a bare errno. Destinations are checked first."""
    docs = clean_docs()
    root = make_dataset({"Train": docs["train"], "val": docs["val"]})
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("")
    before = snapshot(root)
    result = cli("check", root, "--fix", "--unsafe-fixes", option, where)
    assert result.code == 2, result
    assert result.err == f"poselint: error: {option} {where}: {problem}\n"
    assert snapshot(root) == before


def test_untracked_root_has_no_dvc_line(make_dataset, cli):
    docs = clean_docs()
    root = make_dataset({"Train": docs["train"], "val": docs["val"]})
    assert "dvc add" not in cli("check", root, "--fix", "--unsafe-fixes").out


def test_new_document_reads_back_like_a_fresh_coco_file(make_dataset, cli):
    """Images and annotations added with the builders are untouched by an unrelated fix."""
    docs = clean_docs()
    docs["val"] = coco([image(9, "a.jpg")], [person(1, 9, [1, 2, 2, 3, 4, 0, 5, 6, 2, 7, 8, 2])])
    root = make_dataset(docs)
    before = ann_file(root, "train").read_bytes()
    assert cli("check", root, "--fix", "--unsafe-fixes").code == 1
    assert ann_file(root, "train").read_bytes() == before  # only val needed a fix
    assert load(root, "val")["annotations"][0]["keypoints"][3:6] == [0, 0, 0]


def test_a_fix_already_running_on_the_dataset_is_a_refusal(make_cvat_export):
    from poselint.config import Config
    from poselint.engine import select_rules
    from poselint.fix import fix_dataset
    from poselint.fsutil import dataset_lock
    from poselint.load.dataset import Dataset

    root = make_cvat_export()
    before = snapshot(root)
    config = Config()
    with dataset_lock(root):  # another process would hold it the same way (flock)
        result = fix_dataset(
            Dataset(root, config), select_rules(config), apply=True, lock_timeout=0.1
        )
    assert "another poselint process is fixing this dataset" in result.refusals[0].detail
    assert result.changes == [] and snapshot(root) == before
    assert any(d.code == "PL201" for d in result.diagnostics)


def test_the_fix_result_carries_the_dataset_its_diagnostics_come_from(make_cvat_export):
    from poselint.config import Config
    from poselint.engine import select_rules
    from poselint.fix import fix_dataset
    from poselint.load.dataset import Dataset

    root = make_cvat_export()
    config = Config()
    dry = Dataset(root, config, exact=True)  # as the CLI opens it for --diff
    assert fix_dataset(dry, select_rules(config), apply=False).dataset is dry  # --diff
    before = Dataset(root, config)
    result = fix_dataset(before, select_rules(config), apply=True)
    assert result.changes and result.dataset is not before  # re-scanned after the fix
    assert result.dataset is not None
    assert [s.name for s in result.dataset.splits] == ["train", "val"]  # renamed on disk


def test_each_rule_declares_its_fix_and_its_applicability():
    """One place: the rule's @rule(fix=Fix(...)); every declared fixer resolves."""
    from poselint.rules import REGISTRY

    fixes = {r.code: r.fix.applicability for r in REGISTRY if r.fix is not None}
    assert fixes == {"PL201": "safe", "PL302": "safe", "PL601": "unsafe", "PL603": "safe"}
    for r in REGISTRY:
        if r.fix is not None:
            assert callable(r.fix.load()) and r.fix.why.endswith(".")


def test_linting_never_imports_the_fix_code(make_cvat_export):
    """The fixers are named as "module:function" and imported only when a fix runs."""
    root = make_cvat_export()
    code = (
        "import sys; from poselint.cli import main; code = main(['check', sys.argv[1], '-q']); "
        "print(code, sorted(m for m in sys.modules if m.startswith('poselint.fix')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=True
    )
    assert proc.stdout.splitlines()[-1] == "1 []"


def test_fix_applies_the_safe_fixes_only(make_cvat_export, cli):
    """PL601's fix is unsafe (it discards the positions CVAT drew): --fix renames the splits
    and leaves the outside points, saying once how to zero them."""
    root = make_cvat_export()
    before = ann_file(root, "Train").read_bytes()
    result = cli("check", root, "--fix", cwd=root)
    assert result.code == 1, result
    lines = result.out.splitlines()
    assert lines[:4] == [
        "renamed annotations/person_keypoints_Train.json -> "
        "annotations/person_keypoints_train.json",
        "renamed annotations/person_keypoints_Validation.json -> "
        "annotations/person_keypoints_val.json",
        "renamed images/Train -> images/train",
        "renamed images/Validation -> images/val",
    ]
    assert [line.split(": ")[1].split(" ")[0] for line in lines[4:-1]] == ["PL601"] * 4
    assert " [*] " not in result.out  # --fix as run does not repair them
    assert lines[-1] == (
        "Found 4 errors and 0 warnings (4 fixable with --unsafe-fixes: "
        "run `poselint check --fix --unsafe-fixes`)."
    )
    assert ann_file(root, "train").read_bytes() == before  # renamed, not rewritten
    again = cli("check", root, "--fix", "--unsafe-fixes", cwd=root)
    assert again.out.splitlines()[0] == (
        "fixed 4 outside points in annotations/person_keypoints_train.json"
    )
    assert again.code == 1 and cli("check", root).code == 0


def test_summary_and_marks_say_which_fixes_are_unsafe(make_cvat_export, cli):
    root = make_cvat_export()
    result = cli("check", root, cwd=root)
    assert result.out.splitlines()[-1] == (
        "Found 8 errors and 0 warnings (4 fixable: run `poselint check --fix`; "
        "4 more fixable with --unsafe-fixes)."
    )
    marks = {
        line.split(": ")[1].split(" split ")[0].split(" keypoint ")[0]
        for line in result.out.splitlines()[:-1]
    }
    assert marks == {"PL201 [*]", "PL601"}  # [*]: what `--fix` as run repairs, as ruff marks
    unsafe = cli("check", root, "--unsafe-fixes", cwd=root)
    assert unsafe.out.count(" PL601 [*] ") == 4
    assert unsafe.out.splitlines()[-1] == (
        "Found 8 errors and 0 warnings (8 fixable: run `poselint check --fix --unsafe-fixes`)."
    )
    stats = cli("check", root, "--statistics", cwd=root).out.splitlines()
    assert stats == [
        "      4\tPL201\t[*] split-name-variant\terror",
        "      4\tPL601\toutside-point-not-zeroed\terror",
    ]


def test_under_pre_commit_the_unsafe_fixes_are_named_as_hook_args(
    make_cvat_export, cli, monkeypatch
):
    """The poselint-fix hook applies the safe fixes only: the summary says how to opt in."""
    root = make_cvat_export()
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert cli("check", root, "--select", "PL601", cwd=root).out.splitlines()[-1] == (
        "Found 4 errors and 0 warnings (4 fixable with --unsafe-fixes: "
        "add `args: [--unsafe-fixes]` to the `poselint-fix` hook)."
    )


def test_json_shows_each_fix_applicability(make_cvat_export, cli):
    root = make_cvat_export()
    (root / "images" / "Train" / "stray.jpg").write_bytes(b"")  # PL505: no fix
    records = json.loads(cli("check", root, "--format", "json", cwd=root).out)
    fixes = {(r["code"], r["fixable"], json.dumps(r["fix"])) for r in records}
    assert fixes == {
        ("PL201", True, '{"applicability": "safe"}'),
        ("PL601", True, '{"applicability": "unsafe"}'),
        ("PL505", False, "null"),
    }


def test_fix_with_write_baseline_says_what_it_changed_and_exits_1(make_cvat_export, cli, tmp_path):
    """--fix then --write-baseline: the fixer convention (print each change, exit 1) holds, and
    the baseline holds only what is left after fixing."""
    root = make_cvat_export()
    baseline = tmp_path / "baseline.json"
    result = cli("check", root, "--fix", "--unsafe-fixes", "--write-baseline", baseline, cwd=root)
    assert result.code == 1, result
    assert result.out.splitlines()[:2] == [
        "fixed 4 outside points in annotations/person_keypoints_Train.json",
        "renamed annotations/person_keypoints_Train.json -> "
        "annotations/person_keypoints_train.json",
    ]
    assert result.err == f"poselint: wrote 0 findings to the baseline {baseline}\n"
    assert cli("check", root, "--baseline", baseline).code == 0
