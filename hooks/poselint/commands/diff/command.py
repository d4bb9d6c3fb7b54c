"""`poselint diff REV_A [REV_B] [PATH...]`: open both versions of each root, compare them,
print (or write) the changes in the chosen format."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from poselint import console
from poselint.commands.diff.compare import diff_root
from poselint.commands.diff.model import MAX_DRAWN, RootDiff
from poselint.commands.diff.render import to_json, to_markdown, to_text
from poselint.config import Config, load_config
from poselint.diagnostics import EXIT_CANNOT_RUN
from poselint.discovery import targets_of
from poselint.engine import select_rules
from poselint.fsutil import atomic_write_bytes
from poselint.load.dataset import Dataset
from poselint.load.document import gc_paused
from poselint.sources.base import DataSource
from poselint.sources.dvc.remote import open_remote
from poselint.sources.dvc.session import DvcSession
from poselint.sources.errors import DvcError
from poselint.sources.git import GitError, git_repo, open_at

# Findings whose answer depends on where the data is read from, not on the data: the
# workspace-vs-.dvc comparison (PL108) and the image md5s (PL413) a git tree does not have.
SOURCE_DEPENDENT = ("PL108", "PL413")


def run(args: argparse.Namespace) -> int:
    """`poselint diff REV_A [REV_B] [PATH...]`."""
    if args.output_format == "html" and args.output is None:
        print("poselint: error: --format html needs --output FILE", file=sys.stderr)
        return EXIT_CANNOT_RUN
    config = load_config(args.config)
    try:
        with gc_paused(), DvcSession() as dvc:
            return _diff(args, config, dvc)
    except (GitError, DvcError) as exc:
        console.error(str(exc))
        return EXIT_CANNOT_RUN


def _diff(args: argparse.Namespace, config: Config, dvc: DvcSession) -> int:
    git = git_repo(Path.cwd())
    commit_a = git.commit(args.rev_a)
    rest = list(args.rest)
    commit_b = None
    rev_b = "working tree"
    if rest and rest[0] != "--" and not Path(rest[0]).exists():
        commit_b = git.commit(rest[0])
        rev_b = rest.pop(0)
    paths = [Path(p) for p in rest if p != "--"]
    # the same checks on both sides: image headers are not in a git tree or DVC's manifest
    config = replace(config, image_size=False, max_findings_per_file=0)
    rules = [r for r in select_rules(config) if r.code not in SOURCE_DEPENDENT]
    roots: list[RootDiff] = []
    sides: list[tuple[Dataset, Dataset]] = []  # to read the images drawn (--format html)
    fmt = args.output_format
    draw = MAX_DRAWN if fmt == "html" else 0
    for target in targets_of(paths, config.datasets):
        before = Dataset(
            target.root, config, dvc_file=target.dvc_file,
            source=open_at(dvc, target.root, target.dvc_file, git, commit_a),
        )  # fmt: skip
        source: DataSource | None = None  # the working tree
        if commit_b is not None:
            source = open_at(dvc, target.root, target.dvc_file, git, commit_b)
        elif target.dvc_file is not None and not target.root.is_dir():
            source = open_remote(dvc, target.root, target.dvc_file)  # not pulled
        after = Dataset(target.root, config, dvc_file=target.dvc_file, source=source)
        roots.append(diff_root(target, before, after, rules, args.threshold, draw))
        draw -= sum(len(s.drawn) for s in roots[-1].splits)
        sides.append((before, after))
    header = {
        "from": args.rev_a,
        "from_commit": commit_a,
        "to": rev_b,
        "to_commit": commit_b,
        "threshold": args.threshold,
    }
    cwd = Path.cwd()
    if fmt == "html":
        # the drawing (Pillow, jinja2) only for the html page
        from poselint.commands.diff.page import render_diff_html

        text = render_diff_html(header, roots, sides, cwd, args.limit)
    else:
        text = (
            to_json(header, roots, cwd) if fmt == "json"
            else to_markdown(header, roots, cwd, args.limit) if fmt == "github"
            else to_text(header, roots, cwd, args.limit)
        )  # fmt: skip
    if args.output is not None:
        atomic_write_bytes(args.output, text.encode())
    else:
        sys.stdout.write(text)
    return 0
