"""The CLI contract: paths, exit codes, output formats, selection and configuration."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_fix import snapshot

from builders import clean_docs
from poselint.commands.rules import rules_reference, rules_table
from poselint.rules import REGISTRY

REPO = Path(__file__).resolve().parents[1]


def _broken(make_dataset):
    docs = clean_docs()
    return make_dataset({"Train": docs["train"], "val": docs["val"]})


def test_exit_0_when_clean_and_summary_line(make_dataset, cli):
    result = cli("check", make_dataset())
    assert result.code == 0 and "All checks passed!" in result.out


def test_exit_1_and_text_lines(make_dataset, cli):
    root = _broken(make_dataset)
    result = cli("check", root, cwd=root)
    assert result.code == 1
    assert re.search(
        r"^images/Train: PL201 \[\*\] split 'Train' should be 'train'", result.out, re.M
    )
    assert "Found 2 errors and 0 warnings (2 fixable" in result.out


def test_warnings_alone_exit_0(make_dataset, cli, tmp_path):
    root = _broken(make_dataset)
    (tmp_path / "poselint.toml").write_text('[severity]\nPL201 = "warning"\n')
    result = cli("check", root, "--format", "json")
    assert result.code == 0
    assert {d["severity"] for d in result.json()} == {"warning"}


def test_json_paths_are_relative_to_cwd(make_dataset, cli, tmp_path):
    root = _broken(make_dataset)
    records = cli("check", root, "--format", "json", cwd=tmp_path).json()
    assert records and all(not Path(str(r["path"])).is_absolute() for r in records)
    assert {"code", "severity", "path", "message", "fixable"} <= set(records[0])


def test_github_format(make_dataset, cli):
    root = _broken(make_dataset)
    result = cli("check", root, "--format", "github", cwd=root)
    assert result.out.splitlines()[0].startswith("::error file=images/Train,title=poselint PL201::")


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--format", "xml"],
        ["check", "/no/such/path"],
        ["check", "--select", "PL9"],
        ["frobnicate"],
        ["check", "--bogus"],
    ],
)
def test_exit_2_when_it_cannot_run(cli, argv):
    result = cli(*argv)
    assert result.code == 2
    assert "Traceback" not in result.err and result.err


def test_unknown_config_key_is_exit_2_naming_the_key(make_dataset, cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.poselint]\ndatasetz = ['x']\n")
    result = cli("check", make_dataset())
    assert result.code == 2 and "datasetz" in result.err


def test_invalid_toml_is_exit_2(make_dataset, cli, tmp_path):
    (tmp_path / "poselint.toml").write_text("splits = [\n")
    assert cli("check", make_dataset()).code == 2


@pytest.mark.parametrize(
    ("name", "content", "key"),
    [
        ("pyproject.toml", b'tool = "poselint"\n', "'tool'"),
        ("pyproject.toml", b'tool = ["poselint", 1]\n', "'tool'"),
        ("pyproject.toml", b"[tool]\nposelint = 3\n", "[tool.poselint]"),
        ("pyproject.toml", "[tool.poselint]\nsplits = ['train']\n".encode("utf-16"), "UTF-8"),
        ("pyproject.toml", b'[tool.poselint]\ndatasets = ["data\\u0000pose"]\n', "'datasets'"),
        ("poselint.toml", b'splits = ["train", "val", "t\\u0000"]\n', "'splits'"),
        ("poselint.toml", b'splits = ["train", "val", ".."]\n', "'splits'"),
        ("poselint.toml", b"max_per_rule = " + b"[" * 5000 + b"]" * 5000 + b"\n", "deeply"),
        ("poselint.toml", b"image_size = 1\n", "'image_size'"),
        # "" is a prefix of every code: it switched every rule off and passed any dataset
        ("poselint.toml", b'ignore = ["PL605", ""]\n', "'ignore' holds an empty rule selector"),
        ("poselint.toml", b'select = [" "]\n', "'select' holds an empty rule selector"),
        ("poselint.toml", b'[severity]\n"" = "warning"\n', "'severity' holds an empty"),
    ],
)
def test_config_errors_are_one_line_naming_the_file_and_key(
    make_dataset, cli, tmp_path, name, content, key
):
    root = make_dataset()
    config = tmp_path / name
    config.write_bytes(content)
    for argv in (
        ["check", root],
        ["check", root, "--config", config],
        ["pack", root, "-o", "o.zip"],
    ):
        result = cli(*argv, cwd=tmp_path)
        assert result.code == 2, result
        assert result.err.startswith("poselint: error: ") and result.err.count("\n") == 1, result
        assert str(config) in result.err and key in result.err, result
        assert "internal error" not in result.err and "Traceback" not in result.err


def test_unknown_rule_selector_names_where_it_came_from(make_dataset, cli, tmp_path):
    root = make_dataset()
    config = tmp_path / "poselint.toml"
    config.write_text('ignore = ["PL9"]\n')
    result = cli("check", root)
    assert (
        result.code == 2 and f"{config}: [tool.poselint] unknown rule selector 'PL9'" in result.err
    )
    config.write_text("")
    result = cli("check", root, "--select", "PL9")
    assert result.err == "poselint: error: unknown rule selector 'PL9'\n", result


def test_selectors_that_switch_checks_off_unseen_are_refused(make_dataset, cli, tmp_path):
    """`ignore = ["ALL"]` was accepted and ignored nothing; a severity keyed by a prefix was
    accepted and applied to no rule. Both are refused rather than guessed at."""
    root = _broken(make_dataset)
    config = tmp_path / "poselint.toml"
    where = f"poselint: error: {config}: [tool.poselint] "
    config.write_text('ignore = ["all"]\n')
    assert cli("check", root).err == (
        f"{where}'ALL' cannot be ignored: it would switch every rule off\n"
    )
    config.write_text('[severity]\nPL2 = "warning"\n')
    assert cli("check", root).err == f"{where}'severity' key 'PL2' is not a rule code\n"
    config.write_text("")
    result = cli("check", root, "--ignore", "PL101,ALL")
    assert result.code == 2, result
    assert (
        result.err == "poselint: error: 'ALL' cannot be ignored: it would switch every rule off\n"
    )


def test_a_broken_pyproject_in_a_parent_folder_is_named(make_dataset, cli, tmp_path):
    """poselint uses a pyproject.toml only when it has [tool.poselint]; one that cannot be
    read cannot say, so it is an error naming it (--config FILE skips the search)."""
    root = make_dataset()
    work = tmp_path / "repo" / "sub"
    work.mkdir(parents=True)
    parent = tmp_path / "repo" / "pyproject.toml"
    for content in (b'[project\nname = "x"\n', b'tool = "black"\n', "x = 1\n".encode("utf-16")):
        parent.write_bytes(content)
        result = cli("check", root, cwd=work)
        assert result.code == 2 and str(parent) in result.err, result
        assert "internal error" not in result.err and result.err.count("\n") == 1, result
    (work / "poselint.toml").write_text("")  # the nearer config wins; the parent is not read
    assert cli("check", root, cwd=work).code == 0
    assert cli("check", root, "--config", work / "poselint.toml", cwd=tmp_path).code == 0


def test_select_and_ignore_prefixes(make_dataset, cli):
    root = _broken(make_dataset)
    (root / "stray.txt").write_text("")
    assert cli("check", root, "--format", "json", "--select", "PL1").codes() == {"PL101"}
    assert cli("check", root, "--format", "json", "--ignore", "PL1").codes() == {"PL201"}
    assert cli("check", root, "--ignore", "PL101,PL201").code == 0


def test_config_datasets_used_when_no_path(make_dataset, cli, tmp_path):
    _broken(make_dataset)  # tmp_path/ds0
    (tmp_path / "pyproject.toml").write_text('[tool.poselint]\ndatasets = ["ds0"]\n')
    sub = tmp_path / "elsewhere"
    sub.mkdir()
    result = cli("check", "--format", "json", cwd=sub)
    assert result.codes() == {"PL201"}


def test_no_path_lints_cwd(make_dataset, cli):
    root = _broken(make_dataset)
    assert cli("check", "--format", "json", cwd=root).codes() == {"PL201"}


def test_paths_in_one_root_lint_it_once(make_dataset, cli):
    root = _broken(make_dataset)
    once = cli("check", root, "--format", "json").json()
    many = cli(
        "check",
        root / "annotations" / "person_keypoints_val.json",
        root / "images" / "val",
        root,
        "--format",
        "json",
    ).json()
    assert many == once


def test_a_file_in_no_dataset_is_exit_2_not_all_checks_passed(make_dataset, cli, tmp_path):
    """Nothing was checked: saying "All checks passed!" would be a false pass (issue 14)."""
    stray = tmp_path / "stray.json"
    stray.write_text("{}")
    result = cli("check", "stray.json", cwd=tmp_path)
    assert (result.code, result.out) == (2, ""), result
    assert result.err == (
        "poselint: error: stray.json: not inside a dataset root (no folder holding images/ and "
        "annotations/ at or above it)\n"
    )


def test_dvc_file_lints_its_output(make_dataset, cli, tmp_path):
    root = _broken(make_dataset)
    dvc = tmp_path / "ds0.dvc"
    dvc.write_text(f"outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: {root.name}\n")
    assert cli("check", dvc, "--format", "json").codes() == {"PL201"}


def test_folder_holding_several_datasets(make_dataset, cli, tmp_path):
    _broken(make_dataset)
    make_dataset()
    result = cli("check", tmp_path, "--format", "json")
    assert result.codes() == {"PL201"}


def test_statistics_and_quiet(make_dataset, cli):
    root = _broken(make_dataset)
    assert re.search(r"^\s+2\tPL201\t\[\*\]", cli("check", root, "--statistics").out, re.M)
    quiet = cli("check", root, "-q")
    assert "Found" not in quiet.out and "PL201" in quiet.out


def test_cap_per_rule_counts_the_rest(make_dataset, cli, tmp_path):
    root = make_dataset()
    for i in range(5):
        (root / f"stray{i}.txt").write_text("")
    (tmp_path / "poselint.toml").write_text("max_per_rule = 2\n")
    out = cli("check", root, cwd=tmp_path).out
    assert out.count(": PL101 ") == 2 and "3 more not shown" in out


def test_output_file_is_the_json_report(make_dataset, cli, tmp_path):
    root = _broken(make_dataset)
    cli("check", root, "--output", tmp_path / "report.json")
    assert {d["code"] for d in json.loads((tmp_path / "report.json").read_text())} == {"PL201"}


@pytest.mark.parametrize("option", ["--output", "--metrics"])
def test_output_and_stats_are_never_written_inside_a_root_being_linted(
    make_dataset, cli, tmp_path, option
):
    """`--output ds/annotations/person_keypoints_val.json` replaced the annotations with the
    report; refused before any work, as `pack` refuses a zip inside the root."""
    root = make_dataset(name="ds")
    (tmp_path / "link").symlink_to(root / "annotations")
    before = snapshot(root)
    for where in (
        root / "annotations" / "person_keypoints_val.json",
        tmp_path / "link" / "report.json",  # its folder is inside the root
        root / "new" / "report.json",
    ):
        result = cli("check", root, option, where, "--fix")
        assert result.code == 2, result
        assert result.err == (
            f"poselint: error: {option} {where}: inside the dataset root ds being linted\n"
        )
        assert result.out == "" and snapshot(root) == before


def test_fix_is_accepted(make_dataset, cli):
    assert cli("check", make_dataset(), "--fix").code == 0


def test_python_dash_m_entry_point(make_dataset):
    root = _broken(make_dataset)
    proc = subprocess.run(
        [sys.executable, "-m", "poselint", "check", str(root), "-q"], capture_output=True, text=True
    )
    assert proc.returncode == 1 and "PL201" in proc.stdout


def test_rule_reference_matches_registry(cli):
    """docs/rules.md holds `poselint rules --reference` verbatim: generated from the registry."""
    doc = (REPO / "docs" / "rules.md").read_text()
    block = doc.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert block == rules_reference(), (
        "regenerate docs/rules.md: put the output of `poselint rules --reference` between its "
        "rules:start and rules:end markers"
    )
    assert cli("rules", "--reference").out == block
    assert cli("rules").out == rules_table()
    for r in REGISTRY:  # one section per rule, and an index row linking to it
        assert f"\n### {r.code} `{r.name}`\n" in block
        assert f"| [{r.code}](#{r.code.lower()}-{r.name}) | `{r.name}` |" in block
    codes = [r.code for r in REGISTRY]
    assert len(set(codes)) == len(codes) and codes == sorted(codes)
    assert all(re.fullmatch(r"PL\d{3}", c) for c in codes)
    assert all(r.what and r.why and re.fullmatch(r"[a-z0-9-]+", r.name) for r in REGISTRY)


def test_findings_beyond_max_findings_per_file_are_counted(make_dataset, cli, tmp_path):
    root = make_dataset()
    for i in range(7):
        (root / f"stray{i}.txt").write_text("")
    (tmp_path / "poselint.toml").write_text("max_findings_per_file = 3\n")
    records = [d for d in cli("check", root, "--format", "json").json() if d["code"] == "PL101"]
    assert len(records) == 4
    assert "and 4 more PL101 findings" in str(records[-1]["message"])
    (tmp_path / "poselint.toml").write_text("max_findings_per_file = 0\n")
    assert len(cli("check", root, "--format", "json").json()) == 7


def test_finding_batches_are_formatted_only_as_far_as_kept():
    from poselint.engine import _within_cap
    from poselint.rules import Finding, FindingBatch

    formatted: list[int] = []

    def lazy(n: int):
        for i in range(n):
            formatted.append(i)
            yield Finding(f"finding {i}")

    kept, hidden = _within_cap([Finding("first"), FindingBatch(1000, lazy(1000))], cap=5)
    assert [f.message for f in kept] == ["first", *(f"finding {i}" for i in range(4))]
    assert hidden == 996 and len(formatted) == 4


def test_jobs_lints_roots_in_processes_and_reports_in_the_serial_order(make_dataset, cli):
    roots = []
    for i in range(4):
        docs = clean_docs()
        docs["train"]["annotations"][0]["image_id"] = 90 + i  # PL404, one per root
        if i % 2:
            docs["val"]["images"][0]["width"] = 1  # and PL504 in every other root
        roots.append(make_dataset(docs, name=f"root{i}"))
    for output in ("json", "text"):
        serial = cli("check", *roots, "--format", output, "--jobs", "1", "--no-cache")
        assert serial.code == 1, serial
        for jobs in ("2", "4"):
            parallel = cli("check", *roots, "--format", output, "--jobs", jobs, "--no-cache")
            assert (parallel.code, parallel.out) == (serial.code, serial.out), jobs
    found = cli("check", *roots, "--format", "json", "--jobs", "3").json()
    assert [Path(str(d["path"])).parts[0] for d in found if d["code"] == "PL404"] == [
        "root0",
        "root1",
        "root2",
        "root3",
    ]
    assert cli("check", *roots, "--jobs", "0").code == 2


def _imported_by_check(args: list[str], cwd: Path) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "poselint", "check", *args, "-q"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc
    return {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}


def test_small_roots_stay_in_one_process_unless_jobs_asks(make_dataset, tmp_path):
    """Starting worker processes costs more than linting small roots: without --jobs, roots
    whose annotation files total under PARALLEL_MIN_BYTES are linted here, one after another."""
    for name in ("a", "b"):
        make_dataset(clean_docs(), name=name)
    assert "concurrent.futures.process" not in _imported_by_check(["a", "b"], tmp_path)
    assert "concurrent.futures.process" in _imported_by_check(["a", "b", "--jobs", "2"], tmp_path)
