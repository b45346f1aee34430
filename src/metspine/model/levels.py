"""Spinal levels: the ordered list C1..S5 and helpers to reason about contiguous ranges."""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

Level = Literal[
    "C1", "C2", "C3", "C4", "C5", "C6", "C7",
    "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12",
    "L1", "L2", "L3", "L4", "L5",
    "S1", "S2", "S3", "S4", "S5",
]  # fmt: skip

LEVELS: tuple[str, ...] = (
    *(f"C{i}" for i in range(1, 8)),
    *(f"T{i}" for i in range(1, 13)),
    *(f"L{i}" for i in range(1, 6)),
    *(f"S{i}" for i in range(1, 6)),
)

_INDEX = {name: i for i, name in enumerate(LEVELS)}


def level_index(level: str) -> int:
    """Position of a level in the cranio-caudal order (C1 = 0)."""
    return _INDEX[level]


def is_contiguous(levels: list[str]) -> bool:
    """True when the levels are distinct and form one unbroken cranio-caudal run (any order)."""
    idx = sorted(_INDEX[lv] for lv in levels)
    return len(set(idx)) == len(idx) and all(b - a == 1 for a, b in pairwise(idx))


def region(level: str) -> str:
    """The region letter of a level: C, T, L or S."""
    return level[0]
