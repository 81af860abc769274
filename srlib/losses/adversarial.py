"""Adversarial losses on discriminator logits: the standard GAN (SRGAN) and the relativistic average
GAN (ESRGAN, the paper). Taught in notebook 05.

The discriminator outputs logits C(x); D = sigmoid(C) lives inside the losses, where
``binary_cross_entropy_with_logits`` computes it stably.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


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
