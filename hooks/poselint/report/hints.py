"""Commands a message suggests, as the user can type them where poselint runs.

Inside a pre-commit hook (pre-commit sets PRE_COMMIT=1) there is no `poselint` on PATH and no
pip for the hook's environment: the user has pre-commit and .pre-commit-config.yaml.
"""

from __future__ import annotations

import os

FIX_HOOK = "poselint-fix"
DVC_HOOK = "poselint-dvc"
DVC_REQUIREMENT = "dvc>=3,<4"


def under_pre_commit() -> bool:
    return os.environ.get("PRE_COMMIT") == "1"


def fix_command(unsafe: bool = False) -> str:
    """How to apply the safe fixes (and the unsafe ones too)."""
    if unsafe and under_pre_commit():  # the fix hook applies the safe fixes unless told
        return f"add `args: [--unsafe-fixes]` to the `{FIX_HOOK}` hook"
    if unsafe:
        return "run `poselint check --fix --unsafe-fixes`"
    if under_pre_commit():
        return f"run the `{FIX_HOOK}` hook: pre-commit run {FIX_HOOK} --all-files"
    return "run `poselint check --fix`"


def fix_summary(safe: int, unsafe: int, unsafe_fixes: bool) -> str:
    """The summary's fix part, as ruff words it: what `--fix` repairs, then the findings
    only `--unsafe-fixes` repairs ("N more fixable with --unsafe-fixes")."""
    if unsafe_fixes:
        return f"{safe + unsafe} fixable: {fix_command(unsafe=bool(unsafe))}"
    if not unsafe:
        return f"{safe} fixable: {fix_command()}"
    if not safe:
        return f"{unsafe} fixable with --unsafe-fixes: {fix_command(unsafe=True)}"
    return f"{safe} fixable: {fix_command()}; {unsafe} more fixable with --unsafe-fixes"


def dvc_install() -> str:
    """How to make dvc importable where poselint runs."""
    if under_pre_commit():
        return (
            f'use the `{DVC_HOOK}` hook id, or add "{DVC_REQUIREMENT}" to this hook\'s '
            "additional_dependencies in .pre-commit-config.yaml"
        )
    return "install it: pip install 'poselint[dvc]'"
