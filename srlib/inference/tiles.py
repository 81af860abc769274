"""Upscaling images with a trained generator: any size (overlapping tiles), gray / RGB / RGBA,
8- or 16-bit, optional x8 self-ensemble.

Precision (:func:`precision_dtype`): ``auto`` is fp16 on CUDA and fp32 on the CPU; bf16 on the CPU is
there on request, fast only where the CPU has it natively (:mod:`srlib.hardware`; ``make bench``
measures its speed and quality on this machine); fp16 is for CUDA only.

Taught in notebook 02.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..data.image_io import from_float, image_to_tensor, split_alpha, to_float, to_rgb
from ..data.resize import imresize

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def precision_dtype(precision: str, device: torch.device | str) -> torch.dtype:
    """The dtype a network runs in for ``precision`` (one of :data:`PRECISIONS`) on ``device``."""
    device = torch.device(device)
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("fp16 is for CUDA only; on the CPU use bf16 (fast where the CPU has native bf16) or fp32")
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def _d4(x: torch.Tensor, k: int, inverse: bool = False) -> torch.Tensor:
    """The k-th symmetry of the square on (N, C, H, W) (quarter turns, then a flip), or its inverse."""
    if inverse:
        x = x.flip(-1) if k >= 4 else x
        return torch.rot90(x, -(k % 4), dims=(-2, -1))
    x = torch.rot90(x, k % 4, dims=(-2, -1))
    return x.flip(-1) if k >= 4 else x


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, tile - overlap))
    return starts + [length - tile]


def _blend_weights(starts: list[int], tile: int, length: int, scale: int) -> list[torch.Tensor]:
    """1-D weights of each tile's output that sum to exactly 1 along the whole axis: linear
    cross-fades over each overlap between neighbours (the last tile, aligned to the border, may
    overlap more), 1 elsewhere, normalised per axis (so their 2-D products sum to 1 too and no
    image-sized normalisation buffer is needed)."""
    ends = [min(s + tile, length) for s in starts]
    weights = []
    for i, (start, end) in enumerate(zip(starts, ends)):
        w = torch.ones((end - start) * scale)
        if i > 0:  # fade in over the overlap with the previous tile
            n = (ends[i - 1] - start) * scale
            w[:n] = (torch.arange(n) + 0.5) / n
        if i < len(starts) - 1:  # fade out over the overlap with the next tile
            n = (end - starts[i + 1]) * scale
            w[len(w) - n :] *= 1 - (torch.arange(n) + 0.5) / n
        weights.append(w)
    total = torch.zeros(length * scale)
    for start, w in zip(starts, weights):
        total[start * scale : start * scale + len(w)] += w
    return [w / total[start * scale : start * scale + len(w)] for start, w in zip(starts, weights)]


def tiled_forward(model: nn.Module, x: torch.Tensor, scale: int, tile: int, overlap: int = 8,
                  pad: int = 16) -> torch.Tensor:
    """Run ``model`` tile by tile and blend: memory follows the tile size, not the image size.

    Tiles of ``tile`` LR pixels overlap by ``overlap`` and are cross-faded linearly; each is
    computed with ``pad`` pixels of extra context on every side (cropped away afterwards), so that
    the convolutions near a tile border see the real neighbourhood instead of zero padding.
    """
    if not 0 < overlap * 2 < tile:
        raise ValueError(f"overlap ({overlap}) must be positive and less than half the tile ({tile})")
    n, _, h, w = x.shape
    ys, xs = _starts(h, tile, overlap), _starts(w, tile, overlap)
    wys, wxs = _blend_weights(ys, tile, h, scale), _blend_weights(xs, tile, w, scale)
    out = None
    for top, wy in zip(ys, wys):
        for left, wx in zip(xs, wxs):
            t0, l0 = max(top - pad, 0), max(left - pad, 0)
            y = model(x[:, :, t0 : min(top + tile + pad, h), l0 : min(left + tile + pad, w)])
            rows = slice(top * scale, top * scale + len(wy))
            cols = slice(left * scale, left * scale + len(wx))
            y0, x0 = (top - t0) * scale, (left - l0) * scale
            y = y[:, :, y0 : y0 + len(wy), x0 : x0 + len(wx)]
            if out is None:
                out = torch.zeros(n, y.shape[1], h * scale, w * scale, device=x.device, dtype=torch.float32)
            out[:, :, rows, cols] += y.float() * (wy[:, None] * wx[None, :]).to(x.device)
    return out


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
        model = model.to(memory_format=torch.channels_last)

    def run(inp: torch.Tensor) -> torch.Tensor:
        return tiled_forward(model, inp, scale, tile, overlap) if tile else model(inp)

    with torch.inference_mode():
        if not self_ensemble:
            y = run(x)
        else:
            y = sum(_d4(run(_d4(x, k)), k, inverse=True) for k in range(8)) / 8
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
