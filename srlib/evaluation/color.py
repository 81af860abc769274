"""Colour conversions shared by the metrics (ITU-R BT.601 luma, as SR evaluations use it).

Taught in notebook 07.
"""

from __future__ import annotations

import numpy as np

from ..data.image_io import split_alpha


def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma on the [16, 235] scale, float64, from an RGB image in 0..255 units."""
    image = np.asarray(image, dtype=np.float64)
    return 16.0 + (65.481 * image[..., 0] + 128.553 * image[..., 1] + 24.966 * image[..., 2]) / 255.0


def y_plane(image: np.ndarray, who: str, crop_border: int = 0) -> np.ndarray:
    """The float64 plane (0..255) that no-reference SR metrics score: the BT.601 Y of a uint8 RGB(A) image
    rounded to uint8 (MATLAB ``rgb2ycbcr``), a 2-D (gray or Y) plane as it is; ``crop_border`` pixels shaved
    on every side. ``who`` names the metric in errors."""
    if image.ndim == 2:
        plane = image.astype(np.float64)
    else:
        color, _ = split_alpha(image)
        if color.dtype != np.uint8:
            raise TypeError(f"{who}: expected a uint8 image, got {color.dtype}")
        plane = np.round(rgb_to_y(color)) if color.shape[2] == 3 else color[..., 0].astype(np.float64)
    return plane[crop_border:-crop_border, crop_border:-crop_border] if crop_border else plane
