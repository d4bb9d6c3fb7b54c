"""`check --write-baseline` / `--baseline`: adopt poselint on a dataset with old findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

TRAIN = "annotations/person_keypoints_Train.json"


def _edit(root: Path, change: Any, indent: int | None = None) -> None:
    path = root / TRAIN
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc, indent=indent, sort_keys=indent is not None))


def _entries(path: Path) -> list[dict[str, object]]:
    """The baseline's entries without the example message (which may quote a position)."""
    return [
        {k: v for k, v in e.items() if k != "message"}
        for e in json.loads(path.read_text())["findings"]
    ]


@pytest.fixture
def legacy(make_cvat_export, cli, tmp_path):
    """A raw CVAT export (8 findings: 4 PL201, 4 PL601) with a baseline written for it."""
    root = make_cvat_export()
    result = cli("check", root, "--write-baseline", tmp_path / "baseline.json", cwd=tmp_path)
    assert result.code == 0, result
    assert (
        result.err
        == "poselint: wrote 8 findings to the baseline " + str(tmp_path / "baseline.json") + "\n"
    )
    return root


def test_passes_against_its_baseline_and_fails_on_one_new_finding(legacy, cli, tmp_path):
    assert cli("check", legacy, cwd=tmp_path).code == 1  # the findings are still there
    result = cli("check", legacy, "--baseline", "baseline.json", cwd=tmp_path)
    assert (result.code, result.out) == (0, "All checks passed!\n")
    assert result.err == (
        "poselint: baseline baseline.json: 8 known findings not reported, 0 new; "
        "0 baseline entries now fixed\n"
    )

    def outside_with_coordinates(doc: dict[str, Any]) -> None:
        doc["annotations"][1]["keypoints"][8] = 0  # right_eye of annotation id 2: v=0 at (…)
        doc["annotations"][1]["keypoints"][6:8] = [33.0, 44.0]

    _edit(legacy, outside_with_coordinates)
    result = cli("check", legacy, "--baseline", "baseline.json", "--format", "json", cwd=tmp_path)
    assert result.code == 1
    assert [(d["code"], d["pointer"]) for d in result.json()] == [
        ("PL601", "/annotations/1/keypoints/6")
    ]
    assert "8 known findings not reported, 1 new; 0 baseline entries now fixed" in result.err


def test_reordered_and_pretty_printed_file_keeps_its_fingerprints(legacy, cli, tmp_path):
    def reorder(doc: dict[str, Any]) -> None:
        doc["images"].reverse()
        doc["annotations"].reverse()
        doc["categories"].reverse()

    _edit(legacy, reorder, indent=2)
    result = cli("check", legacy, "--baseline", "baseline.json", cwd=tmp_path)
    assert result.code == 0, result
    assert "8 known findings not reported, 0 new; 0 baseline entries now fixed" in result.err
    cli("check", legacy, "--write-baseline", "again.json", cwd=tmp_path)
    assert _entries(tmp_path / "again.json") == _entries(tmp_path / "baseline.json")


def test_fixed_entries_are_counted_so_the_file_can_shrink(legacy, cli, tmp_path):
    def zero_outside(doc: dict[str, Any]) -> None:
        doc["annotations"][0]["keypoints"][6:8] = [0, 0]  # id 1's right_eye: the PL601

    _edit(legacy, zero_outside)
    result = cli("check", legacy, "--baseline", "baseline.json", cwd=tmp_path)
    assert result.code == 0
    assert result.err == (
        "poselint: baseline baseline.json: 7 known findings not reported, 0 new; "
        "1 baseline entry now fixed (rewrite it with --write-baseline to shrink it)\n"
    )


def test_two_identical_findings_need_two_entries(legacy, cli, tmp_path):
    """A copy of an annotation (same id, same image, same bad point) repeats its PL601
    fingerprint: the baseline holds it once, so the copy's finding is new."""

    def duplicate(doc: dict[str, Any]) -> None:
        doc["annotations"].append(dict(doc["annotations"][0]))

    _edit(legacy, duplicate)
    result = cli("check", legacy, "--baseline", "baseline.json", "--format", "json", cwd=tmp_path)
    assert result.code == 1
    new = sorted((d["code"], d["pointer"]) for d in result.json())
    last = len(json.loads((legacy / TRAIN).read_text())["annotations"]) - 1
    assert ("PL601", f"/annotations/{last}/keypoints/6") in new
    assert [code for code, _ in new].count("PL601") == 1


def test_baseline_from_the_configuration(legacy, cli, tmp_path):
    (tmp_path / "poselint.toml").write_text('baseline = "baseline.json"\n')
    result = cli("check", legacy, cwd=tmp_path)
    assert (result.code, result.out) == (0, "All checks passed!\n")
    assert "8 known findings not reported" in result.err
    (tmp_path / "poselint.toml").write_text('baseline = "missing.json"\n')
    result = cli("check", legacy, cwd=tmp_path)
    assert result.code == 2
    assert "missing.json: no such baseline file (create it with" in result.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "not a poselint baseline"),
        ('{"version": 1, "findings": [{"code": 7}]}', "/findings/0 is not a baseline entry"),
        ("{", "cannot read this baseline"),
    ],
)
def test_a_bad_baseline_file_is_named(legacy, cli, tmp_path, content, message):
    (tmp_path / "bad.json").write_text(content)
    result = cli("check", legacy, "--baseline", "bad.json", cwd=tmp_path)
    assert result.code == 2
    assert result.err.startswith("poselint: error: bad.json: ") and message in result.err


def test_write_baseline_leaves_no_temp_file(legacy, tmp_path):
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert json.loads((tmp_path / "baseline.json").read_text())["version"] == 1


def test_fixed_counts_only_the_roots_checked(make_cvat_export, cli, tmp_path):
    """The hook checks the roots a commit touches: the other roots' entries are not fixed."""
    first, second = make_cvat_export("first"), make_cvat_export("second")
    assert cli("check", first, second, "--write-baseline", "b.json", cwd=tmp_path).code == 0
    result = cli("check", first, "--baseline", "b.json", cwd=tmp_path)
    assert result.code == 0
    assert "8 known findings not reported, 0 new; 0 baseline entries now fixed" in result.err
