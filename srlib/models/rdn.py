"""RDN (Zhang et al. 2018): residual dense blocks with local and global feature fusion.

Full (configuration B): G0 = 64, D = 16 blocks, C = 8 convs per block, growth G = 64.

Taught in notebook 02.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .blocks import upsample_factors


class RDB(nn.Module):
    """C densely connected conv+ReLU layers, fused back to G0 channels by a 1x1 conv, plus the input."""

    def __init__(self, num_feat: int, growth: int, num_layer: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(num_feat + i * growth, growth, 3, 1, 1) for i in range(num_layer))
        self.fuse = nn.Conv2d(num_feat + num_layer * growth, num_feat, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for conv in self.convs:
            features.append(F.relu(conv(torch.cat(features, 1))))
        return x + self.fuse(torch.cat(features, 1))


class RDN(nn.Module):
    """RDN generator: shallow features, D residual dense blocks, global fusion, sub-pixel upsampling."""

    def __init__(self, scale: int = 4, num_feat: int = 64, num_block: int = 16, num_layer: int = 8,
                 growth: int = 64, num_ch: int = 3) -> None:
        super().__init__()
        self.scale = scale
        self.sfe1 = nn.Conv2d(num_ch, num_feat, 3, 1, 1)
        self.sfe2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.blocks = nn.ModuleList(RDB(num_feat, growth, num_layer) for _ in range(num_block))
        self.gff = nn.Sequential(nn.Conv2d(num_block * num_feat, num_feat, 1), nn.Conv2d(num_feat, num_feat, 3, 1, 1))
        stages: list[nn.Module] = []
        width = num_feat
        for r in upsample_factors(scale):
            stages += [nn.Conv2d(width, growth * r * r, 3, 1, 1), nn.PixelShuffle(r)]
            width = growth
        self.upsample = nn.Sequential(*stages, nn.Conv2d(width, num_ch, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shallow = self.sfe1(x)
        feat = self.sfe2(shallow)
        local = []
        for block in self.blocks:
            feat = block(feat)
            local.append(feat)
        return self.upsample(self.gff(torch.cat(local, 1)) + shallow)
