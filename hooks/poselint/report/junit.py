"""The junit format: JUnit XML, for CI systems that read only that."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

from poselint.diagnostics import Diagnostic
from poselint.report.common import pointed_message


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
                (f"{d.line}:{d.column}: " if d.line is not None else "") + pointed_message(d)
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
