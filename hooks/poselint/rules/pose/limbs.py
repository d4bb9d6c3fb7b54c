"""PL705: implausible limb lengths, against the split's (or COCO's) typical proportions."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from poselint.contract import side_of
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
    from poselint.rules.pose.common import FloatArray, IntArray
from poselint.rules.pose.groups import Group, groups_of

MIN_PERSON_EDGES = 3  # a person's own scale comes from the median of its other limbs
# An edge with fewer people in the split takes COCO's typical proportion instead: the median
# log(limb length / sqrt(area)) of the dev set's COCO 2017 people, left and right averaged.
# Keyed by the parts' names without the side: same-side limbs by their two parts, limbs across
# the body by the part twice. The person's median removes any offset against the split's own.
COCO_PROPORTIONS: dict[tuple[str, str], float] = {
    ("ankle", "knee"): -0.71,
    ("hip", "knee"): -0.68,
    ("elbow", "shoulder"): -0.99,
    ("elbow", "wrist"): -1.21,
    ("hip", "shoulder"): -0.38,
    ("ear", "shoulder"): -1.17,
    ("ear", "eye"): -1.92,
    ("eye", "nose"): -2.57,
    ("eye", "eye"): -2.28,
    ("hip", "hip"): -1.30,
    ("shoulder", "shoulder"): -0.84,
}
_PART_SYNONYMS = {"foot": "ankle"}  # Human3.6M's "foot" is the ankle joint


def _column_median(values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Per column, the median of its finite values (NaN when none), and their count."""
    s = np.sort(values, axis=0)  # NaN sorts last
    count = np.isfinite(values).sum(axis=0)
    cols = np.arange(values.shape[1])
    lo = s[np.maximum(count - 1, 0) // 2, cols]
    hi = s[count // 2 * (count > 0), cols]
    med: FloatArray = np.where(count > 0, (lo + np.where(count % 2 == 0, hi, lo)) / 2, np.nan)
    return med, count


def _mirror_edges(g: Group) -> IntArray:
    """Per edge, the index of its mirror image (both ends flipped; an unpaired end stays),
    -1 when it has none."""
    flip = {a: b for a, b in g.flips} | {b: a for a, b in g.flips}
    index = {frozenset(e): i for i, e in enumerate(g.edges)}
    out = np.full(len(g.edges), -1, dtype=np.int64)
    for i, (a, b) in enumerate(g.edges):
        j = index.get(frozenset((flip.get(a, a), flip.get(b, b))), i)
        out[i] = j if j != i else -1
    return out


def _part(name: str) -> tuple[str, str]:
    """(side or "", the part's name): "Right-Shoulder" -> ("right", "shoulder")."""
    sided = side_of(name)
    side, base = sided if sided else ("", "".join(c for c in name.lower() if c.isalnum()))
    return side, _PART_SYNONYMS.get(base, base)


def _coco_proportions(g: Group) -> FloatArray:
    """Per edge, COCO's typical log(length / scale) for the limb it names; NaN when none."""
    out = np.full(len(g.edges), np.nan)
    for i, (a, b) in enumerate(g.edges):
        (sa, pa), (sb, pb) = _part(g.names[a]), _part(g.names[b])
        if sa and sb and sa != sb and pa == pb:  # across the body: shoulder to shoulder
            out[i] = COCO_PROPORTIONS.get((pa, pa), np.nan)
        elif not (sa and sb and sa != sb) and pa != pb:  # one side's limb, or the nose's
            out[i] = COCO_PROPORTIONS.get((min(pa, pb), max(pa, pb)), np.nan)
    return out


def _typical_proportions(g: Group, rel: FloatArray) -> FloatArray:
    """Per edge, the median of `rel` over the split's people; an edge with fewer than
    MIN_LIMB_SAMPLES of them takes COCO's proportion, shifted by how the split's own edges
    run against COCO's (0 when none can say), so that a small split is not skipped."""
    count = np.isfinite(rel).sum(axis=1)
    usable = count >= MIN_LIMB_SAMPLES
    typical = np.array([median(row) if ok else np.nan for row, ok in zip(rel, usable, strict=True)])
    coco = _coco_proportions(g)
    both = usable & np.isfinite(coco)
    offset = median(typical[both] - coco[both]) if both.any() else 0.0
    fallback = ~usable & (count > 0) & np.isfinite(coco)
    typical[fallback] = coco[fallback] + offset
    return typical


@rule(
    "PL705",
    "implausible-limb",
    what="A labelled limb (skeleton edge) is more than `limb_factor` (default 1.6) times the "
    "length that its edge's typical proportion and the person's other limbs predict (and, if "
    "its mirror limb is labelled, over sqrt(limb_factor) times that one). The typical "
    "proportion is the split's; for a limb fewer than 8 people label there, COCO's for the "
    "limb of that name (shoulder-elbow, knee-ankle, ...).",
    why="A stretched limb is a point on the wrong body part or the wrong person; it trains the "
    "model on an impossible pose.",
    scope="document",
    severity="warning",
    opt_in=True,  # not yet quiet on real clean data: docs/pose-checks.md
)
@quiet
def implausible_limb(split: Split) -> Iterator[FindingBatch]:
    limit = split.dataset.config.limb_factor
    factor = math.log(limit)
    for g in groups_of(split):
        if not g.edges:
            continue
        a = np.array([e[0] for e in g.edges])
        b = np.array([e[1] for e in g.edges])
        seen = g.lab[a] & g.lab[b]
        dx, dy = g.x[a] - g.x[b], g.y[a] - g.y[b]
        square = dx * dx + dy * dy  # squared lengths: the logs need no square root
        with np.errstate(divide="ignore", invalid="ignore"):
            # log of each limb relative to the person's size, then against the edge's
            # typical proportion in the split
            rel = np.where(seen & (square > 0), np.log(square) / 2, np.float32(np.nan))
            rel -= np.log(g.scale).astype(np.float32)
        typical = _typical_proportions(g, rel)
        if not np.isfinite(typical).any():
            continue
        dev = rel - typical.astype(np.float32)[:, None]
        # a limb whose mirror image (the other arm, the other side of the neck) is labelled
        # must also be clearly longer than it: a person can be broad, not lopsided
        mirror = _mirror_edges(g)
        has = mirror >= 0
        longer = np.ones_like(seen)
        longer[has] = ~seen[mirror[has]] | (square[has] > limit * square[mirror[has]])
        # the person's own scale: how its limbs run against the typical ones (a median: one
        # wrong limb does not move it)
        person, count = _column_median(dev)
        with np.errstate(invalid="ignore"):
            excess = dev - person
            flagged = (excess > factor) & (count >= MIN_PERSON_EDGES) & longer
        people, edges = np.nonzero(flagged.T)  # by person, then edge

        def findings(
            g: Group = g, people: IntArray = people, edges: IntArray = edges, x: Any = excess
        ) -> Iterator[Finding]:
            for p, e in zip(people.tolist(), edges.tolist(), strict=True):
                ea, eb = g.edges[e]
                yield Finding(
                    f"limb {g.names[ea]!r}-{g.names[eb]!r} is {math.exp(x[e, p]):.1f}x the "
                    f"length this person's other limbs predict (limb_factor {limit:g}); a "
                    "point is misplaced",
                    pointer=kp_pointer(int(g.anns[p]), eb),
                )

        yield from batch(len(people), findings())
