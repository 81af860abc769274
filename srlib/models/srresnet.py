"""SRResNet, SRGAN's generator: residual blocks of conv-BN-PReLU-conv-BN, two x2 sub-pixel stages.

``batch_norm=False`` gives the BN-free form that ESRGAN argues for (batch statistics differ between
training patches and test images, which shows up as artifacts).

Taught in notebook 02.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import upsample_factors


class ResidualBlock(nn.Module):
    """conv 3x3 - [BN] - PReLU - conv 3x3 - [BN], added to the input."""

    def __init__(self, num_feat: int = 64, batch_norm: bool = True) -> None:
        super().__init__()
        norm = (lambda: nn.BatchNorm2d(num_feat)) if batch_norm else nn.Identity
        self.body = nn.Sequential(
            nn.Conv2d(num_feat, num_feat, 3, 1, 1), norm(), nn.PReLU(num_feat),
            nn.Conv2d(num_feat, num_feat, 3, 1, 1), norm(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    """SRGAN generator (Ledig et al. 2017): 9x9 head, 16 residual blocks, global skip, sub-pixel upsampling."""

    def __init__(self, scale: int = 4, num_feat: int = 64, num_block: int = 16, batch_norm: bool = True,
                 num_in_ch: int = 3, num_out_ch: int = 3) -> None:
        super().__init__()
        self.scale = scale
        self.head = nn.Sequential(nn.Conv2d(num_in_ch, num_feat, 9, 1, 4), nn.PReLU(num_feat))
        self.body = nn.Sequential(*[ResidualBlock(num_feat, batch_norm) for _ in range(num_block)])
        self.body_tail = nn.Sequential(
            nn.Conv2d(num_feat, num_feat, 3, 1, 1), nn.BatchNorm2d(num_feat) if batch_norm else nn.Identity()
        )
        self.upsample = nn.Sequential(*[
            layer for r in upsample_factors(scale)
            for layer in (nn.Conv2d(num_feat, num_feat * r * r, 3, 1, 1), nn.PixelShuffle(r), nn.PReLU(num_feat))
        ])
        self.tail = nn.Conv2d(num_feat, num_out_ch, 9, 1, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.head(x)
        feat = feat + self.body_tail(self.body(feat))
        return self.tail(self.upsample(feat))
