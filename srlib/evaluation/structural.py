"""SSIM and MS-SSIM on (N, C, H, W) tensors with MATLAB's arithmetic (Wang et al.'s ``ssim_index.m``
and ``msssim.m``): 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, 'valid' filtering.
Differentiable, so the losses share them with the metrics.

Taught in notebooks 03 and 07.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
_WINDOW, _SIGMA = 11, 1.5


def _gaussian_window(dtype: torch.dtype = torch.float64) -> torch.Tensor:
    x = torch.arange(_WINDOW, dtype=dtype) - (_WINDOW - 1) / 2
    g = torch.exp(-(x**2) / (2 * _SIGMA**2))
    return g / g.sum()


def _filter_valid(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filtering of (N, 1, H, W) with 'valid' borders."""
    x = F.conv2d(x, g.view(1, 1, -1, 1))
    return F.conv2d(x, g.view(1, 1, 1, -1))


def ssim_components(x: torch.Tensor, y: torch.Tensor, data_range: float = 255.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean SSIM and mean contrast-structure term per image/channel of (N, C, H, W) tensors.

    MATLAB ``ssim_index.m`` arithmetic ('valid' 11x11 Gaussian, K1 = 0.01, K2 = 0.03);
    differentiable, so the losses reuse it.
    """
    n, c, h, w = x.shape
    if min(h, w) < _WINDOW:
        raise ValueError(f"SSIM needs images of at least {_WINDOW}x{_WINDOW}, got {w}x{h}")
    g = _gaussian_window(x.dtype).to(x.device)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    x, y = x.reshape(n * c, 1, h, w), y.reshape(n * c, 1, h, w)
    mu_x, mu_y = _filter_valid(x, g), _filter_valid(y, g)
    var_x = _filter_valid(x * x, g) - mu_x**2
    var_y = _filter_valid(y * y, g) - mu_y**2
    cov = _filter_valid(x * y, g) - mu_x * mu_y
    cs = (2 * cov + c2) / (var_x + var_y + c2)
    luminance = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    return (luminance * cs).mean(dim=(1, 2, 3)).view(n, c), cs.mean(dim=(1, 2, 3)).view(n, c)


def ms_ssim_tensor(x: torch.Tensor, y: torch.Tensor, data_range: float = 255.0, scales: int = 5) -> torch.Tensor:
    """MS-SSIM per image/channel of (N, C, H, W) tensors (Wang et al. 2003, 2x2 average pooling).

    Five scales need a side of at least 176 px with the 11x11 window; smaller inputs get an error,
    never a silent change (pass fewer ``scales`` explicitly, with their weights renormalised).
    """
    if not 1 <= scales <= 5:
        raise ValueError(f"MS-SSIM scales must be 1..5, got {scales}")
    smallest = _WINDOW * 2 ** (scales - 1)
    if min(x.shape[-2:]) < smallest:
        raise ValueError(
            f"MS-SSIM with {scales} scales needs images of at least {smallest}x{smallest} "
            f"(11x11 window at the coarsest scale), got {x.shape[-1]}x{x.shape[-2]}"
        )
    weights = torch.tensor(MS_SSIM_WEIGHTS[:scales], dtype=x.dtype, device=x.device)
    weights = weights / weights.sum()
    factors = []
    for level in range(scales):
        ssim_val, cs = ssim_components(x, y, data_range)
        factors.append(torch.relu(ssim_val if level == scales - 1 else cs))
        if level < scales - 1:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    stacked = torch.stack(factors, dim=-1)
    return torch.prod(stacked**weights, dim=-1)


def plane_ssim_components(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> tuple[float, float]:
    """:func:`ssim_components` of two float64 2-D planes through OpenCV's separable filter: the same numbers,
    about 15x faster on a CPU than torch's float64 convolution (for metrics, not for gradients)."""
    if min(a.shape) < _WINDOW:
        raise ValueError(f"SSIM needs images of at least {_WINDOW}x{_WINDOW}, got {a.shape[1]}x{a.shape[0]}")
    g = _gaussian_window().numpy()
    border = _WINDOW // 2

    def valid(v: np.ndarray) -> np.ndarray:
        return cv2.sepFilter2D(v, cv2.CV_64F, g, g)[border:-border, border:-border]

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_a, mu_b = valid(a), valid(b)
    var_a, var_b, cov = valid(a * a) - mu_a**2, valid(b * b) - mu_b**2, valid(a * b) - mu_a * mu_b
    cs = (2 * cov + c2) / (var_a + var_b + c2)
    luminance = (2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)
    return float((luminance * cs).mean()), float(cs.mean())
