"""WDSR-A (Yu et al. 2018): wide activation before ReLU, weight normalisation, a 5x5 skip branch.

Full: 32 features, 16 blocks, expansion 4 (128 channels inside each block). The image is
normalised by the DIV2K mean inside the network, as in the reference code.

Taught in notebook 02.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from .blocks import DIV2K_RGB_MEAN


def _wn_conv(in_ch: int, out_ch: int, kernel: int) -> nn.Module:
    return weight_norm(nn.Conv2d(in_ch, out_ch, kernel, 1, kernel // 2))


class WideBlock(nn.Module):
    """conv (expand x``expansion``) - ReLU - conv (back), scaled and added to the input."""

    def __init__(self, num_feat: int, expansion: int, res_scale: float) -> None:
        super().__init__()
        self.body = nn.Sequential(_wn_conv(num_feat, num_feat * expansion, 3), nn.ReLU(inplace=True),
                                  _wn_conv(num_feat * expansion, num_feat, 3))
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.body(x)


class WDSR(nn.Module):
    mean: torch.Tensor  # a buffer
    """WDSR-A generator with a single sub-pixel stage of factor ``scale``."""

    def __init__(self, scale: int = 4, num_feat: int = 32, num_block: int = 16, expansion: int = 4,
                 res_scale: float = 1.0, num_ch: int = 3) -> None:
        super().__init__()
        self.scale = scale
        self.register_buffer("mean", torch.tensor(DIV2K_RGB_MEAN[:num_ch]).view(1, num_ch, 1, 1), persistent=False)
        out_ch = num_ch * scale * scale
        self.head = _wn_conv(num_ch, num_feat, 3)
        self.body = nn.Sequential(*[WideBlock(num_feat, expansion, res_scale) for _ in range(num_block)])
        self.tail = nn.Sequential(_wn_conv(num_feat, out_ch, 3), nn.PixelShuffle(scale))
        self.skip = nn.Sequential(_wn_conv(num_ch, out_ch, 5), nn.PixelShuffle(scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) * 2.0
        y = self.tail(self.body(self.head(x))) + self.skip(x)
        return y / 2.0 + self.mean
