"""RRDBNet, ESRGAN's generator: residual-in-residual dense blocks, no batch-norm, residual scaling.

Parameter names follow BasicSR / Real-ESRGAN (``conv_first``, ``body.N.rdb1.conv1``, ...), so their
checkpoints load as they are; ``srlib.models.weights`` converts the original ESRGAN layouts.

Taught in notebook 02.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .blocks import upsample_factors


def _scaled_kaiming_(module: nn.Module, scale: float = 0.1) -> None:
    """Kaiming-normal init scaled down (x0.1): keeps a deep residual stack near identity at start."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight)
            m.weight.data.mul_(scale)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3x3 convs; the output is scaled by ``res_scale`` (0.2) and added to the input."""

    def __init__(self, num_feat: int = 64, num_grow_ch: int = 32, res_scale: float = 0.2,
                 init_scale: float = 0.1) -> None:
        super().__init__()
        self.res_scale = res_scale
        self.conv1 = nn.Conv2d(num_feat, num_grow_ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)
        _scaled_kaiming_(self, init_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = F.leaky_relu(self.conv1(x), 0.2, inplace=True)  # in place: one pass over memory fewer
        x2 = F.leaky_relu(self.conv2(torch.cat((x, x1), 1)), 0.2, inplace=True)
        x3 = F.leaky_relu(self.conv3(torch.cat((x, x1, x2), 1)), 0.2, inplace=True)
        x4 = F.leaky_relu(self.conv4(torch.cat((x, x1, x2, x3), 1)), 0.2, inplace=True)
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return torch.add(x, x5, alpha=self.res_scale)  # x + res_scale * x5 in one kernel


class RRDB(nn.Module):
    """Residual-in-residual dense block: three dense blocks, the whole scaled by ``res_scale`` and added."""

    def __init__(self, num_feat: int = 64, num_grow_ch: int = 32, res_scale: float = 0.2,
                 init_scale: float = 0.1) -> None:
        super().__init__()
        self.res_scale = res_scale
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch, res_scale, init_scale)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch, res_scale, init_scale)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch, res_scale, init_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.add(x, self.rdb3(self.rdb2(self.rdb1(x))), alpha=self.res_scale)


class RRDBNet(nn.Module):
    """ESRGAN generator. Defaults (x4, 64 features, 23 RRDBs, growth 32) have 16,697,987 parameters.

    ``upsampler="nearest"`` is ESRGAN's nearest-neighbour x2 + conv per stage; ``"pixelshuffle"``
    uses sub-pixel convolutions, as the ESRGAN-Pro paper describes its upsampling layers.
    ``res_scale`` (0.2) and ``init_scale`` (0.1) are the two stabilisers of the deep trunk; other
    values exist for the experiments of notebook 02. ``unshuffle`` > 1 is BasicSR's layout for x2 and x1
    models (Real-ESRGAN x2plus): the input is folded into ``unshuffle**2`` times the channels at
    ``1/unshuffle`` of the size, and the trunk then upscales by ``scale * unshuffle``.
    """

    def __init__(self, scale: int = 4, num_feat: int = 64, num_block: int = 23, num_grow_ch: int = 32,
                 num_in_ch: int = 3, num_out_ch: int = 3, upsampler: str = "nearest", res_scale: float = 0.2,
                 init_scale: float = 0.1, unshuffle: int = 1) -> None:
        super().__init__()
        if upsampler not in ("nearest", "pixelshuffle"):
            raise ValueError(f"upsampler must be 'nearest' or 'pixelshuffle', got {upsampler!r}")
        self.scale, self.upsampler, self.unshuffle = scale, upsampler, unshuffle
        self.factors = upsample_factors(scale * unshuffle)
        self.conv_first = nn.Conv2d(num_in_ch * unshuffle**2, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow_ch, res_scale, init_scale) for _ in range(num_block)])
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        widen = (lambda r: r * r) if upsampler == "pixelshuffle" else (lambda r: 1)
        for i, r in enumerate(self.factors, start=1):
            self.add_module(f"conv_up{i}", nn.Conv2d(num_feat, num_feat * widen(r), 3, 1, 1))
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)

    def head(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """The features the trunk starts from, and the input size (for the crop of unshuffled inputs)."""
        h, w = x.shape[-2:]
        if self.unshuffle > 1:  # fold the input; sizes that do not divide are padded, and cropped at the end
            u = self.unshuffle
            x = F.pixel_unshuffle(F.pad(x, (0, -w % u, 0, -h % u), mode="reflect"), u)
        return self.conv_first(x), (h, w)

    def tail(self, feat: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Upsampling and the last convolutions, from the trunk's output plus its input (the long skip)."""
        for i, r in enumerate(self.factors, start=1):
            conv = getattr(self, f"conv_up{i}")
            if self.upsampler == "nearest":
                feat = F.leaky_relu(conv(F.interpolate(feat, scale_factor=r, mode="nearest")), 0.2)
            else:
                feat = F.leaky_relu(F.pixel_shuffle(conv(feat), r), 0.2)
        out = self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))
        h, w = size
        return out[..., : h * self.scale, : w * self.scale] if self.unshuffle > 1 else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat, size = self.head(x)
        return self.tail(feat + self.conv_body(self.body(feat)), size)
