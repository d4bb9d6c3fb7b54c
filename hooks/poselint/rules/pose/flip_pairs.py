"""PL702: the contract's flip pairs against its keypoint names."""

from __future__ import annotations

from collections.abc import Iterator

from poselint.contract import Contract, flip_issues
from poselint.load.dataset import Dataset
from poselint.rules.base import Finding, rule


@rule(
    "PL702",
    "flip-pairs-inconsistent",
    what="The contract's flip pairs disagree with the keypoint names: a pair whose names do not "
    "mirror (`left_eye`/`right_ear`), or a `left_*`/`right_*` mirror left unpaired.",
    why="Flip augmentation swaps exactly these pairs: a missing or wrong pair teaches the model "
    "left for right on every flipped sample (rf-detr #1358).",
    scope="dataset",
)
def flip_pairs_inconsistent(ds: Dataset) -> Iterator[Finding]:
    contracts: dict[str, Contract] = ds.config.skeleton
    for name, contract in contracts.items():
        for issue in flip_issues(contract):
            yield Finding(f"skeleton contract {name!r}: {issue}", path=ds.config.source)
