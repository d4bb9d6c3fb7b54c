"""`poselint check`: lint (or fix) dataset roots and report what is found."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poselint import console
from poselint.config import Config, find_config, load_config
from poselint.diagnostics import (
    EXIT_CANNOT_RUN,
    EXIT_CLEAN,
    EXIT_VIOLATIONS,
    Diagnostic,
    display_path,
)
from poselint.discovery import DiscoveryError, Target, targets_of
from poselint.engine import lint_dataset, select_rules
from poselint.fsutil import atomic_write_bytes, inside
from poselint.load.dataset import Dataset
from poselint.load.document import gc_paused
from poselint.load.layout import ANNOTATIONS
from poselint.report.baseline import BaselineRun
from poselint.report.common import located
from poselint.report.escape import printable
from poselint.report.writer import write_report
from poselint.rules import Rule
from poselint.sources.dvc.remote import open_remote, remote_manifests
from poselint.sources.dvc.session import DvcSession
from poselint.sources.errors import DvcError
from poselint.sources.workspace import WorkspaceSource

# Without --jobs, roots are linted in processes only when their annotation files are big
# enough for the work to outweigh starting the processes.
PARALLEL_MIN_BYTES = 64 << 20

if TYPE_CHECKING:
    from poselint.cache import Cache
    from poselint.fix import FixResult


def _baseline_path(args: argparse.Namespace, config: Config) -> Path | None:
    if getattr(args, "write_baseline", None) is not None:
        return None
    return getattr(args, "baseline", None) or config.baseline


def _root_config(
    args: argparse.Namespace, config: Config, target: Target, baseline: bool = False
) -> Config:
    """--config for every root; else, ruff-style, the nearest configuration at or above the
    root, so a dataset gets the same verdict from any working directory."""
    found = config if args.config is not None else find_config(target.root)
    if args.no_image_size:
        found = replace(found, image_size=False)
    if baseline:  # every finding fingerprinted: no "... and N more" for some
        found = replace(found, max_findings_per_file=0)
    return found


def _open_dataset(
    target: Target, config: Config, dvc: DvcSession, no_pull: bool, exact: bool
) -> Dataset:
    """The root through its source: the workspace, or with --no-pull what DVC records.
    exact: parse documents as written, to rewrite them (--fix, --diff)."""
    if not (no_pull and target.dvc_file is not None):
        source = WorkspaceSource(target.root, target.dvc_file, dvc)
        return Dataset(target.root, config, target.dvc_file, exact=exact, source=source)
    try:
        remote = open_remote(dvc, target.root, target.dvc_file)
    except DvcError as exc:
        raise DiscoveryError(f"--no-pull: {exc}") from exc
    if config.image_size:
        console.note(
            f"--no-pull: {display_path(target.root, Path.cwd())} is read through DVC; image "
            "files are listed from its manifest, not read, so image sizes (headers) are not "
            "checked"
        )
    return Dataset(
        target.root, replace(config, image_size=False), dvc_file=target.dvc_file, source=remote
    )


def run(args: argparse.Namespace) -> int:
    """`poselint check`: discover -> load -> rules -> report (or fix, then report)."""
    # Parsed documents hold millions of containers and no cycles: a cyclic-GC pass over
    # them costs seconds at COCO-2017 scale and frees nothing.
    with gc_paused(), DvcSession() as dvc:  # what the run opens of DVC, closed at its end
        try:
            return _check(args, dvc)
        finally:  # the bar erased before anything else is said, an error included
            console.progress_end()


def _check(args: argparse.Namespace, dvc: DvcSession) -> int:
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
    config = load_config(args.config)  # the cwd's (or --config): which roots, with no PATH
    select_rules(config, args.select, args.ignore)  # a bad selector is exit 2 before any work
    baseline = BaselineRun.start(_baseline_path(args, config), args.write_baseline)
    manifests = remote_manifests(dvc) if args.no_pull else None  # roots inside DVC's record
    targets = targets_of(args.paths, config.datasets, args.staged, manifests)
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
    progress = console.progress_wanted()
    if progress:
        console.progress_begin(len(targets))
    diagnostics: list[Diagnostic] = []
    datasets: list[Dataset] = []  # kept only for the HTML report, which draws from them
    fixes: list[FixResult] = []
    stats: dict[str, object] = {}  # --metrics: counted from the documents the rules parsed
    cache = _open_cache(args, targets)
    found_by_root = _lint_in_processes(args, targets, configs, cache)
    for n, (target, root_config) in enumerate(zip(targets, configs, strict=True)):
        rules = select_rules(root_config, args.select, args.ignore)
        dataset = _open_dataset(target, root_config, dvc, args.no_pull, args.fix or args.diff)
        console.verbose(_checking(dataset, cwd=Path.cwd()))
        linted = dataset
        if args.fix or args.diff:
            fixed = run_fixers(dataset, rules, args, progress)
            fixes.append(fixed)
            diagnostics.extend(fixed.diagnostics)
            # after --fix changed files, the root re-scanned: the report draws them as they are
            linted = fixed.dataset or dataset
            fixed.dataset = None  # `fixes` lives to the end of the run: it holds no parse
        elif found_by_root is not None:  # linted in a worker process, told in this order
            found, cached = found_by_root[n]
            for split in dataset.splits:  # the bar names what the worker checked
                if progress and split.files.annotation_file is not None:
                    console.checking(split.files.annotation_file)
            diagnostics.extend(found)
            _say_cached(cached)
        else:
            diagnostics.extend(lint_dataset(dataset, rules, progress=progress, cache=cache))
            _say_cached(cache.hits if cache is not None else [])
        if baseline is not None:
            baseline.add(linted, diagnostics[baseline.seen :])
        if html:
            datasets.append(linted)
        if args.metrics is not None:
            from poselint.report.metrics import dataset_stats  # --metrics only: not a plain check

            # after --fix, the data as it now is: what the remaining diagnostics describe
            stats[display_path(target.root, Path.cwd())] = dataset_stats(linted)
        console.progress_advance()
    console.progress_end()
    if cache is not None:
        cache.close()
    cwd = Path.cwd()
    fix_out = sys.stdout if args.output_format == "text" else sys.stderr
    for fixed in fixes:  # first: whatever follows, what --fix changed is said
        from poselint.fix.output import print_fix_lines  # --fix only: a check loads no fix code

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
            from poselint.report.metrics import write_stats  # --metrics only: not a plain check

            write_stats(args.metrics, stats)
        if html:
            from poselint.report.html.report import write_html_report  # Pillow, jinja2

            write_html_report(
                args.output, datasets, diagnostics, cwd=cwd, limit=config.max_per_rule
            )
        elif args.output is not None:
            from poselint.report.json import to_json  # --output only: not a plain check

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
        unsafe_fixes=args.unsafe_fixes,
        colour=console.colour_wanted(args.color, sys.stdout),
    )
    _print_dvc_hints(fixes, fix_out, cwd)
    if args.exit_zero:
        return EXIT_CLEAN
    if changed:
        return EXIT_VIOLATIONS
    return EXIT_VIOLATIONS if any(d.severity == "error" for d in diagnostics) else EXIT_CLEAN


def _open_cache(args: argparse.Namespace, targets: list[Target]) -> Cache | None:
    """The run's cache; none with --no-cache, --fix/--diff (they parse exactly, to rewrite)
    or --no-pull (it reads what DVC records, not the workspace files a key stats)."""
    if args.no_cache or args.fix or args.diff or args.no_pull:
        return None
    # only a cached run: --fix (a hook), --no-cache and --no-pull never import the cache
    from poselint.cache import Cache, folder_for

    folder = folder_for(Path.cwd())
    cache = Cache.open(folder, [t.root for t in targets])
    if cache is None:
        console.verbose(f"cache: {display_path(folder, Path.cwd())} cannot be used; not cached")
    return cache


def _say_cached(hits: list[Path]) -> None:
    """-v: the splits whose diagnostics came from the cache (their files unchanged)."""
    for path in hits:
        console.verbose(f"unchanged, from the cache: {display_path(path, Path.cwd())}")
    hits.clear()


def _lint_in_processes(
    args: argparse.Namespace,
    targets: list[Target],
    configs: list[Config],
    cache: Cache | None,
) -> list[tuple[list[Diagnostic], list[Path]]] | None:
    """--jobs: several roots linted at once, one process each (None: lint them here, one
    after the other). Not for --fix/--diff (they rewrite) nor --no-pull (one DVC session).
    Without --jobs: the cores, if the roots' annotation files total PARALLEL_MIN_BYTES.
    The workers draw no progress: the bar (this process's) advances as their roots are told."""
    if len(targets) < 2 or args.fix or args.diff or args.no_pull:
        return None
    if args.jobs is not None:
        jobs = args.jobs
    elif _annotation_bytes(targets) >= PARALLEL_MIN_BYTES:
        jobs = os.cpu_count() or 1
    else:
        return None
    if jobs < 2:
        return None
    # only --jobs over several roots: a hook's run on one root never imports them
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Not a plain fork of this process: it may hold threads (the progress bar's monitor) or
    # DVC's open state, which a forked child inherits half-copied. A fork server starts clean,
    # imports poselint once, and forks the workers from that.
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload([__name__])
        context: multiprocessing.context.BaseContext = server
    else:
        context = multiprocessing.get_context()  # spawn: macOS, Windows
    folder = cache.folder if cache is not None else None
    roots = [t.root for t in targets]
    with ProcessPoolExecutor(min(jobs, len(targets)), mp_context=context) as pool:
        futures = [
            pool.submit(_lint_root, t, c, args.select, args.ignore, folder, roots)
            for t, c in zip(targets, configs, strict=True)
        ]
        return [future.result() for future in futures]


def _annotation_bytes(targets: list[Target]) -> int:
    """The size of the files in each root's annotations/ (stat only, no link followed)."""
    total = 0
    for target in targets:
        try:
            with os.scandir(target.root / ANNOTATIONS) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
        except OSError:  # not there, not a folder: the rules say so
            continue
    return total


def _lint_root(
    target: Target,
    config: Config,
    select: list[str] | None,
    ignore: list[str],
    cache_folder: Path | None,
    roots: list[Path],
) -> tuple[list[Diagnostic], list[Path]]:
    """One root in a worker process: its diagnostics, and the files served from the cache."""
    from poselint.cache import Cache  # as in _open_cache: only a cached run imports it

    cache = Cache.open(cache_folder, roots) if cache_folder is not None else None
    try:
        with gc_paused(), DvcSession() as dvc:
            dataset = _open_dataset(target, config, dvc, no_pull=False, exact=False)
            rules = select_rules(config, select, ignore)
            return lint_dataset(dataset, rules, cache=cache), (
                cache.hits if cache is not None else []
            )
    finally:
        if cache is not None:
            cache.close()


def _checking(dataset: Dataset, cwd: Path) -> str:
    """-v: the root and the splits found in it, each with its annotation file."""
    splits = [
        f"{s.name} ({display_path(s.files.annotation_file, cwd)})"
        if s.files.annotation_file is not None
        else f"{s.name} (no annotation file)"
        for s in dataset.splits
    ]
    source = "" if dataset.source.in_workspace else " (read through DVC)"
    found = ", ".join(splits) if splits else "no splits"
    return printable(f"checking {display_path(dataset.root, cwd)}{source}: {found}")


def _print_dvc_hints(fixes: list[FixResult], out: Any, cwd: Path) -> None:
    for fixed in fixes:
        from poselint.fix.output import print_dvc_hint  # --fix only: a check loads no fix code

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
    from poselint.fix import fix_dataset  # --fix only: a check loads no fix code

    return fix_dataset(
        dataset,
        rules,
        apply=args.fix and not args.diff,
        unsafe_fixes=args.unsafe_fixes,
        progress=progress,
    )
