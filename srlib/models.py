"""Build a network by name, with any constructor argument overridden (for notebooks and papermill)."""

from __future__ import annotations

from torch import nn

from .discriminator import VGGDiscriminator
from .edsr import EDSR
from .rdn import RDN
from .rrdbnet import RRDBNet
from .srresnet import SRResNet
from .wdsr import WDSR

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
    "vgg_discriminator": (VGGDiscriminator, {}),
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
