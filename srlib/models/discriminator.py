"""The VGG-style discriminator of SRGAN / ESRGAN, for any patch size that is a multiple of 32.

Ten convolutions (3x3 stride 1 then 4x4 stride 2, channels 64 -> 512), batch-norm, LeakyReLU 0.2,
then FC 100 and FC 1. It returns logits; the sigmoid lives in the loss. ESRGAN's GAN stage uses
128x128 patches, ESRGAN-Pro 192x192: the first FC layer is sized for ``input_size``.

Taught in notebooks 02 and 05.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn


def _conv_block(in_ch: int, out_ch: int, kernel: int, stride: int, batch_norm: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, kernel, stride, 1, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_ch))
    return layers + [nn.LeakyReLU(0.2, inplace=True)]


class VGGDiscriminator(nn.Module):
    """Patch classifier for ``input_size`` x ``input_size`` images (128, 192, 256, ...)."""

    def __init__(self, input_size: int = 128, num_in_ch: int = 3, num_feat: int = 64) -> None:
        super().__init__()
        if input_size % 32:
            raise ValueError(f"VGGDiscriminator: input_size must be a multiple of 32, got {input_size}")
        self.input_size = input_size
        widths = [num_feat, num_feat * 2, num_feat * 4, num_feat * 8, num_feat * 8]
        layers = _conv_block(num_in_ch, widths[0], 3, 1, batch_norm=False)
        layers += _conv_block(widths[0], widths[0], 4, 2)
        for prev, width in itertools.pairwise(widths):
            layers += _conv_block(prev, width, 3, 1) + _conv_block(width, width, 4, 2)
        self.features = nn.Sequential(*layers)
        side = input_size // 32
        self.classifier = nn.Sequential(
            nn.Linear(widths[-1] * side * side, 100), nn.LeakyReLU(0.2, inplace=True), nn.Linear(100, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.input_size, self.input_size):
            raise ValueError(
                f"VGGDiscriminator built for {self.input_size}x{self.input_size} patches got "
                f"{x.shape[-1]}x{x.shape[-2]}; build it with input_size={x.shape[-1]}"
            )
        return self.classifier(torch.flatten(self.features(x), 1))
