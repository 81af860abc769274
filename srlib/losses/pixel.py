"""Pixel and structural losses, on images in [0, 1] shaped (N, C, H, W). Taught in notebook 03.

Pixel: L1, L2, Charbonnier. Structural: SSIM and MS-SSIM (MATLAB-consistent windows, shared with
``srlib.evaluation``) and Zhao et al.'s Mix, the paper's pre-training loss (alpha 0.84).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..evaluation.structural import ms_ssim_tensor, ssim_components


def check_images(sr: torch.Tensor, hr: torch.Tensor) -> None:
    if sr.shape != hr.shape:
        raise ValueError(f"loss: SR and HR shapes differ: {tuple(sr.shape)} vs {tuple(hr.shape)}")
    if sr.ndim != 4:
        raise ValueError(f"loss: expected (N, C, H, W) tensors, got {tuple(sr.shape)}")
    with torch.no_grad():
        low, high = float(hr.min()), float(hr.max())
    if low < -0.01 or high > 1.01:
        raise ValueError(f"loss: HR values span [{low:.3g}, {high:.3g}]; expected images in [0, 1]")


def with_means_of(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """``sr`` with each image's channel means replaced by ``hr``'s: the same texture, HR's overall colour, and no
    gradient to ``sr``'s channel means (what a loss of it cannot pull)."""
    return sr - sr.mean(dim=(2, 3), keepdim=True) + hr.mean(dim=(2, 3), keepdim=True)


def l1_loss(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """mean |sr - hr|"""
    check_images(sr, hr)
    return (sr - hr).abs().mean()


def l2_loss(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """mean (sr - hr)^2"""
    check_images(sr, hr)
    return ((sr - hr) ** 2).mean()


def charbonnier_loss(sr: torch.Tensor, hr: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """mean sqrt((sr - hr)^2 + eps^2): L1 with a smooth minimum."""
    check_images(sr, hr)
    return torch.sqrt((sr - hr) ** 2 + eps**2).mean()


def ssim_loss(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """1 - SSIM (11x11 Gaussian window, sigma 1.5, 'valid'), averaged over images and channels."""
    check_images(sr, hr)
    return 1 - ssim_components(sr, hr, data_range=1.0)[0].mean()


def ms_ssim_loss(sr: torch.Tensor, hr: torch.Tensor, scales: int = 5) -> torch.Tensor:
    """1 - MS-SSIM. Five scales need 176 px patches; smaller ones raise unless ``scales`` says fewer."""
    check_images(sr, hr)
    return 1 - ms_ssim_tensor(sr, hr, data_range=1.0, scales=scales).mean()


def _gaussian_blur_valid(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = int(2 * sigma)
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    g = torch.exp(-(t**2) / (2 * sigma**2))
    g = g / g.sum()
    n, c, h, w = x.shape
    x = x.reshape(n * c, 1, h, w)
    x = F.conv2d(F.conv2d(x, g.view(1, 1, -1, 1)), g.view(1, 1, 1, -1))
    return x.reshape(n, c, *x.shape[-2:])


class MixLoss(nn.Module):
    """Zhao et al. 2017: ``alpha * (1 - MS-SSIM) + (1 - alpha) * mean(G_sigmaM * |sr - hr|)``.

    The L1 error map is weighted by the Gaussian of the largest MS-SSIM scale (sigma_M = 8 for
    scales with sigma 0.5, 1, 2, 4, 8) before averaging. ``alpha`` = 0.84 as in the paper.
    """

    def __init__(self, alpha: float = 0.84, scales: int = 5, sigma: float = 8.0) -> None:
        super().__init__()
        if not 0 <= alpha <= 1:
            raise ValueError(f"MixLoss: alpha must be in [0, 1], got {alpha}")
        self.alpha, self.scales, self.sigma = alpha, scales, sigma

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        structural = ms_ssim_loss(sr, hr, self.scales)
        weighted_l1 = _gaussian_blur_valid((sr - hr).abs(), self.sigma).mean()
        return self.alpha * structural + (1 - self.alpha) * weighted_l1


def pixel_loss(name: str, mix_alpha: float = 0.84) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The pixel loss a config calls ``name``: l1, l2, charbonnier or mix (Mix with ``mix_alpha``)."""
    losses = {"l1": l1_loss, "l2": l2_loss, "charbonnier": charbonnier_loss}
    if name == "mix":
        return MixLoss(mix_alpha)
    if name not in losses:
        raise ValueError(f"unknown pixel loss {name!r}: use l1, l2, charbonnier or mix")
    return losses[name]
