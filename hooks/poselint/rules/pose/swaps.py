"""PL704: left/right swaps, a labelled pair running against the person's facing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from poselint.lazy import np
from poselint.load.dataset import Split
from poselint.rules.base import Finding, FindingBatch, rule
from poselint.rules.pose.common import (
    MIN_LIMB_SAMPLES,
    batch,
    kp_pointer,
    median,
    quiet,
)

if TYPE_CHECKING:
    from poselint.rules.pose.common import IntArray
from poselint.rules.pose.groups import Group, groups_of

# PL704: a left/right pair looks swapped when it runs against the direction its person's other
# pairs agree on (their summed directions keep this fraction of their summed lengths), spans
# enough of its usual width, and exchanging its two points shortens the limbs through them
# (to under SWAP_RATIO of their summed length). Tuned on the real samples: docs/pose-checks.md.
FACING_AGREEMENT = 0.3
MIN_PAIR_SPAN = 0.5  # of the pair's median span in the split
MIN_OTHER_PAIRS = 1  # labelled pairs besides this one that give the facing
MIN_PAIR_SPAN_FALLBACK = 0.1  # of the person's scale, with fewer than MIN_LIMB_SAMPLES people
SWAP_RATIO = 1.0


def _limbs_through_pairs(g: Group) -> list[tuple[int, int, int, int]]:
    """(flip pair, u, u's mirror, w) for each skeleton edge u-w whose end u is in a flip pair
    and w is not u's mirror: exchanging the pair turns the limb u-w into mirror(u)-w."""
    mirror: dict[int, tuple[int, int]] = {}
    for f, (left, right) in enumerate(g.flips):
        mirror[left], mirror[right] = (right, f), (left, f)
    out = []
    for a, b in {(min(e), max(e)) for e in g.edges if e[0] != e[1]}:
        for u, w in ((a, b), (b, a)):
            if u in mirror and mirror[u][0] != w:
                out.append((mirror[u][1], u, mirror[u][0], w))
    return out


def _facing_against(g: Group) -> tuple[IntArray, IntArray]:
    """(pair, person) positions whose pair's left-to-right direction opposes the one the
    person's other pairs agree on (a person facing the camera has every right point on the
    image's left), in row-major order."""
    left = np.array([f[0] for f in g.flips])
    right = np.array([f[1] for f in g.flips])
    valid = g.lab[left] & g.lab[right]
    zero = np.float32(0)
    dx = np.where(valid, g.x[right] - g.x[left], zero)
    dy = np.where(valid, g.y[right] - g.y[left], zero)
    size = np.sqrt(dx * dx + dy * dy)
    ox, oy = dx.sum(axis=0) - dx, dy.sum(axis=0) - dy  # the other pairs' directions, summed
    # the pair must span enough of its usual width (not a profile view, where the two sides
    # overlap): its median over the split's people, relative to their scale
    usual = np.full(len(left), np.nan)
    enough = np.zeros(len(left), dtype=bool)
    for f in range(len(left)):
        has = valid[f] & (size[f] > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            span = size[f, has] / g.scale[has]
        usual[f] = median(span)
        enough[f] = np.isfinite(span).sum() >= MIN_LIMB_SAMPLES
    least = np.where(enough, MIN_PAIR_SPAN * usual, MIN_PAIR_SPAN_FALLBACK)
    # pointing against the others (cos < 0) is a negative dot product; the rest of the test
    # runs on those positions only
    with np.errstate(invalid="ignore"):
        pairs, people = np.nonzero(valid & (dx * ox + dy * oy < 0))
    own = size[pairs, people]
    agree = np.hypot(ox[pairs, people], oy[pairs, people])
    spread = size.sum(axis=0)[people] - own  # the other pairs' summed lengths
    count = valid.sum(axis=0)[people] - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        keep = (
            (count >= MIN_OTHER_PAIRS)
            & (agree >= FACING_AGREEMENT * spread)
            & (own / g.scale[people] >= least[pairs])
        )
    return pairs[keep], people[keep]


@rule(
    "PL704",
    "left-right-swap",
    what="A labelled left/right pair looks swapped: its left-to-right direction opposes the "
    "one the person's other pairs agree on, and exchanging its two points shortens the limbs "
    "through them.",
    why="Swapped sides (OpenPose #2119, HRNet #65) teach the model to confuse left and right; "
    "flip augmentation then doubles the damage.",
    scope="document",
    severity="warning",
    opt_in=True,  # not yet quiet on real clean data: docs/pose-checks.md
)
@quiet
def left_right_swap(split: Split) -> Iterator[FindingBatch]:
    for g in groups_of(split):
        through = _limbs_through_pairs(g)
        if not through or len(g.flips) < 3:
            continue
        pairs, people = _facing_against(g)
        now = np.zeros(len(pairs), dtype=np.float32)  # the limbs through the pair as labelled
        swapped = np.zeros(len(pairs), dtype=np.float32)  # and with its points exchanged
        for f, u, mu, w in through:
            at = np.flatnonzero(pairs == f)
            p = people[at]
            # one labelled limb and the mirror point: enough to say where the limb belongs
            seen = g.lab[u, p] & g.lab[w, p] & g.lab[mu, p]
            now[at] += np.where(seen, g.dist(u, w, p), 0)
            swapped[at] += np.where(seen, g.dist(mu, w, p), 0)
        # the limbs through the pair must confirm it: a head turned against the torso (eyes
        # without labelled ears) is a pose, not evidence
        blamed = swapped < SWAP_RATIO * now
        pairs, people = pairs[blamed], people[blamed]
        order = np.lexsort((pairs, people))
        pairs, people = pairs[order], people[order]

        def findings(
            g: Group = g, people: IntArray = people, pairs: IntArray = pairs
        ) -> Iterator[Finding]:
            for p, f in zip(people.tolist(), pairs.tolist(), strict=True):
                left, right = g.flips[f]
                yield Finding(
                    f"{g.names[left]!r} and {g.names[right]!r} look swapped: they run "
                    "left-to-right against the person's other pairs, and exchanging them "
                    "shortens the limbs through them",
                    pointer=kp_pointer(int(g.anns[p]), left),
                )

        yield from batch(len(people), findings())
