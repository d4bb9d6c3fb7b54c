"""`poselint ingest EXPORT [DEST]`: a CVAT "COCO Keypoints 1.0" export -> a normalized root.

EXPORT is the .zip CVAT downloads or its extracted folder; the dataset may also sit one folder
down (a zip holding `task_1/images/...`). Steps, all in a hidden temp sibling of DEST:
1. extract (zip) or copy (folder), refusing zip-slip, absolute paths, symlinks and absurd
   sizes (unpack.py);
2. normalize: name CVAT's 'default' subset (--default-split), then run the fixers, the unsafe
   ones too (canonical split names, outside points zeroed unless configured otherwise);
3. rename into place. With --force over a non-empty DEST, the old content is renamed aside
   first and deleted only after the new one is in place, so it is never lost.
Then the checks run and are reported (paths as in DEST).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from poselint.commands.unpack import (
    DEFAULT_MAX_BYTES,
    IngestError,
    copy_folder,
    extract_zip,
    find_root,
)
from poselint.config import Config, load_config
from poselint.diagnostics import (
    EXIT_CANNOT_RUN,
    EXIT_CLEAN,
    EXIT_VIOLATIONS,
    Diagnostic,
    display_path,
)
from poselint.engine import select_rules
from poselint.fix import FixResult, fix_dataset, record_command, tracked_by_dvc
from poselint.fix.output import print_fix_lines
from poselint.fsutil import durable_rename, inside
from poselint.load.dataset import Dataset
from poselint.load.layout import ANNOTATIONS, IMAGES
from poselint.load.splitnames import ANNOTATION_FILE, DEFAULT_SUBSET, annotation_file_name
from poselint.report.escape import printable
from poselint.report.writer import write_report

__all__ = ["IngestError", "IngestResult", "ingest", "run"]


@dataclass
class IngestResult:
    dest: Path
    files: int = 0
    bytes: int = 0
    nested: str | None = None  # the top folder the dataset sat in, if any
    fix: FixResult | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def name_default_subset(root: Path, split: str) -> list[str]:
    """CVAT's 'default' subset -> a split: person_keypoints_default.json, and its images
    (images/default/, or straight under images/ in a single-subset export).

    This is also the layout `poselint pack` writes for one split, so a pack/ingest round trip
    of one split gets its name back. An export without a default subset is refused: moving a
    train/val export's images/ into images/<split>/ would file both splits under one name.
    """
    annotations, images = root / ANNOTATIONS, root / IMAGES
    default_file = annotations / annotation_file_name(DEFAULT_SUBSET)
    target_file = annotations / annotation_file_name(split)
    default_images = images / DEFAULT_SUBSET
    option = f"--default-split {split}"
    if not default_file.is_file():
        raise IngestError(
            f"{option}: the export has no '{DEFAULT_SUBSET}' subset to name (no "
            f"annotations/{default_file.name}): ingest it without --default-split"
        )
    if target_file.exists():
        raise IngestError(f"the export has both {default_file.name} and {target_file.name}")
    if default_images.is_dir() and (images / split).exists():
        raise IngestError(f"the export has both images/{DEFAULT_SUBSET} and images/{split}")
    others = sorted(
        n for n in os.listdir(annotations) if ANNOTATION_FILE.match(n) and n != default_file.name
    )
    if others and not default_images.is_dir():
        raise IngestError(
            f"{option}: the export holds other subsets too ({', '.join(others)}), so the "
            f"images straight under images/ are not all the '{DEFAULT_SUBSET}' subset's"
        )
    # every precondition checked: now the renames
    done = [f"renamed annotations/{default_file.name} -> annotations/{target_file.name}"]
    os.rename(default_file, target_file)
    if default_images.is_dir():
        os.rename(default_images, images / split)
        done.append(f"renamed images/{DEFAULT_SUBSET} -> images/{split}")
    elif images.is_dir() and not (images / split).exists():
        flat = sorted(os.listdir(images))
        if flat:  # images straight under images/, as CVAT's single-subset import wants
            (images / split).mkdir()
            for name in flat:
                os.rename(images / name, images / split / name)
            done.append(f"moved the {len(flat)} entries of images/ into images/{split}/")
    return done


# --- putting it in place --------------------------------------------------------------


def _is_empty_dir(path: Path) -> bool:
    try:
        with os.scandir(path) as it:
            return next(it, None) is None
    except OSError:
        return False


def check_dest(dest: Path, export: Path, force: bool) -> None:
    blocking = next((p for p in dest.parents if p.exists() or p.is_symlink()), None)
    if blocking is not None and not blocking.is_dir():
        raise IngestError(f"{blocking} is not a folder: DEST {dest} cannot be made there")
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir() or dest.is_symlink():
            raise IngestError(f"{dest} exists and is not a folder")
        if not force and not _is_empty_dir(dest):
            raise IngestError(
                f"{dest} is not empty: give an empty or new DEST, or --force to replace it "
                "(the old content is removed only after the new one is in place)"
            )
    real_export, real_dest = export.resolve(), dest.resolve()
    if inside(str(real_dest), str(real_export)) or inside(str(real_export), str(real_dest)):
        raise IngestError(f"{dest} and the export {export} overlap: choose another DEST")
    if inside(str(Path.cwd().resolve()), str(real_dest)):  # even with --force: never our cwd
        raise IngestError(f"{dest} is or holds the current folder: choose another DEST")


# Ctrl-C, `kill` and a closed terminal: held while DEST is aside, delivered once the swap is over.
_HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    # Python handlers, not a signal mask: the mask is per thread, and a worker thread (the
    # image header reads) would take the signal for the whole process.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    old = {s: signal.signal(s, lambda n, _f: caught.append(n)) for s in _HELD_SIGNALS}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        for n in dict.fromkeys(caught):
            signal.raise_signal(n)


def put_in_place(root: Path, dest: Path, staging: Path) -> None:
    """Rename the finished dataset to DEST; an old DEST goes aside into staging first.

    Between the two renames DEST does not exist, so no signal may end the process there
    (only SIGKILL can: the old content then waits in staging/previous)."""
    with _signals_held():
        previous = None
        if dest.is_dir() and not dest.is_symlink():
            if _is_empty_dir(dest):
                dest.rmdir()
            else:
                previous = staging / "previous"  # deleted with staging, once the new one is in
                durable_rename(dest, previous)
        try:
            durable_rename(root, dest)
        except BaseException:
            if previous is not None and not os.path.lexists(dest):
                durable_rename(previous, dest)  # put the old content back before giving up
            raise


def ingest(
    export: Path,
    dest: Path,
    config: Config,
    *,
    force: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    default_split: str | None = None,
) -> IngestResult:
    rules = select_rules(config)
    if not export.exists():
        raise IngestError(f"{export}: no such file or folder")
    is_zip = export.is_file()
    if is_zip and not zipfile.is_zipfile(export):
        raise IngestError(f"{export}: not a zip file (give a .zip or an extracted folder)")
    if default_split is not None and default_split not in config.splits:
        raise IngestError(f"--default-split {default_split}: not one of {config.splits}")
    dest = dest.absolute()
    check_dest(dest, export, force)
    result = IngestResult(dest)
    # A refusal leaves no trace: the work happens in a temp folder in DEST's nearest existing
    # ancestor (the same file system DEST will be on), and DEST's missing parents are made
    # only once the dataset is ready to move into place.
    existing = next(p for p in dest.parents if p.is_dir())
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.poselint-ingest-", dir=existing))
    try:
        extracted = staging / "export"
        extracted.mkdir()
        unpack = extract_zip if is_zip else copy_folder
        result.files, result.bytes = unpack(export, extracted, max_bytes)
        root, result.nested = find_root(extracted)
        if default_split is not None:
            result.notes += name_default_subset(root, default_split)
        dataset = Dataset(root, config)
        # the unsafe fixes too: PL601 zeroes outside points, whose drawn positions the
        # export itself still holds
        result.fix = fix_dataset(dataset, rules, apply=True, unsafe_fixes=True)
        made = _missing_parents(dest)
        try:
            for folder in reversed(made):
                folder.mkdir()
            put_in_place(root, dest, staging)
        except OSError:
            for folder in made:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
        result.diagnostics = [_moved(d, root, dest) for d in result.fix.diagnostics]
        tracked = tracked_by_dvc(dest)
        if tracked is not None:
            result.fix.dvc_out, result.fix.dvc_record = tracked.path, record_command(tracked)
    finally:
        previous = staging / "previous"
        if previous.exists() and not os.path.lexists(dest):
            # The old DEST could not be put back: never delete the only copy.
            print(f"poselint: {dest} is missing: its old content is in {previous}", file=sys.stderr)
        else:
            shutil.rmtree(staging, ignore_errors=True)
    return result


def _missing_parents(dest: Path) -> list[Path]:
    """DEST's parent folders that do not exist yet, deepest first."""
    missing = []
    for folder in dest.parents:
        if folder.is_dir():
            break
        missing.append(folder)
    return missing


