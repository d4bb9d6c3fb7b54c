"""poselint's command line: parse options, then discover -> load -> check -> report."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from poselint import __version__
from poselint.commands.ingest import add_ingest_parser
from poselint.commands.pack import add_pack_parser
from poselint.commands.skeleton import add_skeleton_parser
from poselint.config import Config, ConfigError, find_config, load_config_file
from poselint.diagnostics import Diagnostic, display_path
from poselint.discovery import (
    Discovered,
    DiscoveryError,
    Target,
    changed_paths,
    discover,
    discover_tracked,
    roots_of_changes,
)
from poselint.engine import lint_dataset, select_rules
from poselint.fsutil import inside
from poselint.load.dataset import Dataset
from poselint.load.document import gc_paused
from poselint.report.text import FORMATS, write_report
from poselint.rules import Rule

if TYPE_CHECKING:
    from poselint.fix import FixResult

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_CANNOT_RUN = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"poselint: error: {message}", file=sys.stderr)
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="poselint", description=__doc__)
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
    fix_or_diff.add_argument("--fix", action="store_true", help="apply the safe fixes")
    fix_or_diff.add_argument(
        "--diff",
        "--dry-run",
        action="store_true",
        dest="diff",
        help="print what --fix would change, and change nothing",
    )
    check.add_argument("--statistics", action="store_true", help="print counts per rule")
    check.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even when errors are found (2 still means poselint could not run)",
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
    add_diff_parser(sub)
    add_ingest_parser(sub)
    add_pack_parser(sub)
    add_skeleton_parser(sub)
    return parser


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            found: argparse.ArgumentParser = action.choices[command]
            return found
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


def run_diff(args: argparse.Namespace) -> int:
    from poselint.commands.diff import run_diff as diff
    from poselint.sources.dvc import DvcError
    from poselint.sources.git import GitError

    if args.output_format == "html" and args.output is None:
        print("poselint: error: --format html needs --output FILE", file=sys.stderr)
        return EXIT_CANNOT_RUN
    config = _load_config(args)

    def targets_of(paths: list[Path]) -> list[Target]:
        args.paths = paths
        return _targets(args, config)

    try:
        return diff(args, config, targets_of)
    except (GitError, DvcError) as exc:
        print(f"poselint: error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN


def _baseline_path(args: argparse.Namespace, config: Config) -> Path | None:
    if getattr(args, "write_baseline", None) is not None:
        return None
    return getattr(args, "baseline", None) or config.baseline


def _load_config(args: argparse.Namespace) -> Config:
    if args.config is not None:
        if not args.config.is_file():
            raise ConfigError(f"{args.config}: no such config file")
        return load_config_file(args.config)
    return find_config(Path.cwd())


def _root_config(
    args: argparse.Namespace, config: Config, target: Target, baseline: bool = False
) -> Config:
    """--config for every root; else, ruff-style, the nearest configuration at or above the
    root, so a dataset gets the same verdict from any working directory."""
    from dataclasses import replace

    found = config if args.config is not None else find_config(target.root)
    if args.no_image_size:
        found = replace(found, image_size=False)
    if baseline:  # every finding fingerprinted: no "... and N more" for some
        found = replace(found, max_findings_per_file=0)
    return found


def _targets(args: argparse.Namespace, config: Config) -> list[Target]:
    manifests = None
    if args.no_pull:  # roots inside tracked folders come from DVC's manifest, not the disk
        from poselint.sources.dvc import remote_manifest

        manifests = remote_manifest
    if getattr(args, "staged", False):  # `check --staged` only; `diff` shares _targets
        found = roots_of_changes(*changed_paths(Path.cwd()))
        for target in discover(list(args.paths), manifests).targets if args.paths else []:
            found.add(target)
        return found.targets  # none: the commit touches no dataset
    if args.paths:
        return discover(list(args.paths), manifests).targets
    # No PATH: every dataset DVC tracks in this repo, plus the configured ones.
    found = Discovered()
    for target in discover_tracked(Path.cwd(), manifests):
        found.add(target)
    for path in config.datasets:
        if any(t.root == path for t in found.targets):
            continue
        if path.exists() or path.with_name(path.name + ".dvc").is_file():
            for target in discover([path], manifests).targets:
                found.add(target)
        else:
            found.add(Target(path))  # PL100 names it
    return found.targets or discover([Path.cwd()], manifests).targets


def _open_dataset(target: Target, config: Config, no_pull: bool, exact: bool) -> Dataset:
    """exact: parse documents as written, to rewrite them (--fix, --diff)."""
    if not (no_pull and target.dvc_file is not None):
        return Dataset(target.root, config, dvc_file=target.dvc_file, exact=exact)
    from dataclasses import replace

    from poselint.sources import dvc as dvcsupport

    try:
        remote = dvcsupport.open_remote(target.root, target.dvc_file)
    except dvcsupport.DvcError as exc:
        raise DiscoveryError(f"--no-pull: {exc}") from exc
    if config.image_size:
        dvcsupport.note(
            f"--no-pull: {dvcsupport.display(target.root)} is read through DVC; image files are "
            "listed from its manifest, not read, so image sizes (headers) are not checked"
        )
    return Dataset(
        target.root, replace(config, image_size=False), dvc_file=target.dvc_file, remote=remote
    )


def run_check(args: argparse.Namespace) -> int:
    from poselint import console
    from poselint.sources import dvc as dvcsupport  # no dvc import: it clears what a run cached

    dvcsupport.forget()
    if args.no_pull and (args.fix or args.diff):
        print(
            "poselint: error: --fix/--diff change the workspace; --no-pull reads what DVC "
            "records: `dvc pull` first, then fix",
            file=sys.stderr,
        )
        return EXIT_CANNOT_RUN
    html = args.output_format == "html"
    if html and args.output is None:
        print("poselint: error: --format html needs --output FILE", file=sys.stderr)
        return EXIT_CANNOT_RUN
    config = _load_config(args)  # the cwd's (or --config): which roots, with no PATH
    select_rules(config, args.select, args.ignore)  # a bad selector is exit 2 before any work
    from poselint.report.baseline import BaselineRun

    baseline = BaselineRun.start(_baseline_path(args, config), args.write_baseline)
    targets = _targets(args, config)
    metrics_option = args.metrics_option
    if metrics_option == "--stats":
        console.note("--stats is deprecated: use --metrics FILE (the same metrics file)")
    for option, path in (("--output", args.output), (metrics_option, args.metrics)):
        problem = _destination_problem(path, targets) if path is not None else None
        if problem is not None:  # before any fix: a run that cannot report changes nothing
            print(f"poselint: error: {option} {path}: {problem}", file=sys.stderr)
            return EXIT_CANNOT_RUN
    configs = [_root_config(args, config, t, baseline is not None) for t in targets]
    if configs and all(c == configs[0] for c in configs):
        config = configs[0]  # report settings (max_per_rule) of the roots linted
    progress = sys.stderr.isatty() and not args.quiet
    diagnostics: list[Diagnostic] = []
    datasets: list[Dataset] = []  # kept only for the HTML report, which draws from them
    fixes: list[FixResult] = []
    stats: dict[str, object] = {}  # --metrics: counted from the documents the rules parsed
    for target, root_config in zip(targets, configs, strict=True):
        rules = select_rules(root_config, args.select, args.ignore)
        dataset = _open_dataset(target, root_config, args.no_pull, exact=args.fix or args.diff)
        console.verbose(_checking(dataset, cwd=Path.cwd()))
        linted = dataset
        if args.fix or args.diff:
            fixed = run_fixers(dataset, rules, args, progress)
            fixes.append(fixed)
            diagnostics.extend(fixed.diagnostics)
            # after --fix changed files, the root re-scanned: the report draws them as they are
            linted = fixed.dataset or dataset
            fixed.dataset = None  # `fixes` lives to the end of the run: it holds no parse
        else:
            diagnostics.extend(lint_dataset(dataset, rules, progress=progress))
        if baseline is not None:
            baseline.add(linted, diagnostics[baseline.seen :])
        if html:
            datasets.append(linted)
        if args.metrics is not None:
            from poselint.report.metrics import dataset_stats

            # after --fix, the data as it now is: what the remaining diagnostics describe
            stats[display_path(target.root, Path.cwd())] = dataset_stats(linted)
    cwd = Path.cwd()
    fix_out = sys.stdout if args.output_format == "text" else sys.stderr
    for fixed in fixes:  # first: whatever follows, what --fix changed is said
        from poselint.fix.output import print_fix_lines  # --fix only: ~15 ms of imports

        print_fix_lines(fixed, fix_out, cwd)
    changed = any(f.changes or f.refusals for f in fixes)
    if baseline is not None:
        kept = baseline.finish(console.info_stream())
        if kept is None:  # --write-baseline: the findings left are now accepted
            _print_dvc_hints(fixes, fix_out, cwd)
            return EXIT_VIOLATIONS if changed else EXIT_CLEAN
        diagnostics = kept
    try:
        if args.metrics is not None:
            from poselint.report.metrics import write_stats

            write_stats(args.metrics, stats)
        if html:
            from poselint.report.html import write_html_report

            write_html_report(
                args.output, datasets, diagnostics, cwd=cwd, limit=config.max_per_rule
            )
        elif args.output is not None:
            from poselint.fsutil import atomic_write_bytes
            from poselint.report.text import located, to_json

            if not args.no_pull:  # once, for the file and the report below
                diagnostics = located(diagnostics)
            atomic_write_bytes(args.output, to_json(diagnostics, cwd))
    except OSError:  # a full disk: what --fix changed was said above; say what to record
        _print_dvc_hints(fixes, fix_out, cwd)
        raise
    write_report(
        diagnostics,
        args.output_format,
        sys.stdout,
        cwd=cwd,
        limit=config.max_per_rule,
        quiet=args.quiet,
        statistics=args.statistics,
        positions=not args.no_pull,  # with --no-pull, the workspace files are not what was read
    )
    _print_dvc_hints(fixes, fix_out, cwd)
    if args.exit_zero:
        return EXIT_CLEAN
    if changed:
        return EXIT_VIOLATIONS
    return EXIT_VIOLATIONS if any(d.severity == "error" for d in diagnostics) else EXIT_CLEAN


def _checking(dataset: Dataset, cwd: Path) -> str:
    """-v: the root and the splits found in it, each with its annotation file."""
    from poselint.report.text import printable

    splits = [
        f"{s.name} ({display_path(s.files.annotation_file, cwd)})"
        if s.files.annotation_file is not None
        else f"{s.name} (no annotation file)"
        for s in dataset.splits
    ]
    source = " (read through DVC)" if dataset.remote is not None else ""
    found = ", ".join(splits) if splits else "no splits"
    return printable(f"checking {display_path(dataset.root, cwd)}{source}: {found}")


def _print_dvc_hints(fixes: list[FixResult], out: Any, cwd: Path) -> None:
    for fixed in fixes:
        from poselint.fix.output import print_dvc_hint

        print_dvc_hint(fixed, out, cwd)


def _destination_problem(path: Path, targets: list[Target]) -> str | None:
    """Why --output/--metrics cannot be written there, checked before any work; makes its
    folder (`dvc repro` does not create an output's folder)."""
    # The file itself is replaced, not followed, when it is a symlink: resolve its folder.
    real = os.path.join(os.path.realpath(path.absolute().parent), path.name)
    for target in targets:
        root = os.path.realpath(target.root)
        if inside(real, root):
            return f"inside the dataset root {display_path(target.root, Path.cwd())} being linted"
    if path.is_dir() and not path.is_symlink():
        return "is a folder"
    folder = path.absolute().parent
    blocking = next((p for p in (folder, *folder.parents) if os.path.lexists(p)), None)
    if blocking is not None and not blocking.is_dir():
        return f"{display_path(blocking, Path.cwd())} is not a folder"
    try:
        path.absolute().parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot make its folder ({exc.strerror or exc})"
    return None


def run_fixers(
    dataset: Dataset, rules: list[Rule], args: argparse.Namespace, progress: bool
) -> FixResult:
    from poselint.fix import fix_dataset

    return fix_dataset(dataset, rules, apply=args.fix and not args.diff, progress=progress)


def rules_table() -> str:
    """Every rule as one markdown table row: what `poselint rules` prints."""
    from poselint.rules import REGISTRY

    lines = [
        "| code | name | what it catches | why it matters | fixable |",
        "|---|---|---|---|---|",
    ]
    for r in REGISTRY:
        name = f"`{r.name}`" + (" (opt-in)" if r.opt_in else "")
        severity = "" if r.severity == "error" else " (warning)"
        fixable = "yes" if r.fixable else "no"
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
    from poselint.rules import REGISTRY

    def anchor(code: str, name: str) -> str:  # GitHub's heading anchor of "### CODE `name`"
        return f"#{code.lower()}-{name}"

    lines = [
        "| code | name | severity | runs | `--fix` |",
        "|---|---|---|---|---|",
    ]
    for r in REGISTRY:
        runs = "opt-in" if r.opt_in else "default"
        fix = "yes" if r.fixable else ""
        link = f"[{r.code}]({anchor(r.code, r.name)})"
        lines.append(f"| {link} | `{r.name}` | {r.severity} | {runs} | {fix} |")
    for r in REGISTRY:
        lines += ["", *rule_section(r)]
    return "\n".join(lines) + "\n"


def rule_section(r: Rule) -> list[str]:
    """One rule's section of the reference: what `poselint rule CODE` prints, too."""
    source = r.check.__module__.replace(".", "/") + ".py"
    facts = [
        r.severity,
        f"opt-in: runs only with `--select {r.code}` (or `ALL`)" if r.opt_in else "default",
        "`--fix` repairs it ([how](cvat-round-trip.md#what---fix-changes))"
        if r.fixable
        else "no automatic fix",
        _SCOPES[r.scope],
        f"[`hooks/{source}`](../hooks/{source})",
    ]
    return [
        f"### {r.code} `{r.name}`",
        "",
        " · ".join(facts),
        "",
        f"**What it catches.** {r.what}",
        "",
        f"**Why it matters.** {r.why}",
    ]


def rules_json() -> str:
    """The registry for tools: what `poselint rules --format json` prints."""
    import json

    from poselint.rules import REGISTRY

    fields = ("code", "name", "severity", "opt_in", "fixable", "what", "why")
    rows = [{field: getattr(r, field) for field in fields} for r in REGISTRY]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def run_rules(args: argparse.Namespace) -> int:
    if args.output_format == "json":
        if args.reference:
            print("poselint: error: --reference is markdown; drop --format json", file=sys.stderr)
            return EXIT_CANNOT_RUN
        sys.stdout.write(rules_json())
    else:
        sys.stdout.write(rules_reference() if args.reference else rules_table())
    return EXIT_CLEAN


def run_rule(args: argparse.Namespace) -> int:
    from poselint.rules import REGISTRY

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # the subcommand's usage, not the top-level one, says what it takes
            _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:  # --help/--version exit 0; bad options exit 2
        return int(exc.code or 0)
    from poselint import console

    if getattr(args, "quiet", False):
        console.start(console.QUIET)
    else:
        console.start(console.VERBOSE if getattr(args, "verbose", False) else console.NORMAL)
    try:
        if args.command == "rules":
            return run_rules(args)
        if args.command == "rule":
            return run_rule(args)
        if args.command == "ingest":
            from poselint.commands.ingest import run_ingest

            return run_ingest(args, _load_config(args))
        if args.command == "diff":
            with gc_paused():
                return run_diff(args)
        if args.command == "pack":
            from poselint.commands.pack import run_pack

            return run_pack(args, _load_config(args))
        if args.command == "skeleton":
            from poselint.commands.skeleton import run_skeleton

            return run_skeleton(args, _load_config(args))
        # Parsed documents hold millions of containers and no cycles: a cyclic-GC pass over
        # them costs seconds at COCO-2017 scale and frees nothing.
        with gc_paused():
            return run_check(args)
    except (ConfigError, DiscoveryError) as exc:
        print(f"poselint: error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except BrokenPipeError:  # `poselint check | head`: the reader left, nothing to say
        return EXIT_VIOLATIONS
    except OSError as exc:  # e.g. --output into a missing or read-only folder
        print(f"poselint: error: {exc}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last line of defence: a message and exit 2, never a traceback
        print(
            f"poselint: internal error ({type(exc).__name__}: {exc}); please report it",
            file=sys.stderr,
        )
        return EXIT_CANNOT_RUN


def entry() -> NoReturn:
    """The console script: main(), then exit without tearing down the parsed documents.

    Freeing tens of millions of objects one by one costs ~0.7 s at COCO-2017 scale for
    nothing; the kernel reclaims the memory at once. Every file poselint writes is closed and
    fsynced before main() returns, so only the standard streams need flushing. The cyclic GC
    stays off for the whole process: re-enabling it would first sweep every container parsed."""
    gc.disable()
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
