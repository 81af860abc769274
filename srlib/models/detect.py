"""Which network a weights file holds, read from its state dict's names and shapes (as spandrel does), so
that ``srlib upscale --model FILE`` needs no ``--arch``.

RRDBNet is read off exactly: blocks, features, growth, the upsampler (nearest or sub-pixel) and BasicSR's
pixel-unshuffle layout of x2 / x1 models. Other families are matched against the presets of
:data:`srlib.models.ARCHITECTURES`, built on PyTorch's ``meta`` device (shapes only, no memory).

Taught in notebook 02.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .registry import ARCHITECTURES, build_model
from .rrdbnet import RRDBNet
from .weights import CheckpointError, load_weights, to_rrdbnet_layout

SCALES = (1, 2, 3, 4, 8)
_NOT_UPSCALERS = {"bicubic", "vgg_discriminator", "srn_deblur", "srn_deblur_small"}


def rrdbnet_arguments(state: dict[str, torch.Tensor]) -> tuple[dict, set[int]] | None:
    """RRDBNet's constructor arguments (all but ``scale``) and the scales the weights fit; None if
    ``state`` is not an RRDBNet (any layout :func:`to_rrdbnet_layout` knows)."""
    state, _ = to_rrdbnet_layout(state)
    if "conv_first.weight" not in state or "body.0.rdb1.conv1.weight" not in state:
        return None
    num_feat, in_ch = state["conv_first.weight"].shape[:2]
    num_out_ch = state["conv_last.weight"].shape[0]
    # BasicSR folds x2 / x1 inputs into 4x / 16x the channels (pixel unshuffle), then upscales x4
    unshuffle = int(math.isqrt(in_ch // num_out_ch)) if in_ch in (4 * num_out_ch, 16 * num_out_ch) else 1
    ups = [state[f"conv_up{i}.weight"] for i in range(1, 4) if f"conv_up{i}.weight" in state]
    widen = ups[0].shape[0] // num_feat if ups else 1
    if widen == 1:  # nearest-neighbour stages: x2 each, or a single x3
        trunk = {0: {1}, 1: {2, 3}, 2: {4}, 3: {8}}[len(ups)]
    else:  # sub-pixel stages say their factor: num_feat * r^2 channels
        trunk = {math.prod(math.isqrt(u.shape[0] // num_feat) for u in ups)}
    arguments = {"num_feat": num_feat, "num_grow_ch": state["body.0.rdb1.conv1.weight"].shape[0],
                 "num_block": 1 + max(int(k.split(".")[1]) for k in state if k.startswith("body.")),
                 "num_in_ch": in_ch // unshuffle**2, "num_out_ch": num_out_ch, "unshuffle": unshuffle,
                 "upsampler": "nearest" if widen == 1 else "pixelshuffle"}
    return arguments, {t // unshuffle for t in trunk if t % unshuffle == 0}


def _differences(model: nn.Module, state: dict[str, torch.Tensor]) -> int:
    own = model.state_dict()
    return len(set(own) ^ set(state)) + sum(own[k].shape != state[k].shape for k in set(own) & set(state))


def model_for_weights(state: dict[str, torch.Tensor], scale: int | None = None) -> tuple[nn.Module, int, str]:
    """The network ``state`` belongs to, with the weights loaded: (model, its scale, what was found).

    ``scale`` decides between the scales a layout allows (a nearest-neighbour RRDBNet stage is x2 or x3)
    and must agree with the weights. A state dict that fits nothing raises :class:`CheckpointError`
    naming the families tried and the closest one.
    """
    rrdb = rrdbnet_arguments(state)
    if rrdb is not None:
        arguments, scales = rrdb
        return _built(RRDBNet, arguments, scales, scale, state, "RRDBNet")
    closest, tried = None, []
    for name, (cls, preset) in ARCHITECTURES.items():
        if name in _NOT_UPSCALERS or cls is RRDBNet:
            continue
        tried.append(name)
        for s in (scale,) if scale else SCALES:
            with torch.device("meta"):  # shapes only: the largest presets cost nothing to build
                differences = _differences(build_model(name, scale=s), state)
            if differences == 0:
                return _built(cls, preset, {s}, s, state, name)
            if closest is None or differences < closest[0]:
                closest = (differences, f"{name} x{s}")
    if scale is not None:  # perhaps the right network at another scale: say that, not the nearest misfit
        _, other_scale, found = model_for_weights(state)  # raises below when nothing fits at any scale
        raise CheckpointError(f"these are x{other_scale} weights ({found}), not x{scale}")
    assert closest is not None  # at least one family was tried
    raise CheckpointError(f"the weights fit no known network: tried RRDBNet (any layout), {', '.join(tried)}; "
                          f"closest: {closest[1]} ({closest[0]} names or shapes differ); pass --arch to say which")


def _built(cls: type[nn.Module], arguments: dict, scales: set[int], scale: int | None,
           state: dict[str, torch.Tensor], family: str) -> tuple[nn.Module, int, str]:
    if not scales:
        raise CheckpointError(f"{family} weights with an upsampling layout that fits no scale")
    if scale is None:
        if len(scales) > 1:
            raise CheckpointError(f"{family} weights fit x{' and x'.join(map(str, sorted(scales)))} alike "
                                  "(nearest-neighbour stages have no scale in their shapes): pass --scale")
        scale = next(iter(scales))
    elif scale not in scales:
        raise CheckpointError(f"{family} weights are for x{' or x'.join(map(str, sorted(scales)))}, not x{scale}")
    model = cls(scale=scale, **arguments)
    load_weights(model, state)
    sizes = ", ".join(f"{k}={v}" for k, v in arguments.items() if k in ("num_block", "num_feat", "num_grow_ch"))
    return model.eval(), scale, f"{family} x{scale}" + (f" ({sizes})" if sizes else "")

