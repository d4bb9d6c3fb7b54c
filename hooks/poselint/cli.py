"""poselint's console script: parse the options (commands/options.py), dispatch to the
subcommand's module in poselint.commands, imported only when that subcommand runs
(start-up time matters in a hook), and turn what escapes it into an exit code."""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from poselint import console
from poselint.commands.options import build_parser, subparser
from poselint.config import ConfigError
from poselint.diagnostics import EXIT_CANNOT_RUN, EXIT_VIOLATIONS
from poselint.discovery import DiscoveryError
from poselint.report.escape import printable


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # the subcommand's usage, not the top-level one, says what it takes
            subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:  # --help/--version exit 0; bad options exit 2
        return int(exc.code or 0)
    if getattr(args, "quiet", False):
        console.start(console.QUIET)
    else:
        console.start(console.VERBOSE if getattr(args, "verbose", False) else console.NORMAL)
    module, function = COMMANDS[args.command]
    try:
        run = getattr(importlib.import_module(f"poselint.commands.{module}"), function)
        code: int = run(args)
        return code
    except (ConfigError, DiscoveryError) as exc:
        console.error(str(exc))
        return EXIT_CANNOT_RUN
    except BrokenPipeError:  # `poselint check | head`: the reader left, nothing to say
        return EXIT_VIOLATIONS
    except OSError as exc:  # e.g. --output into a missing or read-only folder
        console.error(str(exc))
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last line of defence: a message and exit 2, never a traceback
        print(
            printable(f"poselint: internal error ({type(exc).__name__}: {exc}); please report it"),
            file=sys.stderr,
        )
        return EXIT_CANNOT_RUN


# subcommand -> (module in poselint.commands, its function taking the parsed options)
COMMANDS = {
    "check": ("check", "run"),
    "diff": ("diff", "run"),
    "rules": ("rules", "run_table"),
    "rule": ("rules", "run_one"),
    "ingest": ("ingest", "run"),
    "pack": ("pack", "run"),
    "skeleton": ("skeleton", "run"),
    "clean": ("clean", "run"),
}


def entry() -> NoReturn:
    """The console script: main(), then exit without tearing down the parsed documents.

    Freeing tens of millions of objects one by one takes a noticeable part of the run at
    COCO-2017 scale, for nothing: the kernel reclaims the memory at once. Every file poselint
    writes is closed and fsynced before main() returns, so only the standard streams need
    flushing. The cyclic GC stays off for the whole process: re-enabling it would first sweep
    every container parsed."""
    gc.disable()
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
