"""Every relative link in the README and docs/ leads somewhere: the file exists, and a
`#anchor` names a heading of the target, as GitHub derives heading anchors."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [
    REPO / "README.md",
    REPO / "CHANGELOG.md",
    REPO / "example-repo" / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
]
FENCE = re.compile(r"^```.*?^```", flags=re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\]\(([^()\s]+)\)")  # [text](target); no target here holds parentheses


def _prose(text: str) -> str:
    """The text without code: a link inside a code block or span is not a link."""
    return FENCE.sub("", text)


def anchors(text: str) -> set[str]:
    """GitHub's anchors for a page's headings: lowercase, punctuation but `-` and `_` dropped,
    spaces turned into `-`, a repeated anchor suffixed -1, -2, ..."""
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", _prose(text), flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def links(text: str) -> list[str]:
    prose = "\n".join(CODE.sub("", line) for line in _prose(text).splitlines())
    return [t for t in LINK.findall(prose) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def test_anchors_follow_github():
    text = "# poselint\n## What `--fix` changes\n## Hooks\n## Hooks\n### PL601 `a-b`\n"
    assert anchors(text) == {"poselint", "what---fix-changes", "hooks", "hooks-1", "pl601-a-b"}


def test_links_skip_code_and_urls():
    text = "[a](x.md) `[b](y.md)` [c](https://e.org)\n```\n[d](z.md)\n```\n[e](#f)\n"
    assert links(text) == ["x.md", "#f"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    broken = []
    found = links(page.read_text(encoding="utf-8"))
    for target in found:
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text("utf-8")):
            broken.append(f"{target}: no heading with this anchor in {file.name}")
    assert not broken, f"{page.relative_to(REPO)}: " + "; ".join(broken)


def _console_sessions(text: str) -> list[tuple[str, str]]:
    """(command, the output shown under it) for each `$ ` line of the console blocks."""
    sessions: list[tuple[str, str]] = []
    for block in re.findall(r"^```console\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        for command, output in re.findall(r"^\$ (.*)\n((?:(?!\$ ).*\n)*)", block, re.MULTILINE):
            sessions.append((command, output))
    return sessions


SESSIONS = _console_sessions((REPO / "README.md").read_text(encoding="utf-8"))


def test_the_readme_shows_a_session():
    assert SESSIONS and all(shown for _, shown in SESSIONS)


@pytest.mark.parametrize(("command", "shown"), SESSIONS)
def test_console_sessions_print_what_the_readme_shows(command, shown):
    """Run from the repository root, as the README's reader does: the output is verbatim."""
    argv = shlex.split(command)
    assert argv[0] == "poselint"
    env = {k: v for k, v in os.environ.items() if k != "PRE_COMMIT"}  # hints differ in a hook
    proc = subprocess.run(
        [sys.executable, "-m", "poselint", *argv[1:]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout == shown, proc.stderr


def test_the_readme_configuration_is_valid_and_names_every_key(tmp_path):
    """The README's `[tool.poselint]` block loads as written, and documents every key."""
    from poselint.config import _KEYS, load_config_file

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [block] = re.findall(r"^```toml\n(\[tool\.poselint\]\n.*?)^```", readme, re.M | re.S)
    (tmp_path / "pyproject.toml").write_text(block, encoding="utf-8")
    config = load_config_file(tmp_path / "pyproject.toml")
    assert config.severity == {"PL201": "warning"}
    top = block.split("\n[tool.poselint.", 1)[0]
    shown = set(re.findall(r"^(\w+) = ", top, flags=re.MULTILINE))
    # the skeleton contract is a table of its own, written by `poselint skeleton init`
    assert shown | {"severity", "skeleton"} == _KEYS
