"""Upscaling images with a trained generator: any size (overlapping tiles), gray / RGB / RGBA,
8- or 16-bit, optional x8 self-ensemble.

Precision (:func:`srlib.hardware.precision_dtype`): ``auto`` is fp16 on CUDA and fp32 on the CPU; bf16 on the CPU is
there on request, fast only where the CPU has it natively (:mod:`srlib.hardware`; ``make bench``
measures its speed and quality on this machine); fp16 is for CUDA only.

Taught in notebook 02.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..data.dataset import d4
from ..data.image_io import from_float, image_to_tensor, split_alpha, to_float, to_rgb
from ..data.resize import imresize
from ..hardware import precision_dtype
from ..models.tiling import tiled_forward
from ..models.winograd import winograd_network


def super_resolve(model: nn.Module, x: torch.Tensor, scale: int, tile: int | None = None, overlap: int = 8,
                  self_ensemble: bool = False, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Model output for a batch (N, 3, H, W) in [0, 1], as float32.

    ``dtype`` is the precision the model runs in: by default fp16 on CUDA and fp32 on the CPU
    (:func:`precision_dtype`); bf16 on either on request.

    The model is put in eval mode and converted in place (dtype; channels-last on the CPU).
    """
    device = next(model.parameters(), torch.empty(0)).device  # parameter-free models run on the CPU
    dtype = dtype or precision_dtype("auto", device)
    if dtype == torch.float16 and device.type != "cuda":
        raise ValueError("float16 is for CUDA only; on the CPU use bfloat16 (fast where the CPU has native bf16) "
                         "or float32")
    model = model.to(dtype).eval()
    x = x.to(device=device, dtype=dtype)
    if device.type == "cpu":
        x = x.contiguous(memory_format=torch.channels_last)
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs lack it

    # RRDBNets on the CPU in float32 run as Winograd convolutions: the same outputs to ~1e-5 in about 3/5 of the
    # time (srlib.models.winograd); any other network, device or precision runs as it is
    network = winograd_network(model) if device.type == "cpu" and dtype == torch.float32 else model

    def run(inp: torch.Tensor) -> torch.Tensor:
        return tiled_forward(network, inp, scale, tile, overlap) if tile else network(inp)

    with torch.inference_mode():
        if not self_ensemble:
            y = run(x)
        else:
            y = run(x)  # the identity; then the other seven, summed as they come (one output held at a time)
            for k in range(1, 8):
                y = y + d4(run(d4(x, k)), k, inverse=True)
            y = y / 8
        if not torch.isfinite(y).all():  # clamped, NaN would become a black image reported as a success
            raise FloatingPointError("the network's output is not finite (NaN or inf): its weights are broken, or "
                                     "fp16 overflowed (try fp32)")
        return y.float().clamp_(0, 1)  # in place: an image-sized copy less


def upscale(model: nn.Module, image: np.ndarray, scale: int, tile: int | None = None, overlap: int = 8,
            self_ensemble: bool = False, dtype: torch.dtype | None = None) -> np.ndarray:
    """Upscale an HxW / HxWx3 / HxWx4 uint8 or uint16 image; the result has the same form and depth.
    ``dtype`` is the precision of the network (see :func:`super_resolve`).

    Gray images go through the model as RGB and come back as the channel mean; an alpha channel is
    upscaled separately with the MATLAB bicubic.
    """
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"upscale: expected a uint8 or uint16 image, got {image.dtype}")
    color, alpha = split_alpha(image)
    gray = color.ndim == 2
    x = image_to_tensor(to_rgb(color))
    y = super_resolve(model, x, scale, tile, overlap, self_ensemble, dtype)[0].cpu()  # (3, H, W)
    if gray:
        y = y.mean(dim=0, keepdim=True)
    if alpha is not None:  # RGBA (the colour part is never gray)
        big_alpha = np.clip(imresize(to_float(alpha), scale), 0, 1)
        return from_float(np.dstack([y.permute(1, 2, 0).numpy(), big_alpha]), image.dtype.type)
    # from_float in place: the float output is the largest thing an upscale holds, and NumPy's clip / scale /
    # round would each make another of it (4 bytes a sample) before the integer image exists
    integer = torch.uint8 if image.dtype == np.uint8 else torch.int32  # torch lacks uint16 arithmetic
    with torch.inference_mode():  # the output is an inference tensor: only changed in place in this mode
        y = y.mul_(float(np.iinfo(image.dtype).max)).add_(0.5).floor_().to(integer)
    pixels = y.permute(1, 2, 0).contiguous().numpy().astype(image.dtype, copy=False)
    return pixels[:, :, 0] if gray else pixels
