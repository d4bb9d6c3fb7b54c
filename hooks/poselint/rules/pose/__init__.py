"""PL7xx: pose plausibility. The skeleton contract (PL701, PL702), duplicate people (PL703),
left/right swaps (PL704) and implausible limb lengths (PL705).

The content checks share one (3, K, n) float32 array per keypoint category of a split (x, y,
v of keypoint k of every person in row k), built once from `Split.tables.kp`; each skeleton
edge or flip pair is one array expression over all people, and only the people flagged are
looped over, lazily, to format their findings. Method and figures: docs/pose-checks.md.

One module per rule (skeleton, flip_pairs, duplicates, swaps, limbs); groups.py builds the
shared arrays, common.py holds the rest the content checks share.
"""

from __future__ import annotations

from poselint.rules.pose.duplicates import duplicate_person
from poselint.rules.pose.flip_pairs import flip_pairs_inconsistent
from poselint.rules.pose.limbs import implausible_limb
from poselint.rules.pose.skeleton import skeleton_contract
from poselint.rules.pose.swaps import left_right_swap

__all__ = [
    "duplicate_person",
    "flip_pairs_inconsistent",
    "implausible_limb",
    "left_right_swap",
    "skeleton_contract",
]
