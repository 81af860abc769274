"""The bundled sample photos (``srlib/resources/samples``) and their fixed hold-out split.

Taught in notebook 01.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..paths import SAMPLE_DIR
from .split import holdout_split

SAMPLE_FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}
SAMPLE_SEED = 4  # the hash split follows the fractions only in expectation; this seed gives 7 / 2 / 2


def sample_manifest() -> list[dict]:
    """Origin, licence, size and sha256 of every bundled photo."""
    return json.loads((SAMPLE_DIR / "manifest.json").read_text())


def sample_images() -> list[Path]:
    """Paths of the bundled photos, sorted by name."""
    return sorted(SAMPLE_DIR / entry["file"] for entry in sample_manifest())


def sample_split(seed: int = SAMPLE_SEED) -> dict[str, list[Path]]:
    """The course's hold-out split of the bundled photos into train / val / test, by source."""
    return holdout_split(sample_images(), SAMPLE_FRACTIONS, seed=seed)
