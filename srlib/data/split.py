"""Splitting images for training and evaluation: hold-out, k-fold and bootstrap, by source image.

Every function groups items by the source image they come from (``source_of``), so that the
overlapping sub-images of one photo never end up on both sides of a split.

Taught in notebook 01.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

_SUBIMAGE_SUFFIX = re.compile(r"_s\d+$")


def source_of(item: str | Path) -> str:
    """Source-image name of a file: ``0001_s017.png`` -> ``0001``, ``baboon.png`` -> ``baboon``."""
    return _SUBIMAGE_SUFFIX.sub("", Path(item).stem)


def _unit_hash(seed: int, key: Hashable) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def holdout_split(
    items: Sequence[T],
    fractions: dict[str, float],
    seed: int = 0,
    group: Callable[[Any], Hashable] = source_of,
) -> dict[str, list[T]]:
    """Hold-out split by source: each source goes to one split, by a hash of (seed, source).

    Deterministic, and stable when items are added: an existing source never changes split.
    ``fractions`` (e.g. ``{"train": 0.8, "val": 0.1, "test": 0.1}``) must sum to 1; the split sizes
    follow them in expectation, not exactly.
    """
    if not fractions or any(f < 0 for f in fractions.values()) or abs(sum(fractions.values()) - 1) > 1e-9:
        raise ValueError(f"holdout_split: fractions must be non-negative and sum to 1, got {fractions}")
    edges = np.cumsum(list(fractions.values()))
    names = list(fractions)
    splits: dict[str, list[T]] = {name: [] for name in names}
    for item in items:
        u = _unit_hash(seed, group(item))
        splits[names[min(int(np.searchsorted(edges, u, side="right")), len(names) - 1)]].append(item)
    return splits


def _sources(items: Sequence[T], group: Callable[[T], Hashable]) -> list[Hashable]:
    return sorted({group(item) for item in items}, key=str)


def kfold_split(
    items: Sequence[T], k: int, seed: int = 0, group: Callable[[Any], Hashable] = source_of
) -> list[tuple[list[T], list[T]]]:
    """k (train, test) folds: sources shuffled by ``seed`` and dealt into k near-equal groups."""
    sources = _sources(items, group)
    if not 2 <= k <= len(sources):
        raise ValueError(f"kfold_split: need 2 <= k <= number of sources ({len(sources)}), got k={k}")
    order = np.random.default_rng(seed).permutation(len(sources))
    folds = []
    for chunk in np.array_split(order, k):
        test_sources = {sources[i] for i in chunk}
        folds.append(
            ([it for it in items if group(it) not in test_sources], [it for it in items if group(it) in test_sources])
        )
    return folds


def bootstrap_split(
    items: Sequence[T], seed: int = 0, group: Callable[[Any], Hashable] = source_of
) -> tuple[list[T], list[T]]:
    """(in-bag, out-of-bag): n sources drawn with replacement (repeats kept) and those never drawn.

    For n sources the out-of-bag share is (1 - 1/n)^n in expectation, which tends to 1/e ~ 0.368.
    """
    sources = _sources(items, group)
    draws = np.random.default_rng(seed).integers(0, len(sources), len(sources))
    counts = np.bincount(draws, minlength=len(sources))
    by_source: dict[Hashable, list[T]] = {s: [] for s in sources}
    for item in items:
        by_source[group(item)].append(item)
    in_bag = [it for s, c in zip(sources, counts, strict=True) for _ in range(c) for it in by_source[s]]
    out_of_bag = [it for s, c in zip(sources, counts, strict=True) if c == 0 for it in by_source[s]]
    return in_bag, out_of_bag


def shared_sources(a: Sequence[T], b: Sequence[T], group: Callable[[Any], Hashable] = source_of) -> set[Hashable]:
    """Sources that contribute to both ``a`` and ``b`` (empty for a leak-free split)."""
    return {group(it) for it in a} & {group(it) for it in b}
