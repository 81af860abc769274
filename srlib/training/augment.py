"""Differentiable augmentation of the discriminator's inputs, the remedy for a GAN trained on a few
photos. Taught in notebook 05.

On seven training photos the discriminator memorises them within a hundred steps: its loss falls to
~0.1, it scores the generator's held-out output as fake with certainty, and what the generator then
learns from it is noise, not texture. Zhao et al. ("Differentiable Augmentation for Data-Efficient GAN
Training", NeurIPS 2020) show a cure: let D see every image, real or generated, through random colour,
translation and cutout changes, in both the D step and the G step. The changes are differentiable,
so the generator's gradient flows through them, and D can no longer tell the photos apart by heart.

The random draws come from the global torch generator, which a checkpoint saves: a resumed run
augments exactly as one that never stopped.
"""

from __future__ import annotations

import torch

from .config import listed


def augment_for_discriminator(images: torch.Tensor, policy: str = "colour,translation,cutout") -> torch.Tensor:
    """The ``policy``'s changes, drawn per image of an (N, C, H, W) batch in [0, 1]: random colour,
    translation (up to 1/8 of the side), cutout (a square of half the side); differentiable in ``images``."""
    steps = {"colour": color_jitter, "translation": translate, "cutout": cutout}
    for name in listed(policy):
        images = steps[name](images)
    return images


def color_jitter(images: torch.Tensor) -> torch.Tensor:
    """Shift brightness by up to +-0.25, scale saturation and contrast by 0.5-1.5, each drawn per image."""
    n = images.shape[0]

    def draw(low: float, high: float) -> torch.Tensor:
        return torch.empty(n, 1, 1, 1).uniform_(low, high).to(images)

    images = images + draw(-0.25, 0.25)
    gray = images.mean(dim=1, keepdim=True)
    images = gray + (images - gray) * draw(0.5, 1.5)
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return mean + (images - mean) * draw(0.5, 1.5)


def translate(images: torch.Tensor, fraction: float = 1 / 8) -> torch.Tensor:
    """Move each image by up to ``fraction`` of its side in x and y, filling the uncovered border with zeros."""
    n, _, h, w = images.shape
    pad_y, pad_x = int(h * fraction), int(w * fraction)
    padded = torch.nn.functional.pad(images, (pad_x, pad_x, pad_y, pad_y))
    shift_y = torch.randint(-pad_y, pad_y + 1, (n, 1, 1))
    shift_x = torch.randint(-pad_x, pad_x + 1, (n, 1, 1))
    rows = (torch.arange(h).view(1, h, 1) + pad_y - shift_y).expand(n, h, w)
    cols = (torch.arange(w).view(1, 1, w) + pad_x - shift_x).expand(n, h, w)
    batch = torch.arange(n).view(n, 1, 1).expand(n, h, w)
    device = images.device
    return padded.permute(0, 2, 3, 1)[batch.to(device), rows.to(device), cols.to(device)].permute(0, 3, 1, 2)


def cutout(images: torch.Tensor, fraction: float = 1 / 2) -> torch.Tensor:
    """Zero one square of ``fraction`` of the side per image, at a random place (it may overhang the border)."""
    n, _, h, w = images.shape
    size_y, size_x = int(h * fraction), int(w * fraction)
    top = torch.randint(0, h + 1 - size_y % 2, (n, 1, 1)) - size_y // 2
    left = torch.randint(0, w + 1 - size_x % 2, (n, 1, 1)) - size_x // 2
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    hole = (rows >= top) & (rows < top + size_y) & (cols >= left) & (cols < left + size_x)
    return images * (~hole).unsqueeze(1).to(images)
