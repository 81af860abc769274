"""EDSR (Lim et al. 2017): plain residual blocks without batch-norm, residual scaling, sub-pixel tail.

Baseline: 16 blocks x 64 features, scaling 1. Full: 32 blocks x 256 features, scaling 0.1.
Inputs in [0, 1] are shifted by the DIV2K RGB mean inside the network, as in the reference code.

Taught in notebook 02.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import DIV2K_RGB_MEAN, pixelshuffle_upsampler


class EDSRBlock(nn.Module):
    """conv - ReLU - conv, scaled by ``res_scale`` and added to the input."""

    def __init__(self, num_feat: int, res_scale: float) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(num_feat, num_feat, 3, 1, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(num_feat, num_feat, 3, 1, 1))
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.body(x)


class EDSR(nn.Module):
    mean: torch.Tensor  # a buffer
    """EDSR generator; ``EDSR()`` is the baseline, ``EDSR(num_feat=256, num_block=32, res_scale=0.1)`` the full
    model."""

    def __init__(self, scale: int = 4, num_feat: int = 64, num_block: int = 16, res_scale: float = 1.0,
                 num_ch: int = 3) -> None:
        super().__init__()
        self.scale = scale
        self.register_buffer("mean", torch.tensor(DIV2K_RGB_MEAN[:num_ch]).view(1, num_ch, 1, 1), persistent=False)
        self.head = nn.Conv2d(num_ch, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[EDSRBlock(num_feat, res_scale) for _ in range(num_block)],
                                  nn.Conv2d(num_feat, num_feat, 3, 1, 1))
        self.tail = nn.Sequential(pixelshuffle_upsampler(num_feat, scale), nn.Conv2d(num_feat, num_ch, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.head(x - self.mean)
        return self.tail(feat + self.body(feat)) + self.mean
