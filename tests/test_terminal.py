"""Colour and a progress bar for a person at a terminal, and nothing of them anywhere else:
a real `poselint` process on a pseudo-terminal (pty), next to the same run in a pipe."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from dvcrepo import BIN

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
RED, YELLOW, BOLD, RESET = "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CI")}
    return {**env, "TERM": "xterm-256color", **extra}


def _run(
    argv: list[str], cwd: Path, *, tty: tuple[str, ...] = (), **env: str
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `poselint ARGV`; the streams named in `tty` ("out",
    "err") on one pseudo-terminal (read back with its \\r\\n as \\n), the others in pipes."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    pipe = subprocess.PIPE
    proc = subprocess.Popen(
        [str(BIN / "poselint"), *argv],
        cwd=cwd,
        env=_env(**env),
        stdin=subprocess.DEVNULL,
        stdout=slave if "out" in tty else pipe,
        stderr=slave if "err" in tty else pipe,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # EIO: the process closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out, err = proc.communicate(timeout=120)
    terminal = b"".join(chunks).decode().replace("\r\n", "\n")
    return (
        proc.returncode,
        terminal if "out" in tty else out.decode(),
        terminal if "err" in tty else err.decode(),
    )


def test_text_is_coloured_on_a_terminal_and_plain_in_a_pipe(make_dataset, make_cvat_export):
    root = make_cvat_export()
    code, piped, _ = _run(["check", root.name], root.parent)
    assert code == 1 and "\x1b" not in piped
    code, shown, err = _run(["check", root.name], root.parent, tty=("out",))
    assert code == 1 and err == ""
    assert ANSI.sub("", shown) == piped  # the same words, only coloured
    lines = shown.splitlines()
    assert len(lines) == len(piped.splitlines()) == 9
    for line, plain in zip(lines[:-1], piped.splitlines(), strict=False):
        where, rest = plain.split(": ", 1)
        code_ = rest.split(" ", 1)[0]
        assert line.startswith(f"{BOLD}{where}{RESET}: {BOLD}{RED}{code_}{RESET}"), line
    summary = (  # PL601's zeroing is an unsafe fix
        "Found 8 errors and 0 warnings (4 fixable: run `poselint check --fix`; "
        "4 more fixable with --unsafe-fixes)."
    )
    assert lines[-1] == f"{BOLD}{summary}{RESET}"
    clean = make_dataset(name="clean")
    _, passed, _ = _run(["check", clean.name], clean.parent, tty=("out",))
    assert passed == f"{BOLD}\x1b[32mAll checks passed!{RESET}\n"


def test_warnings_are_yellow(make_dataset, tmp_path):
    root = make_dataset(name="ds")
    (tmp_path / "poselint.toml").write_text('[severity]\nPL201 = "warning"\n')
    (root / "images" / "train").rename(root / "images" / "Train")
    (root / "annotations" / "person_keypoints_train.json").rename(
        root / "annotations" / "person_keypoints_Train.json"
    )
    code, shown, _ = _run(["check", "ds"], tmp_path, tty=("out",))
    assert code == 0, shown
    assert f"{BOLD}{YELLOW}PL201{RESET}{YELLOW} (warning){RESET}" in shown


def test_no_color_and_color_never_keep_a_terminal_plain(make_cvat_export):
    root = make_cvat_export()
    _, piped, _ = _run(["check", root.name], root.parent)
    _, no_color, _ = _run(["check", root.name], root.parent, tty=("out",), NO_COLOR="1")
    _, never, _ = _run(["check", root.name, "--color", "never"], root.parent, tty=("out",))
    assert no_color == never == piped and "\x1b" not in piped


def test_color_always_colours_a_pipe_over_no_color(make_cvat_export):
    root = make_cvat_export()
    _, always, _ = _run(["check", root.name, "--color", "always"], root.parent, NO_COLOR="1")
    _, piped, _ = _run(["check", root.name], root.parent)
    assert f"{BOLD}{RED}PL601{RESET}" in always and ANSI.sub("", always) == piped


def test_machine_formats_are_never_coloured(make_cvat_export):
    root = make_cvat_export()
    for fmt in ("json", "github", "sarif", "gitlab", "junit"):
        _, on_tty, _ = _run(
            ["check", root.name, "--format", fmt, "--color", "always"], root.parent, tty=("out",)
        )
        assert "\x1b" not in on_tty, fmt
        if fmt == "json":
            assert len(json.loads(on_tty)) == 8


def test_progress_bar_on_a_terminal_only(make_dataset, tmp_path):
    make_dataset(name="a")
    make_dataset(name="b")
    # one process: each split named on the bar as it is checked
    code, out, bar = _run(["check", "a", "b", "--jobs", "1"], tmp_path, tty=("err",))
    assert (code, out) == (0, "All checks passed!\n")
    assert "checking:   0%" in bar and "0/2 [" in bar and "1/2 [" in bar
    assert "a/annotations/person_keypoints_train.json]" in bar
    assert "b/annotations/person_keypoints_val.json]" in bar
    assert bar.endswith("\r")  # erased when done: the terminal is left clean
    # roots linted in worker processes: the bar counts them as they are told
    code, out, bar = _run(["check", "a", "b", "--jobs", "2", "--no-cache"], tmp_path, tty=("err",))
    assert (code, out) == (0, "All checks passed!\n")
    assert "0/2 [" in bar and "1/2 [" in bar and bar.endswith("\r")
    code, out, err = _run(["check", "a", "b"], tmp_path)  # a pipe: no bar
    assert (code, out, err) == (0, "All checks passed!\n", "")
    code, out, err = _run(["check", "a", "b", "-q"], tmp_path, tty=("err",))  # -q: none
    assert (code, out, err) == (0, "", "")


def test_a_run_in_a_pipe_imports_neither_colour_nor_progress(make_cvat_export):
    """Start-up time in a hook: termcolor and tqdm load only on a terminal."""
    root = make_cvat_export()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "poselint", "check", root.name, "-v"],
        cwd=root.parent,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "PL601" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert "poselint.report.writer" in imported  # the list is the run's imports
    assert not {m for m in imported if m.split(".")[0] in ("termcolor", "tqdm")}


def test_own_lines_escape_what_the_dataset_names(make_dataset, cli, tmp_path, monkeypatch):
    """A split named with a terminal escape (`\\x1b[2J` clears the screen) reaches stderr only
    escaped: in -v's lines (the cache's too) and in an error naming a config key."""
    from builders import clean_docs
    from poselint import cache, cachekey

    monkeypatch.setenv(cache.ENV_FOLDER, str(tmp_path / "the-cache"))
    evil = "v\x1b[2Jal"
    root = make_dataset({"train": clean_docs()["train"], evil: clean_docs()["val"]})
    time.sleep(cachekey.RACY_SECONDS + 0.1)  # old enough to be cached
    shown = "person_keypoints_v\\x1b[2Jal.json"
    for said in ("checking", "unchanged, from the cache"):
        result = cli("check", root, "-v")
        assert result.code == 1, result
        assert "\x1b" not in result.err + result.out
        assert any(said in line and shown in line for line in result.err.splitlines()), result
    (tmp_path / "pyproject.toml").write_text('[tool.poselint]\n"\\u001b[2Jevil" = 1\n')
    result = cli("check", root, cwd=tmp_path)
    assert result.code == 2
    assert result.err.endswith("[tool.poselint] unknown key \\x1b[2Jevil\n"), result
