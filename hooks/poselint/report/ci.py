"""Reports CI systems read: SARIF 2.1.0 (GitHub code scanning), GitLab Code Quality, JUnit XML.

Each takes the diagnostics already located (report.located) and returns the whole document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

import orjson

from poselint import __version__
from poselint.diagnostics import Diagnostic, displayable

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_DOCS = "https://github.com/poselint/poselint/blob/main/docs/rules.md"


def _message(d: Diagnostic) -> str:
    pointer = f" (at {displayable(d.pointer)})" if d.pointer else ""
    return displayable(d.message) + pointer


def fingerprint(d: Diagnostic, cwd: Path) -> str:
    """Stable across runs while the finding stays: code, file, pointer and message."""
    key = "\0".join((d.code, d.display_path(cwd), d.pointer or "", displayable(d.message)))
    return hashlib.sha256(key.encode()).hexdigest()


def to_sarif(diagnostics: Sequence[Diagnostic], cwd: Path) -> bytes:
    from poselint.engine import INTERNAL_ERROR
    from poselint.rules import REGISTRY

    rules: list[dict[str, object]] = [
        {
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.what},
            "fullDescription": {"text": r.why},
            "help": {"text": f"{r.what} {r.why}"},
            "helpUri": f"{_DOCS}#{r.code.lower()}-{r.name}",
            "defaultConfiguration": {"level": r.severity},
            "properties": {"fixable": r.fixable, "optIn": r.opt_in},
        }
        for r in REGISTRY
    ]
    rules.append(
        {
            "id": INTERNAL_ERROR,
            "name": "internal-error",
            "shortDescription": {"text": "A rule raised an exception; the others still ran."},
            "defaultConfiguration": {"level": "error"},
        }
    )
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results: list[dict[str, object]] = []
    for d in diagnostics:
        location: dict[str, object] = {"artifactLocation": {"uri": d.display_path(cwd)}}
        if d.line is not None:
            location["region"] = {"startLine": d.line, "startColumn": d.column}
        result: dict[str, object] = {
            "ruleId": d.code,
            "level": d.severity,
            "message": {"text": _message(d)},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {"poselint/v1": fingerprint(d, cwd)},
            "properties": {"fixable": d.fixable, "count": d.count},
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "poselint",
                        "version": __version__,
                        "informationUri": _DOCS.rsplit("/blob/", 1)[0],
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "originalUriBaseIds": {"%SRCROOT%": {"uri": cwd.as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return orjson.dumps(log, option=orjson.OPT_INDENT_2)


_GITLAB_SEVERITY = {"error": "major", "warning": "minor"}


def to_gitlab(diagnostics: Sequence[Diagnostic], cwd: Path) -> bytes:
    """GitLab Code Quality: one issue per diagnostic, line 1 when the file has no position."""
    issues = [
        {
            "description": f"{d.code} {_message(d)}",
            "check_name": d.code,
            "fingerprint": fingerprint(d, cwd),
            "severity": _GITLAB_SEVERITY[d.severity],
            "location": {"path": d.display_path(cwd), "lines": {"begin": d.line or 1}},
        }
        for d in diagnostics
    ]
    return orjson.dumps(issues, option=orjson.OPT_INDENT_2)


def _xml_text(text: str) -> str:
    """XML 1.0 forbids most control characters even escaped: they become `\\xNN`."""
    return "".join(
        c if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff") else f"\\x{ord(c):02x}"
        for c in text
    )


def to_junit(diagnostics: Sequence[Diagnostic], cwd: Path) -> bytes:
    """JUnit XML: a testsuite per file, a testcase per rule that reported there; an error
    finding fails its testcase, warnings only go to system-out. A clean run is one passing
    testcase."""
    by_file: dict[str, dict[str, list[Diagnostic]]] = {}
    for d in diagnostics:
        by_file.setdefault(d.display_path(cwd), {}).setdefault(d.code, []).append(d)
    suites = ET.Element("testsuites", name="poselint")
    total = failed = 0
    for path, codes in by_file.items():
        suite = ET.SubElement(suites, "testsuite", name=_xml_text(path))
        suite_failures = 0
        for code, found in codes.items():
            case = ET.SubElement(suite, "testcase", classname=_xml_text(path), name=code)
            lines = [
                (f"{d.line}:{d.column}: " if d.line is not None else "") + _message(d)
                for d in found
            ]
            body = _xml_text("\n".join(lines))
            errors = [d for d in found if d.severity == "error"]
            if errors:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=_xml_text(f"{sum(d.count for d in errors)} {code} finding(s)"),
                    type=code,
                )
                failure.text = body
                suite_failures += 1
            else:
                ET.SubElement(case, "system-out").text = body
        suite.set("tests", str(len(codes)))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        total += len(codes)
        failed += suite_failures
    if not by_file:  # a clean run is one passing test, not an empty report
        suite = ET.SubElement(suites, "testsuite", name="poselint", tests="1", failures="0")
        ET.SubElement(suite, "testcase", classname="poselint", name="check")
        total = 1
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    suites.set("errors", "0")
    document: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
