"""The sarif format: SARIF 2.1.0, which GitHub code scanning, GitLab and Azure DevOps read;
the rules with their help text and fix availability, results with line and column."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson

from poselint import __version__
from poselint.diagnostics import Diagnostic
from poselint.engine import INTERNAL_ERROR
from poselint.report.common import fingerprint, pointed_message
from poselint.rules import REGISTRY

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_DOCS = "https://github.com/poselint/poselint/blob/main/docs/rules.md"


def to_sarif(diagnostics: Sequence[Diagnostic], cwd: Path) -> bytes:
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
            "message": {"text": pointed_message(d)},
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
