"""The losses of the paper, on images in [0, 1] shaped (N, C, H, W).

Pixel: L1, L2, Charbonnier. Structural: SSIM and MS-SSIM (MATLAB-consistent windows, see
``srlib.metrics``) and Zhao et al.'s Mix. Perceptual: L1 between deep features. Adversarial: the
standard GAN (SRGAN) and the relativistic average GAN (ESRGAN), both on logits. And the generator
objective of ESRGAN-Pro's Eq. 1, ``L_G = L_percep + lambda * L_G^Ra + eta * L_pix``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .ssim import ms_ssim_tensor, ssim_components
from .perceptual import feature_network


def _check(sr: torch.Tensor, hr: torch.Tensor) -> None:
    if sr.shape != hr.shape:
        raise ValueError(f"loss: SR and HR shapes differ: {tuple(sr.shape)} vs {tuple(hr.shape)}")
    if sr.ndim != 4:
        raise ValueError(f"loss: expected (N, C, H, W) tensors, got {tuple(sr.shape)}")
    with torch.no_grad():
        low, high = float(hr.min()), float(hr.max())
    if low < -0.01 or high > 1.01:
        raise ValueError(f"loss: HR values span [{low:.3g}, {high:.3g}]; expected images in [0, 1]")


def l1_loss(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """mean |sr - hr|"""
    _check(sr, hr)
    return (sr - hr).abs().mean()


def l2_loss(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """mean (sr - hr)^2"""
    _check(sr, hr)
    return ((sr - hr) ** 2).mean()


def charbonnier_loss(sr: torch.Tensor, hr: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """mean sqrt((sr - hr)^2 + eps^2): L1 with a smooth minimum."""
    _check(sr, hr)
    return torch.sqrt((sr - hr) ** 2 + eps**2).mean()


def ssim_loss(sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
    """1 - SSIM (11x11 Gaussian window, sigma 1.5, 'valid'), averaged over images and channels."""
    _check(sr, hr)
    return 1 - ssim_components(sr, hr, data_range=1.0)[0].mean()


def ms_ssim_loss(sr: torch.Tensor, hr: torch.Tensor, scales: int = 5) -> torch.Tensor:
    """1 - MS-SSIM. Five scales need 176 px patches; smaller ones raise unless ``scales`` says fewer."""
    _check(sr, hr)
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


class PerceptualLoss(nn.Module):
    """mean |F(sr) - F(hr)| with F a frozen feature network (see ``srlib.perceptual``).

    ``description`` names the network that produced the numbers (VGG19 or the offline stand-in).
    """

    def __init__(self, network: str = "auto", layer: str = "conv5_4", vgg19_path=None) -> None:
        super().__init__()
        self.features, self.description = feature_network(network, layer, vgg19_path)

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        _check(sr, hr)
        with torch.no_grad():
            target = self.features(hr)
        return (self.features(sr) - target).abs().mean()


def _bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def gan_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Standard GAN discriminator loss: -log D(real) - log(1 - D(fake)), D = sigmoid(C)."""
    return _bce(real_logits, True) + _bce(fake_logits, False)


def gan_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Standard (non-saturating) generator loss: -log D(fake)."""
    return _bce(fake_logits, True)


def ragan_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Relativistic average discriminator loss, D_Ra(a, b) = sigmoid(C(a) - mean C(b)):
    ``-1/2 E[log D_Ra(real, fake)] - 1/2 E[log(1 - D_Ra(fake, real))]``; the means are detached."""
    return 0.5 * (_bce(real_logits - fake_logits.mean().detach(), True)
                  + _bce(fake_logits - real_logits.mean().detach(), False))


def ragan_g_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Relativistic average generator loss: ``-1/2 E[log(1 - D_Ra(real, fake))] - 1/2 E[log D_Ra(fake, real)]``.

    The discriminator's opinion of real images is a constant for the generator (detached)."""
    real_logits = real_logits.detach()
    return 0.5 * (_bce(real_logits - fake_logits.mean(), False) + _bce(fake_logits - real_logits.mean(), True))


class GeneratorObjective(nn.Module):
    """ESRGAN-Pro Eq. 1: ``L_G = L_percep + lambda * L_G^Ra + eta * L_pix`` (lambda 5e-3, eta 1e-2).

    ``pixel`` is L1 (default) or Mix; ``perceptual`` may be None (a pixel + GAN objective);
    ``adversarial(real_logits, fake_logits)`` is the relativistic loss by default (SRGAN: the standard
    one). Returns the total and its parts (as floats) for logging.
    """

    def __init__(self, pixel: Callable = l1_loss, perceptual: nn.Module | None = None,
                 gan_weight: float = 5e-3, pixel_weight: float = 1e-2, perceptual_weight: float = 1.0,
                 adversarial: Callable = ragan_g_loss) -> None:
        super().__init__()
        self.pixel = pixel
        self.perceptual = perceptual
        self.adversarial = adversarial
        self.gan_weight, self.pixel_weight, self.perceptual_weight = gan_weight, pixel_weight, perceptual_weight

    def forward(self, sr: torch.Tensor, hr: torch.Tensor, real_logits: torch.Tensor,
                fake_logits: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        parts = {
            "pixel": self.pixel(sr, hr),
            "gan": self.adversarial(real_logits, fake_logits),
        }
        if self.perceptual is not None:
            parts["perceptual"] = self.perceptual(sr, hr)
        total = (self.pixel_weight * parts["pixel"] + self.gan_weight * parts["gan"]
                 + self.perceptual_weight * parts.get("perceptual", 0))
        return total, {name: float(value.detach()) for name, value in parts.items()} | {"total": float(total.detach())}