def _moved(d: Diagnostic, old: Path, new: Path) -> Diagnostic:
    """The same diagnostic, about the file in DEST (the checks ran before the final rename)."""
    try:
        return replace(d, path=new / d.path.relative_to(old))
    except ValueError:
        return d


# --- command line ---------------------------------------------------------------------


def default_dest(export: Path, config: Config) -> Path:
    if len(config.datasets) == 1:
        return config.datasets[0]
    name = export.name[: -len(".zip")] if export.name.lower().endswith(".zip") else export.name
    # `..zip` gives `.` (the cwd itself), `...zip` `..`: neither is a new folder next to us.
    if name.strip() in ("", ".", "..") or "/" in name or "\\" in name:
        raise IngestError(f"{export}: no folder name can be made from it: give DEST")
    return Path.cwd() / name


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.no_image_size:
        config = replace(config, image_size=False)
    cwd = Path.cwd()  # before ingest() runs: shown paths are relative to it
    try:
        dest = args.dest if args.dest is not None else default_dest(args.export, config)
        result = ingest(
            args.export,
            dest,
            config,
            force=args.force,
            max_bytes=DEFAULT_MAX_BYTES if args.max_bytes is None else args.max_bytes,
            default_split=args.default_split,
        )
    except IngestError as exc:
        print(printable(f"poselint: ingest refused: {exc}"), file=sys.stderr)  # names from the zip
        return EXIT_CANNOT_RUN
    out = sys.stdout if args.output_format == "text" else sys.stderr
    where = f" (from its folder {result.nested}/)" if result.nested else ""
    if not args.quiet:
        line = (  # the folder name comes from the export: one line, whatever it holds
            f"ingested {args.export}{where}: {result.files} files, {result.bytes:,} bytes "
            f"-> {display_path(result.dest, cwd)}"
        )
        out.write(printable(line) + "\n")
    for note in result.notes:
        out.write(note + "\n")
    if result.fix is not None:
        # Paths of the changes are relative to the dataset root (they happened before the move).
        print_fix_lines(result.fix, out, result.fix.root)
    if any(d.code == "PL202" for d in result.diagnostics):
        out.write(
            f"note: the export holds CVAT's '{DEFAULT_SUBSET}' subset: ingest it again with "
            f"--default-split {'|'.join(config.splits)} to name it\n"
        )
    write_report(
        result.diagnostics,
        args.output_format,
        sys.stdout,
        cwd=cwd,
        limit=config.max_per_rule,
        quiet=args.quiet,
    )
    if result.fix is not None and result.fix.dvc_out is not None:
        tracked = display_path(result.fix.dvc_out, cwd)
        record = result.fix.dvc_record
        out.write(f"{tracked} is tracked by DVC: run `{record} {tracked}` to record it\n")
    errors = any(d.severity == "error" for d in result.diagnostics)
    return EXIT_VIOLATIONS if errors else EXIT_CLEAN
