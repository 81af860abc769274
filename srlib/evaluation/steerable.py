"""The steerable pyramid built in the Fourier domain (Simoncelli and Freeman 1995), computed as
``buildSFpyr`` of matlabPyrTools does, which Ma et al.'s quality score relies on.

The image's spectrum is split by raised-cosine masks in log-radius: a high-pass residual, then at
each level ``orientations`` oriented band-passes (angular masks ``cos(theta - k pi / K)^(K - 1)``),
then the low-pass is cropped to half size in frequency and split again. The masks form a tight
frame: the squared masks of one level sum to one, so no energy is created or lost.
Masks are read from the same look-up tables, with the same linear interpolation, as the MATLAB code.

Taught in notebook 07.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_LUT_SIZE = 1024  # angular look-up table resolution (matlabPyrTools)


@dataclass
class SteerablePyramid:
    """Real subbands: ``bands[level][orientation]`` (level 0 at full size), the residuals."""

    highpass: np.ndarray
    bands: list[list[np.ndarray]]
    lowpass: np.ndarray


def _centre(dims: np.ndarray) -> np.ndarray:
    """0-based index of the zero frequency after ``fftshift`` (MATLAB's ``ceil((dims + 0.5) / 2)``, 1-based)."""
    return np.ceil((dims + 0.5) / 2).astype(int) - 1


def _radial_transition() -> tuple[np.ndarray, np.ndarray]:
    """matlabPyrTools ``rcosFn(1, -1/2, [0 1])`` with its square root taken: a raised cosine rising from 0 at
    log2-radius -1 to 1 at 0, with its end values repeated."""
    size = 256
    x = np.pi * np.arange(-size - 1, 2) / (2 * size)
    y = np.cos(x) ** 2
    y[0], y[-1] = y[1], y[-2]
    return -0.5 + (2 / np.pi) * (x + np.pi / 4), np.sqrt(y)


def build(image: np.ndarray, levels: int = 2, orientations: int = 6) -> SteerablePyramid:
    """``buildSFpyr(image, levels, orientations - 1)`` of a 2-D float image."""
    dims = np.array(image.shape)
    if levels > math.floor(math.log2(dims.min())) - 2:
        raise ValueError(f"steerable pyramid: a {dims[1]}x{dims[0]} image is too small for {levels} levels")
    ctr = _centre(dims)
    xramp, yramp = np.meshgrid((np.arange(dims[1]) - ctr[1]) / (dims[1] / 2),
                               (np.arange(dims[0]) - ctr[0]) / (dims[0] / 2))
    angle = np.arctan2(yramp, xramp)
    radius = np.hypot(xramp, yramp)
    radius[ctr[0], ctr[1]] = radius[ctr[0], ctr[1] - 1]  # no log(0) at the zero frequency
    log_rad = np.log2(radius)
    x_rcos, y_rcos = _radial_transition()
    y_ircos = np.sqrt(1.0 - y_rcos**2)

    spectrum = np.fft.fftshift(np.fft.fft2(image))
    highpass = np.real(np.fft.ifft2(np.fft.ifftshift(spectrum * np.interp(log_rad, x_rcos, y_rcos))))
    lowdft = spectrum * np.interp(log_rad, x_rcos, y_ircos)

    order = orientations - 1
    x_cos = np.pi * np.arange(-(2 * _LUT_SIZE + 1), _LUT_SIZE + 2) / _LUT_SIZE  # [-2 pi, pi]
    norm = 2 ** (2 * order) * math.factorial(order) ** 2 / (orientations * math.factorial(2 * order))
    y_cos = math.sqrt(norm) * np.cos(x_cos) ** order

    bands = []
    for _ in range(levels):
        x_rcos = x_rcos - 1  # one octave lower
        himask = np.interp(log_rad, x_rcos, y_rcos)
        level = []
        for b in range(orientations):
            anglemask = np.interp(angle - np.pi * b / orientations, x_cos, y_cos)
            banddft = (-1j) ** order * lowdft * anglemask * himask
            level.append(np.real(np.fft.ifft2(np.fft.ifftshift(banddft))))
        bands.append(level)
        lodims = np.ceil((dims - 0.5) / 2).astype(int)
        start = _centre(dims) - _centre(lodims)
        crop = (slice(start[0], start[0] + lodims[0]), slice(start[1], start[1] + lodims[1]))
        log_rad, angle, lowdft = log_rad[crop], angle[crop], lowdft[crop]
        lowdft = lowdft * np.interp(log_rad, x_rcos, y_ircos)
        dims = lodims
    lowpass = np.real(np.fft.ifft2(np.fft.ifftshift(lowdft)))
    return SteerablePyramid(highpass=highpass, bands=bands, lowpass=lowpass)
