"""What the command line accepts: every subcommand's options (argparse), and nothing
else, so that `poselint --help` and a bad option import no command's module."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from poselint import __version__, console
from poselint.diagnostics import EXIT_CANNOT_RUN

# `poselint --help`'s description (argparse rewraps it)
DESCRIPTION = (
    "poselint's command line: every subcommand's options, and the dispatch to its module in "
    "poselint.commands, imported only when that subcommand runs (start-up time matters in a hook)."
)

# Output formats of `check` (report/); the choices of other commands are listed at their parser.
FORMATS = ("text", "json", "github", "html", "sarif", "gitlab", "junit")
SKELETON_EXPORTS = ("detectron2", "mmpose", "ultralytics")  # commands/skeleton.EXPORTS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        console.error(message)
        raise SystemExit(EXIT_CANNOT_RUN)


class _MetricsOption(argparse.Action):
    """--metrics FILE, or its deprecated alias --stats: the name typed is kept, for errors
    and the deprecation note."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.metrics_option = option_string


def _codes(value: str) -> list[str]:
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def _positive(value: str) -> int:
    number = int(value) if value.isdigit() else 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="poselint", description=DESCRIPTION)
    parser.add_argument("-V", "--version", action="version", version=f"poselint {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = sub.add_parser("check", help="lint dataset roots (the pre-commit hooks run this)")
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="dataset roots, files or folders inside them, or .dvc files",
    )
    check.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        dest="output_format",
        metavar="FORMAT",
        help="text (default: path:line:col: CODE message), json (every diagnostic), github "
        "(workflow commands), sarif (code scanning), gitlab (Code Quality), junit (JUnit XML), "
        "html (a report to --output FILE); see docs/cli.md",
    )
    check.add_argument(
        "--select",
        type=_codes,
        action="extend",
        default=None,
        help="rule codes or prefixes to run (comma separated; replaces config)",
    )
    check.add_argument(
        "--ignore",
        type=_codes,
        action="extend",
        default=[],
        help="rule codes or prefixes to skip (comma separated)",
    )
    fix_or_diff = check.add_mutually_exclusive_group()  # both: exit 2, not a silent choice
    fix_or_diff.add_argument(
        "--fix",
        action="store_true",
        help="apply the safe fixes (and the unsafe ones with --unsafe-fixes)",
    )
    fix_or_diff.add_argument(
        "--diff",
        "--dry-run",
        action="store_true",
        dest="diff",
        help="print what --fix would change, and change nothing",
    )
    check.add_argument(
        "--unsafe-fixes",
        action="store_true",
        help="with --fix or --diff, apply the unsafe fixes too (they discard data someone may "
        "want back, e.g. PL601's stale positions; `poselint rules` says which); alone, count "
        "them as fixable in the report",
    )
    check.add_argument("--statistics", action="store_true", help="print counts per rule")
    check.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even when errors are found (2 still means poselint could not run)",
    )
    check.add_argument(
        "--color",
        choices=console.COLOR_CHOICES,
        default="auto",
        help="colour the text report: auto (default: on a terminal, unless NO_COLOR is set), "
        "always, never; machine formats are never coloured",
    )
    loudness = check.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print the findings only: no summary, notes or progress (errors that make it exit "
        "2 are still said)",
    )
    loudness.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also say which dataset roots and splits are checked (on stderr)",
    )
    check.add_argument(
        "--config",
        type=Path,
        help="a pyproject.toml or poselint.toml to use (default: the nearest one at or above "
        "each dataset root)",
    )
    check.add_argument(
        "--staged",
        action="store_true",
        help="also lint every dataset root the staged changes touch (added, deleted, renamed "
        "files; .dvc files); with nothing staged, every dataset in the git repository. "
        "The pre-commit hooks run this",
    )
    check.add_argument(
        "--no-image-size", action="store_true", help="skip reading image headers to compare sizes"
    )
    check.add_argument(
        "--output",
        type=Path,
        help="also write the JSON report to this file (the HTML report with --format html)",
    )
    check.add_argument(
        "--no-pull",
        action="store_true",
        help="lint DVC-tracked datasets as DVC records them, from its cache or remote, "
        "without the images in the workspace (needs dvc; image sizes are not checked)",
    )
    metrics = check.add_mutually_exclusive_group()
    metrics.add_argument(
        "--metrics",
        type=Path,
        metavar="FILE",
        action=_MetricsOption,
        help="write dataset metrics (per split: images, annotations, keypoints by visibility) "
        "as JSON, for `dvc metrics diff`",
    )
    metrics.add_argument(
        "--stats",
        type=Path,
        metavar="FILE",
        dest="metrics",
        action=_MetricsOption,
        help="deprecated: the old name of --metrics (not --statistics)",
    )
    check.add_argument(
        "--no-cache",
        action="store_true",
        help="lint every split afresh: neither read nor write the cache (.poselint_cache/)",
    )
    check.add_argument(
        "--jobs",
        type=_positive,
        metavar="N",
        help="lint up to N dataset roots at once, each in a process of its own; output as in "
        "one process (default: the number of cores when the roots' annotation files total "
        "64 MiB or more, else one at a time)",
    )
    check.set_defaults(metrics_option="--metrics")
    add_baseline_options(check)

    rules = sub.add_parser("rules", help="print every rule as a markdown table")
    rules.add_argument(
        "--reference",
        action="store_true",
        help="print the rule reference of docs/rules.md instead: an index, then one section "
        "per rule",
    )
    rules.add_argument(
        "--format",
        choices=("markdown", "json"),
        default="markdown",
        dest="output_format",
        help="json: a list of every rule (code, name, severity, opt_in, fixable, what, why)",
    )
    rule = sub.add_parser("rule", help="explain one rule: what it catches, why, its fix")
    rule.add_argument("code", metavar="CODE", help="a rule code, such as PL601")
    sub.add_parser(
        "clean", help="remove the cache (.poselint_cache/ at the git repository root, or here)"
    )
    add_diff_parser(sub)
    add_ingest_parser(sub)
    add_pack_parser(sub)
    add_skeleton_parser(sub)
    return parser


