"""--diff: the plan, then a unified diff of each JSON file --fix would rewrite (bounded to
the changed lines and their context), then nothing written and exit 1."""

from __future__ import annotations

import json
from pathlib import Path

from test_fix import ann_file, outside_docs, snapshot

from builders import person

PLAN = [
    "would fix 2 outside points in annotations/person_keypoints_Train.json",
    "would rename annotations/person_keypoints_Train.json -> "
    "annotations/person_keypoints_train.json",
    "would rename images/Train -> images/train",
]
# Line 108 is the x of /annotations/0/keypoints/6, as PL601 reports it; 138 the x of
# /annotations/1/keypoints/3.
HUNKS = [
    "--- annotations/person_keypoints_Train.json",
    "+++ annotations/person_keypoints_train.json",
    "@@ -105,8 +105,8 @@",
    "         20,",
    "         10,",
    "         1,",
    "-        33,",
    "-        44,",
    "+        0,",
    "+        0,",
    "         0,",
    "         30,",
    "         20,",
    "@@ -135,8 +135,8 @@",
    "         40.0,",
    "         30.0,",
    "         2,",
    "-        45.5,",
    "-        25.25,",
    "+        0.0,",
    "+        0.0,",
    "         0,",
    "         50.0,",
    "         35.0,",
]


def _export(make_dataset, indent: int | None) -> Path:
    """The outside points of test_fix, in a split CVAT named `Train`."""
    docs = outside_docs()
    root = make_dataset({"Train": docs["train"], "val": docs["val"]})
    path = ann_file(root, "Train")
    path.write_text(json.dumps(json.loads(path.read_bytes()), indent=indent) + "\n")
    return root


def test_diff_shows_the_changed_lines_of_the_file_as_it_is(make_dataset, cli):
    root = _export(make_dataset, indent=2)
    before = snapshot(root)
    result = cli("check", root, "--diff", "--unsafe-fixes", "--format", "json", cwd=root)
    assert result.code == 1
    assert result.err.splitlines() == PLAN + HUNKS  # the fix lines: stderr with json
    assert snapshot(root) == before
    pl601 = [d for d in json.loads(result.out) if d["code"] == "PL601"]
    assert [d["line"] for d in pl601] == [108, 138]


def test_a_one_line_file_is_diffed_pretty_printed(make_dataset, cli):
    """A compact COCO file is one line: its diff would be the whole file twice."""
    root = _export(make_dataset, indent=None)
    before = snapshot(root)
    result = cli("check", root, "--diff", "--unsafe-fixes", "--format", "json", cwd=root)
    assert result.code == 1
    note = (
        "annotations/person_keypoints_Train.json is one long line: the diff shows it "
        "pretty-printed (--fix keeps its layout)"
    )
    assert result.err.splitlines() == [*PLAN, note, *HUNKS]
    assert snapshot(root) == before


def test_diff_shows_only_the_fixes_fix_would_apply(make_dataset, cli):
    """Without --unsafe-fixes, --diff is what --fix does: the renames, no zeroing."""
    root = _export(make_dataset, indent=2)
    result = cli("check", root, "--diff", "--format", "json", cwd=root)
    assert result.code == 1
    assert result.err.splitlines() == PLAN[1:]


def test_millions_of_changes_are_counted_not_printed(make_dataset, cli):
    """Output stays bounded: the first 100 changed lines are shown, the rest counted."""
    docs = outside_docs()
    stale = [5, 5, 0] * 4  # four outside points with coordinates: 8 changed lines a person
    docs["train"]["annotations"] = [person(i, 1, stale) for i in range(1, 41)]
    root = make_dataset(docs)
    path = ann_file(root, "train")
    path.write_text(json.dumps(json.loads(path.read_bytes()), indent=1))
    result = cli("check", root, "--diff", "--unsafe-fixes", "--format", "json", cwd=root)
    lines = result.err.splitlines()
    removed = [line for line in lines if line.startswith("-") and not line.startswith("---")]
    added = [line for line in lines if line.startswith("+") and not line.startswith("+++")]
    assert removed == ["-    5,"] * 100 and added == ["+    0,"] * 100
    assert (
        "... and 220 more changed lines of annotations/person_keypoints_train.json, not shown "
        "(of 320)"
    ) in lines
    # 200 changed lines and their context (each v between an x, y pair, the fields between two
    # people): 330 lines in all, where the whole diff would be 640 changed lines and more
    assert len(lines) == 330 and lines[-1].startswith("... and 220 more"), lines
    assert lines[0] == "would fix 160 outside points in annotations/person_keypoints_train.json"


def test_lines_added_or_removed_are_aligned_by_difflib():
    """Every fixer edits values, so old and new have the same lines; should a rewrite ever
    change their number, difflib aligns them and the hunks are what `diff -u` prints."""
    import difflib

    from poselint.fix.preview import file_diff

    lines = [b"%d" % i for i in range(20)]
    old = b"\n".join(lines) + b"\n"
    new = b"\n".join([*lines[:5], b"five", b"and a half", *lines[6:17], *lines[19:]]) + b"\n"
    diff = file_diff(Path("a.json"), Path("b.json"), old, new)
    expected = difflib.unified_diff(
        old.decode().splitlines(), new.decode().splitlines(), lineterm=""
    )
    assert diff.lines == list(expected)[2:]  # without the ---/+++ header
    assert (diff.changed, diff.hidden, diff.pretty) == (3, 0, False)
