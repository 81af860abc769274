"""Build a network by name, with any constructor argument overridden (for notebooks and papermill).

Taught in notebook 02.
"""

from __future__ import annotations

import torch
from torch import nn

from ..data.resize import imresize
from .discriminator import VGGDiscriminator
from .edsr import EDSR
from .rdn import RDN
from .rrdbnet import RRDBNet
from .srn_deblur import SRNDeblur
from .srresnet import SRResNet
from .wdsr import WDSR


class Bicubic(nn.Module):
    """MATLAB bicubic upscaling as a "model": the baseline, and a pipeline check with known output."""

    def __init__(self, scale: int = 4) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return imresize(x, self.scale)


# name -> (class, preset arguments). "_small" entries are the CPU-sized versions used by default runs.
ARCHITECTURES: dict[str, tuple[type[nn.Module], dict]] = {
    "rrdbnet": (RRDBNet, {}),
    "rrdbnet_small": (RRDBNet, {"num_feat": 32, "num_block": 3, "num_grow_ch": 16}),
    "srresnet": (SRResNet, {}),
    "srresnet_nobn": (SRResNet, {"batch_norm": False}),
    "edsr_baseline": (EDSR, {}),
    "edsr": (EDSR, {"num_feat": 256, "num_block": 32, "res_scale": 0.1}),
    "edsr_small": (EDSR, {"num_feat": 32, "num_block": 4}),
    "wdsr_a": (WDSR, {}),
    "wdsr_a_small": (WDSR, {"num_feat": 16, "num_block": 4}),
    "rdn": (RDN, {}),
    "rdn_small": (RDN, {"num_feat": 32, "num_block": 4, "num_layer": 4, "growth": 16}),
    "srn_deblur": (SRNDeblur, {}),
    "srn_deblur_small": (SRNDeblur, {"num_feat": 16, "num_res": 2}),
    "vgg_discriminator": (VGGDiscriminator, {}),
    "bicubic": (Bicubic, {}),
}


def build_model(name: str, **overrides) -> nn.Module:
    """``build_model("rrdbnet", num_block=10, scale=2)``: the preset of ``name`` with ``overrides``."""
    if name not in ARCHITECTURES:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    cls, preset = ARCHITECTURES[name]
    return cls(**{**preset, **overrides})


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def flops_per_pixel(model: nn.Module, scale: int, size: int = 16) -> float:
    """Convolution FLOPs (2 x multiply-adds) per LR input pixel, counted on a ``size`` x ``size`` input."""
    total = 0.0

    def count(module: nn.Conv2d, inputs, output) -> None:
        nonlocal total
        k = module.kernel_size[0] * module.kernel_size[1]
        total += 2.0 * module.in_channels // module.groups * k * output.numel()

    device = next(model.parameters()).device
    handles = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, size, size, device=device))
    finally:
        for h in handles:
            h.remove()
    return total / size**2


def block_output_stds(model: nn.Module, blocks: nn.Module, x: torch.Tensor) -> list[float]:
    """Standard deviation of the features after each child of ``blocks`` during ``model(x)``."""
    stds: list[float] = []
    handles = [b.register_forward_hook(lambda m, i, o: stds.append(o.std().item())) for b in blocks.children()]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return stds