def add_baseline_options(check: argparse.ArgumentParser) -> None:
    group = check.add_mutually_exclusive_group()
    group.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="report and fail only on findings not in this baseline (also config `baseline`)",
    )
    group.add_argument(
        "--write-baseline",
        type=Path,
        metavar="FILE",
        help="record the current findings in FILE as accepted, and exit 0",
    )


def add_diff_parser(sub: Any) -> None:
    diff = sub.add_parser(
        "diff", help="what changed in the labels between two git revisions (REV_B: worktree)"
    )
    diff.add_argument("rev_a", metavar="REV_A")
    diff.add_argument(
        "rest", nargs="*", metavar="[REV_B] [PATH]", help="REV_B defaults to the working tree"
    )
    diff.add_argument(
        "--format",
        choices=("text", "json", "github", "html"),
        default="text",
        dest="output_format",
        help="html: the changed people drawn before/after on their images (needs --output)",
    )
    diff.add_argument(
        "--threshold",
        type=float,
        default=1.0,
        metavar="PX",
        help="report a keypoint as moved when it moved further than this (default 1 px)",
    )
    diff.add_argument(
        "--limit", type=int, default=50, help="changes listed per split in text/github (0: all)"
    )
    diff.add_argument("--output", type=Path, help="write the diff to this file, not stdout")
    diff.add_argument("--config", type=Path, help="a pyproject.toml or poselint.toml to use")
    diff.set_defaults(no_pull=False, staged=False)  # what _targets reads of `check`


def add_ingest_parser(sub: Any) -> None:
    p = sub.add_parser(
        "ingest",
        help="normalize a CVAT COCO Keypoints export (zip or folder) into a dataset root",
    )
    p.add_argument("export", type=Path, metavar="EXPORT", help="the export .zip or its folder")
    p.add_argument(
        "dest",
        type=Path,
        nargs="?",
        metavar="DEST",
        help="the dataset root to create (default: the one configured dataset, else ./<name>)",
    )
    p.add_argument("--force", action="store_true", help="replace a non-empty DEST")
    p.add_argument(
        "--max-bytes",
        type=int,
        help="refuse exports larger than this uncompressed (default: 64 GiB)",
    )
    p.add_argument(
        "--default-split",
        metavar="SPLIT",
        help="name CVAT's 'default' subset (a single-subset export) as this split",
    )
    p.add_argument(
        "--format", choices=("text", "json", "github"), default="text", dest="output_format"
    )
    p.add_argument("--config", type=Path, help="a pyproject.toml or poselint.toml to use")
    p.add_argument("--no-image-size", action="store_true", help="skip image header reads")
    p.add_argument("-q", "--quiet", action="store_true", help="print diagnostics only")


def add_pack_parser(sub: Any) -> None:
    p = sub.add_parser("pack", help="zip splits the way CVAT's 'import dataset' expects")
    p.add_argument("root", type=Path, metavar="ROOT", help="the dataset root (or a path in it)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.zip")
    p.add_argument(
        "--split",
        action="append",
        dest="splits",
        metavar="S",
        help="a split to pack (repeat for several; default: every split)",
    )
    p.add_argument("--config", type=Path, help="a pyproject.toml or poselint.toml to use")


def add_skeleton_parser(sub: Any) -> None:
    p = sub.add_parser("skeleton", help="pin the keypoint layout (init) and export it")
    verbs = p.add_subparsers(dest="verb", required=True, parser_class=type(p))
    init = verbs.add_parser("init", help="write the dataset's skeleton contract into the config")
    init.add_argument("root", type=Path, nargs="?", metavar="ROOT", help="the dataset root")
    init.add_argument("--config", type=Path, help="a pyproject.toml or poselint.toml to use")
    init.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help='write the contract to this TOML file instead (point `skeleton = "FILE"` at it)',
    )
    export = verbs.add_parser("export", help="print the contract as a framework's config")
    export.add_argument("--format", choices=SKELETON_EXPORTS, required=True, dest="export_format")
    export.add_argument("--category", help="the category to export (default: the only one)")
    export.add_argument("--config", type=Path, help="a pyproject.toml or poselint.toml to use")


def subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            found: argparse.ArgumentParser = action.choices[command]
            return found
    return parser
