"""`poselint clean`: remove the cache folder (cache.py), as `ruff clean` does."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path

from poselint.cache import folder_for, is_cache_folder, remove
from poselint.diagnostics import EXIT_CANNOT_RUN, EXIT_CLEAN, display_path
from poselint.report.escape import printable


def run(args: argparse.Namespace) -> int:
    folder = folder_for(Path.cwd())
    shown = display_path(folder, Path.cwd())
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        print(f"poselint: no cache at {shown}", file=sys.stderr)
        return EXIT_CLEAN
    # A link or a folder poselint did not make is not removed, nor followed.
    if not stat.S_ISDIR(st.st_mode) or not is_cache_folder(folder):
        print(
            f"poselint: error: {shown} is not a poselint cache (no CACHEDIR.TAG written by "
            "poselint): left as it is",
            file=sys.stderr,
        )
        return EXIT_CANNOT_RUN
    left = remove(folder)  # only the files poselint wrote; links removed, never followed
    if left:
        print(
            printable(
                f"poselint: error: {shown} holds files poselint did not write "
                f"({', '.join(left)}): removed its cache entries, left the rest"
            ),
            file=sys.stderr,
        )
        return EXIT_CANNOT_RUN
    print(f"poselint: removed the cache {shown}", file=sys.stderr)
    return EXIT_CLEAN
