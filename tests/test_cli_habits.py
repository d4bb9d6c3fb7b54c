"""The CLI habits of ruff and pre-commit: --exit-zero, -V, exclusive options, usage, help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from poselint import __version__


def test_exit_zero_reports_the_errors_and_exits_0(make_cvat_export, cli):
    root = make_cvat_export()
    plain = cli("check", root, "--format", "json")
    zero = cli("check", root, "--format", "json", "--exit-zero")
    assert plain.code == 1 and zero.code == 0
    assert json.loads(zero.out) == json.loads(plain.out) and len(zero.json()) == 8


def test_exit_zero_still_exits_2_when_it_cannot_run(cli, tmp_path):
    result = cli("check", tmp_path / "missing", "--exit-zero")
    assert result.code == 2 and "missing" in result.err


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag):
    result = subprocess.run(
        [sys.executable, "-m", "poselint", flag], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, f"poselint {__version__}\n", "")


@pytest.mark.parametrize("argv", [["--fix", "--diff"], ["--dry-run", "--fix"]])
def test_fix_and_diff_together_are_refused_with_exit_2(make_cvat_export, cli, argv):
    root = make_cvat_export()
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    result = cli("check", root, *argv)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("usage: poselint check ")
    assert "not allowed with argument" in result.err
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing renamed


def test_an_unknown_option_of_check_prints_the_check_usage(cli):
    result = cli("check", "--bogus")
    assert result.code == 2
    assert result.err.startswith("usage: poselint check [-h] [--format FORMAT]")
    assert result.err.endswith("poselint: error: unrecognized arguments: --bogus\n")


def test_format_has_help_text_naming_every_format(cli):
    result = cli("check", "--help")
    assert result.code == 0
    help_text = " ".join(result.out.split())
    assert "--format FORMAT text (default: path:line:col: CODE message), json" in help_text
    for fmt in ("github", "sarif", "gitlab", "junit", "html"):
        assert f"{fmt} (" in help_text
    assert "--exit-zero exit 0 even when errors are found" in help_text


def test_rule_explains_one_rule_as_the_reference_does(cli):
    from poselint.commands.rules import rules_reference

    result = cli("rule", "pl601")
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith("### PL601 `outside-point-not-zeroed`\n\nerror · default · ")
    assert "unsafe fix: `--fix --unsafe-fixes` repairs it" in result.out
    assert "**Why it matters.** " in result.out
    assert "**Why its fix is unsafe.** Zeroing discards the positions CVAT drew" in result.out
    assert result.out in rules_reference()  # one source: the section of docs/rules.md


def test_rule_of_an_opt_in_rule_says_so(cli):
    from poselint.rules import REGISTRY

    opt_in = next(r for r in REGISTRY if r.opt_in)
    result = cli("rule", opt_in.code)
    assert result.code == 0
    assert f"opt-in: runs only with `--select {opt_in.code}`" in result.out


def test_rule_of_an_unknown_code_exits_2_with_one_line(cli):
    result = cli("rule", "PL999")
    assert (result.code, result.out) == (2, "")
    assert result.err == "poselint: error: no rule 'PL999' (`poselint rules` lists them)\n"


def test_rules_format_json_lists_the_registry(cli):
    from poselint.rules import REGISTRY

    result = cli("rules", "--format", "json")
    assert (result.code, result.err) == (0, "")
    rows = json.loads(result.out)
    assert [r["code"] for r in rows] == [r.code for r in REGISTRY]
    first = REGISTRY[0]
    assert rows[0] == {
        "code": first.code,
        "name": first.name,
        "severity": first.severity,
        "opt_in": first.opt_in,
        "fixable": first.fixable,
        "what": first.what,
        "why": first.why,
        "fix": None if first.fix is None else {"applicability": first.fix.applicability},
    }
    by_code = {r["code"]: r for r in rows}
    assert by_code["PL601"]["fixable"] is True and by_code["PL601"]["severity"] == "error"
    assert by_code["PL601"]["fix"] == {"applicability": "unsafe"}
    assert by_code["PL201"]["fix"] == {"applicability": "safe"} and by_code["PL101"]["fix"] is None
    assert any(r["opt_in"] for r in rows) and any(r["severity"] == "warning" for r in rows)


def test_rules_reference_with_format_json_is_refused(cli):
    result = cli("rules", "--reference", "--format", "json")
    assert (result.code, result.out) == (2, "")
    assert result.err == "poselint: error: --reference is markdown; drop --format json\n"


def test_quiet_says_nothing_but_the_findings(make_cvat_export, cli, tmp_path):
    root = make_cvat_export()
    baseline = tmp_path / "baseline.json"
    wrote = cli("check", root, "--write-baseline", baseline, "-q")
    assert (wrote.code, wrote.out, wrote.err) == (0, "", "") and baseline.is_file()
    known = cli("check", root, "--baseline", baseline, "-q")
    assert (known.code, known.out, known.err) == (0, "", "")
    loud = cli("check", root, "--baseline", baseline)
    assert loud.err.startswith("poselint: baseline ")  # what -q silenced
    findings = cli("check", root, "-q")
    assert findings.code == 1 and findings.err == ""
    assert findings.out.splitlines() == cli("check", root).out.splitlines()[:-1]  # no summary


def test_verbose_says_which_roots_and_splits_are_checked(make_dataset, cli, tmp_path):
    make_dataset(name="a")
    make_dataset(name="b")
    result = cli("check", "a", "b", "-v")
    assert (result.code, result.out) == (0, "All checks passed!\n")
    assert result.err == "".join(
        f"poselint: checking {r}: train ({r}/annotations/person_keypoints_train.json), "
        f"val ({r}/annotations/person_keypoints_val.json)\n"
        for r in ("a", "b")
    )
    assert cli("check", "a").err == ""


def test_quiet_and_verbose_together_are_refused(cli):
    result = cli("check", "-q", "-v")
    assert result.code == 2
    assert result.err.endswith("argument -v/--verbose: not allowed with argument -q/--quiet\n")


def test_metrics_writes_the_metrics_file(make_dataset, cli, tmp_path):
    root = make_dataset(name="ds")
    result = cli("check", root, "--metrics", tmp_path / "m" / "dataset.json")
    assert (result.code, result.err) == (0, "")
    [(key, splits)] = json.loads((tmp_path / "m" / "dataset.json").read_text()).items()
    assert key == "ds" and splits["train"]["images"] == 3 and splits.keys() == {"train", "val"}


def test_stats_is_a_deprecated_alias_of_metrics(make_dataset, cli, tmp_path):
    root = make_dataset(name="ds")
    cli("check", root, "--metrics", tmp_path / "new.json")
    old = cli("check", root, "--stats", tmp_path / "old.json")
    assert old.code == 0
    assert old.err == (
        "poselint: note: --stats is deprecated: use --metrics FILE (the same metrics file)\n"
    )
    assert (tmp_path / "old.json").read_bytes() == (tmp_path / "new.json").read_bytes()
    quiet = cli("check", root, "--stats", tmp_path / "quiet.json", "-q")
    assert (quiet.code, quiet.err) == (0, "") and (tmp_path / "quiet.json").is_file()
    inside = cli("check", root, "--stats", root / "m.json", "-q")  # errors name what was typed
    assert inside.code == 2
    assert (
        inside.err
        == f"poselint: error: --stats {root / 'm.json'}: inside the dataset root ds being linted\n"
    )
    both = cli("check", root, "--metrics", tmp_path / "a.json", "--stats", tmp_path / "b.json")
    assert both.code == 2 and "argument --stats: not allowed with argument --metrics" in both.err
