"""`poselint rules` and `poselint rule CODE`: the registry as a table, a reference
(docs/rules.md is generated from it), JSON, or one rule explained."""

from __future__ import annotations

import argparse
import json
import sys

from poselint.diagnostics import EXIT_CANNOT_RUN, EXIT_CLEAN
from poselint.rules import REGISTRY, Rule


def rules_table() -> str:
    """Every rule as one markdown table row: what `poselint rules` prints."""
    lines = [
        "| code | name | what it catches | why it matters | fixable |",
        "|---|---|---|---|---|",
    ]
    for r in REGISTRY:
        name = f"`{r.name}`" + (" (opt-in)" if r.opt_in else "")
        severity = "" if r.severity == "error" else " (warning)"
        fixable = r.fix.applicability if r.fix is not None else "no"
        lines.append(f"| {r.code} | {name}{severity} | {r.what} | {r.why} | {fixable} |")
    return "\n".join(lines) + "\n"


_SCOPES = {
    "dataset": "runs once per dataset root",
    "file": "runs once per annotation file",
    "document": "runs once per annotation file that parsed to a JSON object",
}


def rules_reference() -> str:
    """docs/rules.md's generated part, from the registry (a test keeps them equal): an index
    table linking to one section per rule."""

    def anchor(code: str, name: str) -> str:  # GitHub's heading anchor of "### CODE `name`"
        return f"#{code.lower()}-{name}"

    lines = [
        "| code | name | severity | runs | fix |",
        "|---|---|---|---|---|",
    ]
    for r in REGISTRY:
        runs = "opt-in" if r.opt_in else "default"
        fix = r.fix.applicability if r.fix is not None else ""
        link = f"[{r.code}]({anchor(r.code, r.name)})"
        lines.append(f"| {link} | `{r.name}` | {r.severity} | {runs} | {fix} |")
    for r in REGISTRY:
        lines += ["", *rule_section(r)]
    return "\n".join(lines) + "\n"


def rule_section(r: Rule) -> list[str]:
    """One rule's section of the reference: what `poselint rule CODE` prints, too."""
    source = r.check.__module__.replace(".", "/") + ".py"
    how = "([how](cvat-round-trip.md#what---fix-changes))"
    if r.fix is None:
        fix = "no automatic fix"
    elif r.fix.applicability == "safe":
        fix = f"safe fix: `--fix` repairs it {how}"
    else:
        fix = f"unsafe fix: `--fix --unsafe-fixes` repairs it {how}"
    facts = [
        r.severity,
        f"opt-in: runs only with `--select {r.code}` (or `ALL`)" if r.opt_in else "default",
        fix,
        _SCOPES[r.scope],
        f"[`hooks/{source}`](../hooks/{source})",
    ]
    lines = [
        f"### {r.code} `{r.name}`",
        "",
        " · ".join(facts),
        "",
        f"**What it catches.** {r.what}",
        "",
        f"**Why it matters.** {r.why}",
    ]
    if r.fix is not None:
        lines += ["", f"**Why its fix is {r.fix.applicability}.** {r.fix.why}"]
    return lines


def rules_json() -> str:
    """The registry for tools: what `poselint rules --format json` prints."""
    fields = ("code", "name", "severity", "opt_in", "fixable", "what", "why")
    rows = [
        {field: getattr(r, field) for field in fields}
        | {"fix": None if r.fix is None else {"applicability": r.fix.applicability}}
        for r in REGISTRY
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def run_table(args: argparse.Namespace) -> int:
    if args.output_format == "json":
        if args.reference:
            print("poselint: error: --reference is markdown; drop --format json", file=sys.stderr)
            return EXIT_CANNOT_RUN
        sys.stdout.write(rules_json())
    else:
        sys.stdout.write(rules_reference() if args.reference else rules_table())
    return EXIT_CLEAN


def run_one(args: argparse.Namespace) -> int:
    code = args.code.strip().upper()
    found = next((r for r in REGISTRY if r.code == code), None)
    if found is None:
        print(
            f"poselint: error: no rule {args.code!r} (`poselint rules` lists them)",
            file=sys.stderr,
        )
        return EXIT_CANNOT_RUN
    sys.stdout.write("\n".join(rule_section(found)) + "\n")
    return EXIT_CLEAN
