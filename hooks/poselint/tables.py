"""numpy views of a COCO document's big arrays, built once per split for the content rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Tables:
    """Placeholder: filled in by the content-checks work (issue 3)."""


def build_tables(document: dict[str, Any]) -> Tables:
    return Tables()
