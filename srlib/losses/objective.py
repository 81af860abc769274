"""The generator objective of the paper's Eq. 1, ``L_G = L_percep + lambda * L_G^Ra + eta * L_pix``.
Taught in notebook 05."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .adversarial import ragan_g_loss
from .pixel import l1_loss


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


def colour_pull(loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], sr: torch.Tensor,
                hr: torch.Tensor) -> torch.Tensor:
    """How hard, and which way, a loss term pushes an image's overall colour: the gradient of
    ``loss(sr + offset, hr)`` with respect to one offset per colour channel added to every pixel, at offset 0
    (shape (3,)). A gradient step moves the channel means against its sign; a term whose pull dwarfs the pixel
    term's can cast the output whatever the pixel term says."""
    offset = torch.zeros(1, sr.shape[1], 1, 1, device=sr.device, requires_grad=True)
    (gradient,) = torch.autograd.grad(loss(sr.detach() + offset, hr), offset)
    return gradient.view(-1)
