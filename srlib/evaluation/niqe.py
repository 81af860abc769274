"""NIQE (Mittal, Soundararajan and Bovik, "Making a 'Completely Blind' Image Quality Analyzer", IEEE
SPL 2013), computed as the authors' MATLAB code does. Lower is more natural.

The image (Y channel, 0-255) is cut to whole 96x96 blocks. At two scales (the second a MATLAB
bicubic half-size copy, blocks 48x48) it is normalised by a local mean and deviation (7x7 Gaussian,
sigma 7/6, replicated borders); each block gives 18 features from asymmetric generalised Gaussian
fits: of the normalised values (shape, mean of the two scales) and of the products of neighbours
in four directions (shape, mean, left and right scales). NIQE is the distance
between the multivariate Gaussian of the blocks' 36 features and the one fitted by the authors to
125 pristine LIVE images: ``sqrt((mu_p - mu)^T pinv((S_p + S) / 2) (mu_p - mu))``.

The pristine parameters (``srlib/resources/niqe/niqe_pris_params.npz``, see the NOTICE beside it) are LIVE's.

Taught in notebooks 05 to 07.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..data.resize import imresize
from ..paths import RESOURCES
from .color import y_plane

PRISTINE_PARAMS = RESOURCES / "niqe" / "niqe_pris_params.npz"
BLOCK = 96
_SHAPES = np.arange(0.2, 10.0005, 0.001)  # the shape grid the MATLAB code searches
_G1, _G2, _G3 = (np.array([math.gamma(k / a) for a in _SHAPES]) for k in (1, 2, 3))
_AGGD_RATIO = _G2**2 / (_G1 * _G3)
_NEIGHBOURS = ((0, 1), (1, 0), (1, 1), (1, -1))  # (rows, cols) circular shifts: horizontal, vertical, diagonals


def gaussian_window(size: int = 7, sigma: float = 7 / 6) -> np.ndarray:
    """MATLAB ``fspecial('gaussian', size, sigma)``."""
    t = np.arange(size) - (size - 1) / 2
    g = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * sigma**2))
    return g / g.sum()


def _blocks(x: np.ndarray, side: int) -> np.ndarray:
    rows, cols = x.shape[0] // side, x.shape[1] // side
    return x[: rows * side, : cols * side].reshape(rows, side, cols, side).transpose(0, 2, 1, 3).reshape(-1, side, side)


def _aggd(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shape, mean, left and right scale of an asymmetric generalised Gaussian fitted to each row
    (moment matching over the MATLAB code's shape grid)."""
    neg, pos = v < 0, v > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.sqrt(np.sum(v**2 * neg, axis=1) / neg.sum(axis=1))
        right = np.sqrt(np.sum(v**2 * pos, axis=1) / pos.sum(axis=1))
        ratio = left / right
        r_hat = np.mean(np.abs(v), axis=1) ** 2 / np.mean(v**2, axis=1)
        r_norm = r_hat * (ratio**3 + 1) * (ratio + 1) / (ratio**2 + 1) ** 2
    index = np.argmin((_AGGD_RATIO[None] - r_norm[:, None]) ** 2, axis=1)
    shape = np.where(np.isnan(r_norm), np.nan, _SHAPES[index])  # a degenerate block stays NaN (nanmean drops it)
    to_scale = np.sqrt(_G1[index] / _G3[index])
    left, right = left * to_scale, right * to_scale
    return shape, (right - left) * _G2[index] / _G1[index], left, right


def block_features(image: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """The (blocks, 36) feature matrix of a 2-D float64 image in [0, 255] (two scales x 18); the image is
    first cut to whole blocks (before any filtering, as the MATLAB code does)."""
    window = gaussian_window()
    columns = []
    x = image[: image.shape[0] // block * block, : image.shape[1] // block * block]
    for scale in (1, 2):
        mu = cv2.filter2D(x, cv2.CV_64F, window, borderType=cv2.BORDER_REPLICATE)
        sigma = np.sqrt(np.abs(cv2.filter2D(x * x, cv2.CV_64F, window, borderType=cv2.BORDER_REPLICATE) - mu * mu))
        normalised = _blocks((x - mu) / (sigma + 1), block // scale)
        shape, _, left, right = _aggd(normalised.reshape(len(normalised), -1))
        columns += [shape, (left + right) / 2]
        for shift in _NEIGHBOURS:
            pairs = normalised * np.roll(normalised, shift, axis=(1, 2))
            columns += list(_aggd(pairs.reshape(len(pairs), -1)))
        x = imresize(x, 0.5)
    return np.stack(columns, axis=1)


def load_pristine(path=PRISTINE_PARAMS) -> tuple[np.ndarray, np.ndarray]:
    """LIVE's pristine mean (36,) and covariance (36, 36)."""
    with np.load(path) as params:
        return params["mu_pris_param"].ravel(), params["cov_pris_param"]


def niqe(image: np.ndarray, crop_border: int = 0) -> float:
    """NIQE of a uint8 RGB / gray image (or a float Y plane in [0, 255]); RGB is scored on its BT.601 Y
    channel rounded to uint8, as SR evaluations do. Needs at least one 96x96 block after the crop."""
    y = y_plane(image, "niqe", crop_border)
    if min(y.shape) < BLOCK:
        raise ValueError(f"niqe: the image ({y.shape[1]}x{y.shape[0]} after cropping) is smaller than one "
                         f"{BLOCK}x{BLOCK} block")
    features = block_features(y)
    mu_pristine, cov_pristine = load_pristine()
    mu = np.nanmean(features, axis=0)
    complete = features[~np.isnan(features).any(axis=1)]
    cov = np.cov(complete, rowvar=False)
    d = mu_pristine - mu
    return float(np.sqrt(d @ np.linalg.pinv((cov_pristine + cov) / 2) @ d))
