"""SRN-Deblur (Tao et al., "Scale-recurrent Network for Deep Image Deblurring", CVPR 2018).

The post-processing ESRGAN-Pro considered and rejected in favour of back-projection. One
encoder-decoder, its weights shared across three scales (1/4, 1/2, 1), runs coarse to fine: at each
scale it sees the blurry image and the upsampled estimate of the scale below, and a convolutional
LSTM at the bottleneck carries its hidden state (upsampled) from scale to scale. Blocks: a 5x5
input convolution (32 channels), two stride-2 encoder stages (64, 128), two transposed-convolution
decoder stages with additive skips, three residual blocks per stage, 5x5 kernels throughout.
One liberty: each scale's output is added to its input (the network starts as the identity), which
a few hundred CPU steps of training need; the published network predicts the image directly.

``forward`` returns the finest estimate; ``forward_scales`` all three (for a multi-scale loss).
``scale`` is accepted for the course's model builder and must be 1 (a deblurring network keeps the size).

Taught in notebook 06.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ResBlock(nn.Module):
    def __init__(self, ch: int, kernel: int = 5) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, kernel, padding=kernel // 2), nn.ReLU(inplace=True),
                                  nn.Conv2d(ch, ch, kernel, padding=kernel // 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ConvLSTM(nn.Module):
    """A convolutional LSTM cell: the four gates from one convolution of [input, hidden]."""

    def __init__(self, ch: int, kernel: int = 5) -> None:
        super().__init__()
        self.gates = nn.Conv2d(2 * ch, 4 * ch, kernel, padding=kernel // 2)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        i, f, o, g = self.gates(torch.cat([x, h], 1)).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


class ConvRecurrence(nn.Module):
    """The lighter alternative to the LSTM: ``h' = relu(conv([x, h]))`` (the state is ``(h, h)``)."""

    def __init__(self, ch: int, kernel: int = 5) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2 * ch, ch, kernel, padding=kernel // 2)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(self.conv(torch.cat([x, state[0]], 1)))
        return h, h


class SRNDeblur(nn.Module):
    def __init__(self, scale: int = 1, num_feat: int = 32, num_res: int = 3, num_scales: int = 3,
                 recurrent: str = "convlstm") -> None:
        super().__init__()
        if scale != 1:
            raise ValueError(f"SRNDeblur restores an image at its own size: scale must be 1, got {scale}")
        if recurrent not in ("convlstm", "conv"):
            raise ValueError(f"recurrent must be 'convlstm' or 'conv', got {recurrent!r}")
        f1, f2, f3 = num_feat, 2 * num_feat, 4 * num_feat
        res = lambda ch: [ResBlock(ch) for _ in range(num_res)]  # noqa: E731
        self.num_scales = num_scales
        self.encoder1 = nn.Sequential(nn.Conv2d(6, f1, 5, padding=2), nn.ReLU(inplace=True), *res(f1))
        self.encoder2 = nn.Sequential(nn.Conv2d(f1, f2, 5, stride=2, padding=2), nn.ReLU(inplace=True), *res(f2))
        self.encoder3 = nn.Sequential(nn.Conv2d(f2, f3, 5, stride=2, padding=2), nn.ReLU(inplace=True), *res(f3))
        self.recurrent = ConvLSTM(f3) if recurrent == "convlstm" else ConvRecurrence(f3)
        up = lambda cin, cout: [nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1), nn.ReLU(inplace=True)]  # noqa: E731
        self.decoder3 = nn.Sequential(*res(f3), *up(f3, f2))
        self.decoder2 = nn.Sequential(*res(f2), *up(f2, f1))
        self.decoder1 = nn.Sequential(*res(f1), nn.Conv2d(f1, 3, 5, padding=2))

    def forward_scales(self, blurry: torch.Tensor) -> list[torch.Tensor]:
        """Estimates from the coarsest scale to the finest (input size)."""
        multiple = 4 * 2 ** (self.num_scales - 1)  # two stride-2 stages at the coarsest scale
        h, w = blurry.shape[-2:]
        padded = F.pad(blurry, (0, -w % multiple, 0, -h % multiple), mode="replicate")
        outputs, estimate, state = [], None, None
        for k in reversed(range(self.num_scales)):
            x = F.interpolate(padded, scale_factor=0.5**k, mode="bilinear", align_corners=False) if k else padded
            estimate = x if estimate is None else F.interpolate(estimate, size=x.shape[-2:], mode="bilinear",
                                                                align_corners=False)
            e1 = self.encoder1(torch.cat([x, estimate.detach()], 1))
            e2 = self.encoder2(e1)
            e3 = self.encoder3(e2)
            if state is None:
                state = (torch.zeros_like(e3), torch.zeros_like(e3))
            else:
                hidden, cell = (F.interpolate(s, size=e3.shape[-2:], mode="bilinear", align_corners=False)
                                for s in state)
                state = (hidden, cell)
            state = self.recurrent(e3, state)
            d2 = self.decoder3(state[0]) + e2
            d1 = self.decoder2(d2) + e1
            estimate = self.decoder1(d1) + x  # residual on the blurry input of this scale
            outputs.append(estimate)
        ph, pw = padded.shape[-2:]
        return [o[..., : (o.shape[-2] * h) // ph, : (o.shape[-1] * w) // pw] for o in outputs]

    def forward(self, blurry: torch.Tensor) -> torch.Tensor:
        return self.forward_scales(blurry)[-1]
