"""Network interpolation (ESRGAN, Wang et al. 2018, section 3.4): one knob between a PSNR-oriented network and
a GAN network of the same architecture, by blending their weights. Taught in notebook 05.

ESRGAN fine-tunes the GAN generator from the PSNR one, so the two sit in one basin of the loss landscape and
the weights in between are a working network too: ``alpha = 0`` is the PSNR network, ``alpha = 1`` the GAN,
and the values between trade distortion (PSNR, RMSE) for naturalness (NIQE) smoothly, without the
noise that blending the two output *images* keeps. Two networks trained apart, even of one architecture,
need not blend well: the method needs a shared starting point, not only a shared shape.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .weights import CheckpointError


def interpolate(psnr_network: nn.Module, gan_network: nn.Module, alpha: float) -> nn.Module:
    """A new network with weights ``(1 - alpha) * psnr_network + alpha * gan_network``, parameter by parameter
    (buffers too), in eval mode. Networks of different classes, parameter names or shapes are refused."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"interpolation alpha must be between 0 and 1, got {alpha}")
    if type(psnr_network) is not type(gan_network):
        raise CheckpointError(f"cannot interpolate a {type(psnr_network).__name__} with a "
                              f"{type(gan_network).__name__}: both networks must have one architecture")
    a, b = psnr_network.state_dict(), gan_network.state_dict()
    differ = sorted(set(a) ^ set(b)) + sorted(k for k in set(a) & set(b) if a[k].shape != b[k].shape)
    if differ:
        shown = ", ".join(differ[:6]) + (f" ... ({len(differ)} in all)" if len(differ) > 6 else "")
        raise CheckpointError(f"cannot interpolate two {type(psnr_network).__name__}s of different sizes: {shown} "
                              "differ in name or shape")
    blended = {k: torch.lerp(a[k].float(), b[k].float(), alpha).to(a[k].dtype) if a[k].is_floating_point()
               else a[k] for k in a}
    network = copy.deepcopy(psnr_network)
    network.load_state_dict(blended)
    return network.eval()
