"""Back-projection: make an SR image consistent with its LR input again (ESRGAN's PIRM post-processing).

Both variants of ESRGAN's MATLAB scripts, on NumPy images (HxW or HxWxC, uint8 or float in [0, 1])
and on batched torch tensors (N, C, H, W) in [0, 1], with the MATLAB-exact bicubic resize:

- :func:`back_projection`: ``e = LR - imresize(SR, 1/s)``; ``SR += p * imresize(e, s)`` (2-D
  convolution per channel, zero borders), ``p`` a 5x5 Gaussian (sigma 1) squared and renormalised;
- :func:`reverse_filter`: ``J = imresize(LR, s)``; ``SR += J - imresize(imresize(SR, 1/s), s)``.

Twenty iterations by default, as in the scripts. :func:`lr_consistency` measures what they reduce.

Taught in notebook 06.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..data.image_io import from_float, to_float
from ..data.resize import imresize

Image = np.ndarray | torch.Tensor


def back_projection_kernel() -> np.ndarray:
    """``p = fspecial('gaussian', 5, 1); p = p.^2; p = p / sum(p(:))``."""
    t = np.arange(5) - 2.0
    g = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / 2)
    p = (g / g.sum()) ** 2
    return p / p.sum()


def _blur(x: Image) -> Image:
    p = back_projection_kernel()
    if isinstance(x, torch.Tensor):
        weight = torch.as_tensor(p, dtype=x.dtype, device=x.device).expand(x.shape[1], 1, 5, 5)
        return F.conv2d(x, weight, padding=2, groups=x.shape[1])
    return cv2.filter2D(x, -1, p.astype(x.dtype), borderType=cv2.BORDER_CONSTANT)


def _as_float(image: Image) -> tuple[Image, type | None]:
    if isinstance(image, torch.Tensor):
        if image.ndim != 4 or not image.is_floating_point():
            raise ValueError(f"expected a float (N, C, H, W) tensor in [0, 1], got {tuple(image.shape)} {image.dtype}")
        return image, None
    if image.dtype.kind == "f":
        return image.astype(np.float64), None
    return to_float(image), image.dtype.type


def _hw(x: Image) -> tuple[int, int]:
    height, width = x.shape[-2:] if isinstance(x, torch.Tensor) else x.shape[:2]
    return int(height), int(width)


def _check_sizes(sr: Image, lr: Image, scale: int) -> None:
    (h, w), (lh, lw) = _hw(sr), _hw(lr)
    if (h, w) != (lh * scale, lw * scale):
        raise ValueError(f"scale mismatch: SR is {w}x{h}, LR is {lw}x{lh}; expected SR = LR x {scale}")


def _finish(x: Image, dtype: type | None) -> Image:
    if isinstance(x, torch.Tensor):
        return x.clamp(0, 1)
    x = np.clip(x, 0, 1)
    return from_float(x, dtype) if dtype is not None else x


def back_projection(sr: Image, lr: Image, scale: int, iterations: int = 20) -> Image:
    """ESRGAN's "backprojection" script: feed the blurred, upscaled LR residual back ``iterations`` times."""
    _check_sizes(sr, lr, scale)
    x, dtype = _as_float(sr)
    low, _ = _as_float(lr)
    for _ in range(iterations):
        x = x + _blur(imresize(low - imresize(x, 1 / scale), scale))
    return _finish(x, dtype)


def reverse_filter(sr: Image, lr: Image, scale: int, iterations: int = 20) -> Image:
    """ESRGAN's "reverse filter" (its PIRM submission): ``SR += imresize(LR, s) - imresize(imresize(SR, 1/s), s)``."""
    _check_sizes(sr, lr, scale)
    x, dtype = _as_float(sr)
    low, _ = _as_float(lr)
    target = imresize(low, scale)
    for _ in range(iterations):
        x = x + target - imresize(imresize(x, 1 / scale), scale)
    return _finish(x, dtype)


def lr_consistency(sr: Image, lr: Image, scale: int) -> float:
    """RMS of ``imresize(SR, 1/s) - LR`` on the [0, 1] scale: how far SR is from explaining its LR input."""
    _check_sizes(sr, lr, scale)
    x, _ = _as_float(sr)
    low, _ = _as_float(lr)
    diff = imresize(x, 1 / scale) - low
    return float((diff**2).mean() ** 0.5)
