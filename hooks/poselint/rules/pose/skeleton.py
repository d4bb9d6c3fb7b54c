"""PL701: a category's keypoints and skeleton against the pinned contract."""

from __future__ import annotations

from collections.abc import Iterator

from poselint.contract import Contract, category_edges, edge_changes, keypoint_changes
from poselint.diagnostics import json_pointer
from poselint.load.dataset import Split
from poselint.load.tables import entries
from poselint.rules.base import Finding, rule


@rule(
    "PL701",
    "skeleton-contract",
    what="A category's keypoints (names, order) or skeleton edges differ from the pinned "
    "contract ([tool.poselint.skeleton], `poselint skeleton init`); or a pinned category is "
    "missing.",
    why="A renamed, reordered, added or removed keypoint silently remaps every label for the "
    "model (CVAT exports reorder points); the message names exactly what changed.",
    scope="document",
)
def skeleton_contract(split: Split) -> Iterator[Finding]:
    contracts: dict[str, Contract] = split.dataset.config.skeleton
    if not contracts:
        return
    categories = entries(split.document, "categories")
    by_name: dict[str, int] = {}
    for row, cat in enumerate(categories):
        if isinstance(cat, dict) and isinstance(cat.get("name"), str):
            by_name.setdefault(cat["name"], row)
    for name, contract in contracts.items():
        if name not in by_name:
            yield Finding(
                f"category {name!r} of the skeleton contract is not in this split's categories",
                pointer="/categories",
            )
            continue
        row = by_name[name]
        cat = categories[row]
        names = cat.get("keypoints")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            continue  # the schema rule reports it
        changes = keypoint_changes(contract.keypoints, names)
        for change in changes:
            yield Finding(
                f"category {name!r}: {change}",
                pointer=json_pointer("categories", row, "keypoints"),
            )
        if changes:
            continue  # edges by name would only repeat the renames
        edges, bad = category_edges(names, cat.get("skeleton"))
        for change in edge_changes(contract.edges, edges):
            yield Finding(
                f"category {name!r}: {change}", pointer=json_pointer("categories", row, "skeleton")
            )
        for edge in bad:
            yield Finding(
                f"category {name!r}: skeleton entry {edge!r} names no keypoint (1-based)",
                pointer=json_pointer("categories", row, "skeleton"),
            )
