"""Byte-level fuzzing of the annotation loader: random bytes, truncations, bit flips.

A bounded number of seeded iterations runs in CI. Any input that ever broke an invariant is kept
in tests/data/fuzz-regressions/ and replayed here first.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hostile import check_invariants

from builders import build_dataset
from poselint.load.document import parse_bytes

REGRESSIONS = Path(__file__).parent / "data" / "fuzz-regressions"
ANNOTATION = Path("annotations") / "person_keypoints_train.json"
ITERATIONS = 300


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_dataset(tmp_path_factory.mktemp("fuzz") / "ds")


def _mutations(valid: bytes, rng: random.Random) -> list[bytes]:
    cases = []
    for _ in range(ITERATIONS):
        kind = rng.randrange(4)
        if kind == 0:
            cases.append(rng.randbytes(rng.randrange(0, 64)))
        elif kind == 1:
            cases.append(valid[: rng.randrange(0, len(valid))])
        elif kind == 2:
            data = bytearray(valid)
            for _ in range(rng.randrange(1, 8)):
                i = rng.randrange(len(data))
                data[i] ^= 1 << rng.randrange(8)
            cases.append(bytes(data))
        else:
            i = rng.randrange(len(valid))
            cases.append(
                valid[:i]
                + rng.choice(
                    [
                        b"NaN",
                        b"1e999",
                        b"{",
                        b"]",
                        b'"',
                        b"\xff",
                        b"\\u0000",
                        b"-",
                        b"99999999999999999999999",
                    ]
                )
                + valid[i:]
            )
    return cases


def test_loader_alone_never_raises(root: Path) -> None:
    valid = (root / ANNOTATION).read_bytes()
    for data in _mutations(valid, random.Random(1)):
        loaded = parse_bytes(Path("x.json"), data, duplicate_key_check_bytes=1 << 20)
        assert loaded.parsed or loaded.syntax is not None


def test_whole_check_on_fuzzed_bytes(root: Path) -> None:
    valid = (root / ANNOTATION).read_bytes()
    for data in _mutations(valid, random.Random(2))[:120]:
        (root / ANNOTATION).write_bytes(data)
        try:
            check_invariants(root)
        except AssertionError:  # keep the input as a regression fixture, then fail
            REGRESSIONS.mkdir(exist_ok=True)
            (REGRESSIONS / f"crash-{abs(hash(data)):x}.json").write_bytes(data)
            raise


@pytest.mark.parametrize("case", sorted(REGRESSIONS.glob("*.json")), ids=lambda p: p.name)
def test_kept_regressions(root: Path, case: Path) -> None:
    (root / ANNOTATION).write_bytes(case.read_bytes())
    check_invariants(root)
