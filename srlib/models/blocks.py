"""What the generator families share: the x2 / x3 stages of a scale factor, the sub-pixel upsampler
and the DIV2K mean that EDSR and WDSR subtract. Taught in notebook 02."""

from __future__ import annotations

from torch import nn

DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)


def upsample_factors(scale: int) -> list[int]:
    """The x2 / x3 stages that make up a scale factor (4 -> [2, 2])."""
    factors = {1: [], 2: [2], 3: [3], 4: [2, 2], 8: [2, 2, 2]}
    if scale not in factors:
        raise ValueError(f"unsupported scale {scale}: use one of {sorted(factors)}")
    return factors[scale]


def pixelshuffle_upsampler(num_feat: int, scale: int) -> nn.Sequential:
    """conv (x r^2 channels) + PixelShuffle(r) for each x2 / x3 stage of ``scale``."""
    return nn.Sequential(*[layer for r in upsample_factors(scale)
                           for layer in (nn.Conv2d(num_feat, num_feat * r * r, 3, 1, 1), nn.PixelShuffle(r))])
