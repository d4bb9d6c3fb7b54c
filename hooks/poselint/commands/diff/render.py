"""The diff as text (one line per change), json (every change) and github (a pull-request
comment in markdown: a table, the details folded)."""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

import orjson

from poselint.commands.diff.model import Person, PointChange, RootDiff, SplitDiff
from poselint.diagnostics import display_path, displayable
from poselint.report.escape import printable
from poselint.report.json import as_json_records
from poselint.report.writer import write_report


def _num(v: float) -> str:
    return f"{v:g}"


def _person(p: Person) -> dict[str, Any]:
    return {"image": p.image, "id": p.id}


def _change(c: PointChange) -> dict[str, Any]:
    record: dict[str, Any] = {"image": c.image, "id": c.id_b}
    if c.id_a != c.id_b:
        record["id_before"] = c.id_a
    record.update(
        keypoint=c.keypoint, name=c.name, before=list(c.before), after=list(c.after),
        distance=round(c.distance, 3),
    )  # fmt: skip
    return record


def to_json(header: dict[str, Any], roots: list[RootDiff], cwd: Path) -> str:

    data = dict(header)
    data["roots"] = [
        {
            "root": display_path(r.root, cwd),
            "missing": r.missing,
            "splits": [
                {
                    "split": displayable(s.split),
                    "images_added": s.images_added,
                    "images_removed": s.images_removed,
                    "people_added": [_person(p) for p in s.people_added],
                    "people_removed": [_person(p) for p in s.people_removed],
                    "people_renumbered": s.renumbered,
                    "keypoints_moved": [_change(c) for c in s.moved],
                    "visibility_changed": [_change(c) for c in s.flags],
                    "categories": s.categories,
                }
                for s in r.splits
            ],
            "findings_introduced": as_json_records(r.introduced, cwd),
            "findings_fixed": as_json_records(r.fixed, cwd),
        }
        for r in roots
    ]
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"


def _who(c: PointChange) -> str:
    was = f" (was {c.id_a!r})" if c.id_a != c.id_b else ""
    name = f" ({c.name})" if c.name else ""
    return f"{c.image} person {c.id_b!r}{was} keypoint {c.keypoint}{name}"


def _xy(t: tuple[float, float, float]) -> str:
    return f"({_num(t[0])}, {_num(t[1])})"


def change_lines(s: SplitDiff) -> list[str]:
    """One line per change, in a stable order."""
    out = [f"+ image {n}" for n in s.images_added]
    out += [f"- image {n}" for n in s.images_removed]
    out += [f"+ {p.label()}" for p in s.people_added]
    out += [f"- {p.label()}" for p in s.people_removed]
    out += [
        f"~ {_who(c)} moved {c.distance:.1f} px: {_xy(c.before)} -> {_xy(c.after)}" for c in s.moved
    ]
    out += [f"~ {_who(c)} visibility {_num(c.before[2])} -> {_num(c.after[2])}" for c in s.flags]
    out += [f"~ {line}" for line in s.categories]
    return out


def summary(s: SplitDiff) -> str:
    def n(count: int, what: str, plural: str | None = None) -> str:
        return f"{count} {what if count == 1 else plural or what + 's'}"

    parts = [
        f"images +{len(s.images_added)} -{len(s.images_removed)}",
        f"people +{len(s.people_added)} -{len(s.people_removed)}",
        n(len(s.moved), "keypoint") + " moved",
        n(len(s.flags), "visibility flag") + " changed",
    ]
    if s.renumbered:
        parts.append(n(s.renumbered, "person", "people") + " matched by keypoints (id changed)")
    if s.categories:
        parts.append(n(len(s.categories), "category change"))
    return ", ".join(parts)


def capped_lines(lines: list[str], limit: int) -> list[str]:
    if limit and len(lines) > limit:
        return [*lines[:limit], f"... and {len(lines) - limit} more (--format json lists all)"]
    return lines


def to_text(header: dict[str, Any], roots: list[RootDiff], cwd: Path, limit: int) -> str:
    out = io.StringIO()

    def line(text: str) -> None:  # each line escaped: it names the dataset's files and labels
        out.write(printable(text) + "\n")

    line(f"poselint diff {header['from']} -> {header['to']}")
    for r in roots:
        line(display_path(r.root, cwd))
        for side, why in r.missing.items():
            line(f"  not there {side}: {why}")
        for s in r.splits:
            if not s:
                line(f"  {displayable(s.split)}: no label changes")
                continue
            line(f"  {displayable(s.split)}: {summary(s)}")
            for change in capped_lines(change_lines(s), limit):
                line(f"    {change}")
        for title, found in (("introduced", r.introduced), ("fixed", r.fixed)):
            if found:
                line(f"  findings {title} ({len(found)}):")
                inner = io.StringIO()
                write_report(found, "text", inner, cwd=cwd, limit=limit, quiet=True)
                for report_line in inner.getvalue().splitlines():  # escaped by the report
                    line(f"    {report_line}")
    return out.getvalue()


def _md(text: str) -> str:
    """Plain text in a markdown table cell or list item: no markup, no HTML, no control
    character (escaped as in text output: a name's `\\x1b[2J` reaches no terminal)."""
    return html.escape(printable(text)).replace("|", "\\|").replace("`", "'")


def to_markdown(header: dict[str, Any], roots: list[RootDiff], cwd: Path, limit: int) -> str:
    """A pull-request comment: a table per root and split, the details folded below."""
    out = io.StringIO()
    to = header["to"]
    out.write(f"### poselint diff: {_md(header['from'])} → {_md(to)}\n\n")
    out.write(
        "| dataset | split | images | people | keypoints moved | visibility changed "
        "| findings |\n|---|---|---|---|---|---|---|\n"
    )
    for r in roots:
        name = _md(display_path(r.root, cwd))
        findings = f"+{len(r.introduced)} -{len(r.fixed)}"
        for s in r.splits or [SplitDiff("—")]:
            split = _md(displayable(s.split))
            out.write(
                f"| {name} | {split} | +{len(s.images_added)} -{len(s.images_removed)} "
                f"| +{len(s.people_added)} -{len(s.people_removed)} | {len(s.moved)} "
                f"| {len(s.flags)} | {findings} |\n"
            )
    for r in roots:
        name = _md(display_path(r.root, cwd))
        for side, why in r.missing.items():
            out.write(f"\n**{name}** is not there {side}: {_md(why)}\n")
        for s in r.splits:
            if not s:
                continue
            split = _md(displayable(s.split))
            out.write(f"\n<details><summary>{name} {split}: {_md(summary(s))}</summary>\n\n")
            out.writelines(f"- {_md(line)}\n" for line in capped_lines(change_lines(s), limit))
            out.write("\n</details>\n")
        for title, found in (("introduced", r.introduced), ("fixed", r.fixed)):
            if not found:
                continue
            out.write(f"\n<details><summary>{name}: {len(found)} findings {title}</summary>\n\n")
            rows = [
                f"{d.code} {d.display_path(cwd)}{':' + d.pointer if d.pointer else ''} {d.message}"
                for d in found
            ]
            out.writelines(f"- {_md(row)}\n" for row in capped_lines(rows, limit))
            out.write("\n</details>\n")
    return out.getvalue()
