"""What `--diff` shows of a rewrite: a unified diff of the JSON, bounded to the changed lines.

A COCO file is often one line: a diff of it would be the whole file twice. Such a file is
diffed pretty-printed (said above the diff; `--fix` keeps the file's own layout). Every fixer
edits values, never the structure, so old and new have the same lines but the changed ones:
those are found in one pass, and only they and their context become text. With more than
MAX_CHANGED changed lines, the rest is counted, not shown (a raw export at COCO scale has
millions of stale points). Should the line counts ever differ, difflib aligns them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

CONTEXT = 3  # lines around each change, as `diff -u`
MAX_CHANGED = 100  # changed lines shown per file
LONG_LINE = 1000  # bytes: a file with a longer line is diffed pretty-printed


@dataclass
class FileDiff:
    path: Path  # the file as it is
    new_path: Path  # its name after the fix (renamed with its split)
    lines: list[str]  # the hunks: "@@ ... @@" lines, then " ", "-", "+" lines
    changed: int = 0  # changed lines, old side (shown or not)
    hidden: int = 0  # of which not shown (MAX_CHANGED)
    pretty: bool = False  # diffed pretty-printed: the file is compact
    error: str | None = None  # why no diff can be shown


def file_diff(path: Path, new_path: Path, old: bytes, new: bytes) -> FileDiff:
    """The diff of a rewrite's old and new bytes (a leading BOM is not a line change)."""
    old = old.removeprefix(b"\xef\xbb\xbf")
    old_lines, new_lines = old.splitlines(), new.splitlines()  # JSON strings hold no CR/LF
    pretty = max(map(len, old_lines), default=0) > LONG_LINE
    if pretty:
        try:
            old_lines = _pretty(old)
            new_lines = _pretty(new)
        except (orjson.JSONDecodeError, orjson.JSONEncodeError) as exc:
            return FileDiff(path, new_path, [], pretty=True, error=f"cannot pretty-print: {exc}")
    diff = FileDiff(path, new_path, [], pretty=pretty)
    if len(old_lines) == len(new_lines):
        changed = [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
        diff.changed, diff.hidden = len(changed), max(0, len(changed) - MAX_CHANGED)
        # the context after the last shown change stops before the first hidden one
        stop = changed[MAX_CHANGED] if diff.hidden else len(old_lines)
        hunks = list(_aligned_hunks(old_lines, new_lines, changed[:MAX_CHANGED], stop))
    else:
        hunks = []
        for hunk in _difflib_hunks(old_lines, new_lines):
            n = _changed(hunk[2])
            diff.changed += n
            if diff.changed > MAX_CHANGED:  # whole hunks only: their headers stay true
                diff.hidden += n
            else:
                hunks.append(hunk)
    for (a, a_end), (b, b_end), ops in hunks:
        diff.lines.append(f"@@ -{_range(a, a_end)} +{_range(b, b_end)} @@")
        diff.lines += [op + line.decode("utf-8", "replace") for op, line in ops]
    return diff


def _changed(ops: list[tuple[str, bytes]]) -> int:
    """Changed lines of a hunk, counted on the old side (the new side for pure additions)."""
    return sum(op == "-" for op, _ in ops) or sum(op == "+" for op, _ in ops)


def _pretty(data: bytes) -> list[bytes]:
    return orjson.dumps(orjson.loads(data), option=orjson.OPT_INDENT_2).splitlines()


Hunk = tuple[tuple[int, int], tuple[int, int], list[tuple[str, bytes]]]


def _aligned_hunks(
    old: list[bytes], new: list[bytes], changed: list[int], stop: int
) -> Iterator[Hunk]:
    """Hunks around the `changed` lines (before line `stop`) of two line lists of equal
    length: line i of one is line i of the other."""
    listed = set(changed)
    for group in _groups(changed):
        start = max(0, group[0] - CONTEXT)
        end = min(stop, group[-1] + 1 + CONTEXT)
        ops: list[tuple[str, bytes]] = []
        i = start
        while i < end:
            if i not in listed:
                ops.append((" ", old[i]))
                i += 1
                continue
            j = i
            while j < end and j in listed:
                j += 1
            ops += [("-", line) for line in old[i:j]] + [("+", line) for line in new[i:j]]
            i = j
        yield (start, end), (start, end), ops


def _groups(changed: list[int]) -> Iterator[list[int]]:
    """Changed line numbers grouped into hunks: two changes share one when their contexts
    touch, as `diff -u` joins them."""
    group: list[int] = []
    for i in changed:
        if group and i - group[-1] > 2 * CONTEXT:
            yield group
            group = []
        group.append(i)
    if group:
        yield group


def _difflib_hunks(old: list[bytes], new: list[bytes]) -> Iterator[Hunk]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for opcodes in matcher.get_grouped_opcodes(CONTEXT):
        ops: list[tuple[str, bytes]] = []
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal":
                ops += [(" ", line) for line in old[i1:i2]]
                continue
            ops += [("-", line) for line in old[i1:i2]] + [("+", line) for line in new[j1:j2]]
        first, last = opcodes[0], opcodes[-1]
        yield (first[1], last[2]), (first[3], last[4]), ops


def _range(start: int, end: int) -> str:
    """A hunk's range as `diff -u` writes it: 1-based start, then the length if not 1."""
    length = end - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"
