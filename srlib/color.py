"""Colour conversions shared by the metrics (ITU-R BT.601 luma, as SR evaluations use it)."""

from __future__ import annotations

import numpy as np


def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma on the [16, 235] scale, float64, from an RGB image in 0..255 units."""
    image = np.asarray(image, dtype=np.float64)
    return 16.0 + (65.481 * image[..., 0] + 128.553 * image[..., 1] + 24.966 * image[..., 2]) / 255.0
