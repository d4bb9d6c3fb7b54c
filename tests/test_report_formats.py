"""Line and column in every output, and the CI formats: SARIF, GitLab Code Quality, JUnit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from test_positions import reference

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def _rewrite(root: Path, indent: int | None) -> None:
    """The export's annotation files re-written pretty-printed (indent) or compact."""
    for f in (root / "annotations").glob("*.json"):
        doc = json.loads(f.read_text(encoding="utf-8"))
        f.write_text(json.dumps(doc, indent=indent), encoding="utf-8")


@pytest.mark.parametrize("indent", [None, 2])
def test_every_pointer_diagnostic_carries_the_line_and_column_of_its_value(
    make_cvat_export, cli, indent
):
    root = make_cvat_export()
    _rewrite(root, indent)
    records = cli("check", root, "--format", "json", cwd=root).json()
    pointed = [r for r in records if "pointer" in r]
    assert {r["code"] for r in pointed} == {"PL601"} and len(pointed) == 4
    for r in pointed:
        text = (root / str(r["path"])).read_text(encoding="utf-8")
        assert (r["line"], r["column"]) == reference(text)[str(r["pointer"])], r
        line = text.splitlines()[int(r["line"]) - 1]
        # the value at that spot is the keypoint's x the message names
        x = re.search(r"coordinates \((-?\d+),", str(r["message"]))
        assert x and line[int(r["column"]) - 1 :].startswith(x.group(1)), (line, r)
    assert all("line" not in r for r in records if "pointer" not in r)
    if indent:  # one number per line: each finding on a line of its own
        assert len({r["line"] for r in pointed}) == 4


def test_text_and_github_output_name_the_line_and_column(make_cvat_export, cli):
    root = make_cvat_export()
    _rewrite(root, 2)
    first = next(
        r for r in cli("check", root, "--format", "json", cwd=root).json() if "pointer" in r
    )
    line, col, pointer = first["line"], first["column"], first["pointer"]
    text = cli("check", root, cwd=root).out
    assert (
        f"annotations/person_keypoints_Train.json:{line}:{col}: PL601 keypoint 2 (right_eye) "
        f"is outside (v=0) but keeps coordinates (900, -20); set x=y=0 (at {pointer})\n"
    ) in text
    github = cli("check", root, "--format", "github", cwd=root).out
    assert (
        f"::error file=annotations/person_keypoints_Train.json,line={line},col={col},"
        "title=poselint PL601::PL601 keypoint 2 (right_eye) is outside (v=0) but keeps "
        f"coordinates (900, -20); set x=y=0 (at {pointer})\n"
    ) in github


def test_sarif_validates_against_the_sarif_2_1_0_schema(make_cvat_export, cli):
    root = make_cvat_export()
    result = cli("check", root, "--format", "sarif", cwd=root)
    assert result.code == 1
    log = json.loads(result.out)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_id = {r["id"]: r for r in rules}
    assert by_id["PL601"]["help"]["text"] and by_id["PL601"]["properties"]["fixable"] is True
    results = run["results"]
    assert {r["ruleId"] for r in results} == {"PL201", "PL601"}
    pl601 = [r for r in results if r["ruleId"] == "PL601"]
    records = [
        r for r in cli("check", root, "--format", "json", cwd=root).json() if r["code"] == "PL601"
    ]
    assert [r["locations"][0]["physicalLocation"]["region"] for r in pl601] == [
        {"startLine": r["line"], "startColumn": r["column"]} for r in records
    ]
    for r in results:
        assert r["level"] == "error" and r["properties"]["fixable"] is True
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    where = pl601[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert where == "annotations/person_keypoints_Train.json"


def test_sarif_of_a_clean_dataset_validates_and_has_no_results(make_dataset, cli):
    root = make_dataset()
    result = cli("check", root, "--format", "sarif", cwd=root)
    assert result.code == 0
    log = json.loads(result.out)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    assert log["runs"][0]["results"] == []


def test_gitlab_code_quality_report(make_cvat_export, cli):
    root = make_cvat_export()
    result = cli("check", root, "--format", "gitlab", cwd=root)
    assert result.code == 1
    issues = json.loads(result.out)
    records = cli("check", root, "--format", "json", cwd=root).json()
    assert len(issues) == len(records) == 8
    for issue, record in zip(issues, records, strict=True):
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["check_name"] == record["code"]
        assert issue["severity"] == "major"
        assert issue["location"] == {
            "path": record["path"],
            "lines": {"begin": record.get("line", 1)},
        }
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
    assert len({i["fingerprint"] for i in issues}) == 8
    again = json.loads(cli("check", root, "--format", "gitlab", cwd=root).out)
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in issues]


def test_junit_report_one_testcase_per_rule_per_file(make_cvat_export, cli, tmp_path):
    root = make_cvat_export()
    (tmp_path / "poselint.toml").write_text('[severity]\nPL201 = "warning"\n')
    result = cli("check", root, "--format", "junit", "--config", tmp_path / "poselint.toml")
    assert result.code == 1
    suites = ET.fromstring(result.out.encode())
    assert suites.tag == "testsuites"
    cases = {(s.get("name"), c.get("name")): c for s in suites for c in s.iter("testcase")}
    train = "export/annotations/person_keypoints_Train.json"
    assert sorted(cases) == sorted(
        [
            ("export/images/Train", "PL201"),
            ("export/images/Validation", "PL201"),
            ("export/annotations/person_keypoints_Validation.json", "PL201"),
            (train, "PL201"),
            (train, "PL601"),
        ]
    )
    failure = cases[(train, "PL601")].find("failure")
    assert failure is not None and failure.get("message") == "4 PL601 finding(s)"
    assert failure.text is not None and len(failure.text.splitlines()) == 4
    # a warning does not fail its testcase
    assert cases[(train, "PL201")].find("failure") is None
    assert suites.get("tests") == "5" and suites.get("failures") == "1"


def test_junit_of_a_clean_dataset_is_one_passing_testcase(make_dataset, cli):
    result = cli("check", make_dataset(), "--format", "junit")
    assert result.code == 0
    suites = ET.fromstring(result.out.encode())
    cases = list(suites.iter("testcase"))
    assert [c.get("name") for c in cases] == ["check"] and not list(cases[0])
    assert suites.get("tests") == "1" and suites.get("failures") == "0"
