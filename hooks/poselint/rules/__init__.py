"""The rule registry: every rule poselint has, in one list, in code order."""

from __future__ import annotations

from poselint.rules import (
    categories,
    dvc_tracking,
    geometry,
    ids,
    images,
    json_file,
    leakage,
    pose,
    pycoco,
    schema_rules,
    split_names,
    structure,
    visibility,
)
from poselint.rules.base import Finding, FindingBatch, Fix, Rule, rule

__all__ = ["REGISTRY", "Finding", "FindingBatch", "Fix", "Rule", "rule", "rules_by_code"]

_MODULES = [
    structure,
    split_names,
    json_file,
    schema_rules,
    ids,
    categories,
    geometry,
    pycoco,
    images,
    visibility,
    dvc_tracking,
    leakage,
    pose,
]

# type(), not isinstance(): isinstance asks a module's lazily imported numpy (poselint.lazy)
# for its __class__, which imports it.
REGISTRY: tuple[Rule, ...] = tuple(
    sorted(
        (obj for module in _MODULES for obj in vars(module).values() if type(obj) is Rule),
        key=lambda r: r.code,
    )
)


def rules_by_code() -> dict[str, Rule]:
    return {r.code: r for r in REGISTRY}
