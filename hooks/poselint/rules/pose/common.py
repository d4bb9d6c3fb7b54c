"""What the PL7xx content checks share: array types, a median, lazy finding batches."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from poselint.diagnostics import json_pointer
from poselint.lazy import np
from poselint.load.dataset import Split
from poselint.rules.base import Finding, FindingBatch

if TYPE_CHECKING:
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    Float32Array = NDArray[np.float32]
    IntArray = NDArray[np.int64]
    BoolArray = NDArray[np.bool_]


# PL705's per-edge and PL704's per-pair statistics need this many people with the edge (pair)
# labelled in the split.
MIN_LIMB_SAMPLES = 8


def median(values: FloatArray) -> float:
    """Median of the finite values, from at most ~20,000 of them (a split-wide typical value,
    not a per-person one: the subsample changes it by far less than the thresholds' margin)."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return math.nan
    sample = finite[:: max(1, len(finite) // 20_000)]
    half = len(sample) // 2  # np.median would import numpy.ma on first use
    part = np.partition(sample, [half - 1, half] if len(sample) % 2 == 0 else [half])
    return float(part[half - 1 : half + 1].mean() if len(sample) % 2 == 0 else part[half])


def quiet(check: Callable[[Split], Iterator[FindingBatch]]) -> Callable[[Split], Any]:
    """Run a content check under np.errstate(all="ignore"): hostile numbers (1e308, a bbox
    whose area overflows) become inf or NaN, which the checks already treat as unusable, and
    must not surface as RuntimeWarnings. The findings stay lazy: only their batches are built
    here."""

    @functools.wraps(check)
    def run(split: Split) -> Iterator[FindingBatch]:
        with np.errstate(all="ignore"):
            batches = list(check(split))
        return iter(batches)

    return run


def batch(count: int, findings: Iterator[Finding]) -> Iterator[FindingBatch]:
    """One lazy batch: the engine formats only the findings it keeps."""
    if count:
        yield FindingBatch(count, findings)


def kp_pointer(ann: int, k: int) -> str:
    return json_pointer("annotations", ann, "keypoints", 3 * k)
