"""Upscaling images with a trained generator: any size (overlapping tiles), gray / RGB / RGBA,
8- or 16-bit, optional x8 self-ensemble.

On the CPU everything runs in fp32 (half precision there is slow or unsupported); on CUDA the
model runs in fp16 unless told otherwise.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .image_io import from_float, split_alpha, to_float
from .resize import imresize


def _d4(x: torch.Tensor, k: int, inverse: bool = False) -> torch.Tensor:
    """The k-th symmetry of the square on (N, C, H, W) (quarter turns, then a flip), or its inverse."""
    if inverse:
        x = x.flip(-1) if k >= 4 else x
        return torch.rot90(x, -(k % 4), dims=(-2, -1))
    x = torch.rot90(x, k % 4, dims=(-2, -1))
    return x.flip(-1) if k >= 4 else x


def _feather(length: int, overlap: int, at_start: bool, at_end: bool) -> torch.Tensor:
    """1-D blending weights of a tile: linear ramps over the overlaps shared with neighbours."""
    w = torch.ones(length)
    ramp = torch.linspace(0, 1, overlap + 2)[1:-1]
    if overlap and not at_start:
        w[:overlap] = ramp
    if overlap and not at_end:
        w[-overlap:] = ramp.flip(0)
    return w


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    return starts + [length - tile]


def tiled_forward(model: nn.Module, x: torch.Tensor, scale: int, tile: int, overlap: int = 8,
                  pad: int = 16) -> torch.Tensor:
    """Run ``model`` tile by tile and blend: memory follows the tile size, not the image size.

    Tiles of ``tile`` LR pixels overlap by ``overlap`` and are blended with linear feathers; each is
    computed with ``pad`` pixels of extra context on every side (cropped away afterwards), so that
    the convolutions near a tile border see the real neighbourhood instead of zero padding.
    """
    if not 0 <= overlap * 2 < tile:
        raise ValueError(f"overlap ({overlap}) must be less than half the tile ({tile})")
    n, _, h, w = x.shape
    out = norm = None
    ys, xs = _starts(h, tile, overlap), _starts(w, tile, overlap)
    for top in ys:
        for left in xs:
            t0, l0 = max(top - pad, 0), max(left - pad, 0)
            core_h, core_w = min(tile, h - top), min(tile, w - left)
            y = model(x[:, :, t0 : min(top + tile + pad, h), l0 : min(left + tile + pad, w)])
            y = y[:, :, (top - t0) * scale : (top - t0 + core_h) * scale, (left - l0) * scale : (left - l0 + core_w) * scale]
            if out is None:
                out = torch.zeros(n, y.shape[1], h * scale, w * scale, device=x.device, dtype=torch.float32)
                norm = torch.zeros(1, 1, h * scale, w * scale, device=x.device)
            wy = _feather(y.shape[-2], overlap * scale, top == 0, top == ys[-1]).to(x.device)
            wx = _feather(y.shape[-1], overlap * scale, left == 0, left == xs[-1]).to(x.device)
            weight = (wy[:, None] * wx[None, :])[None, None]
            rows = slice(top * scale, top * scale + y.shape[-2])
            cols = slice(left * scale, left * scale + y.shape[-1])
            out[:, :, rows, cols] += y.float() * weight
            norm[:, :, rows, cols] += weight
    return out / norm


def super_resolve(model: nn.Module, x: torch.Tensor, scale: int, tile: int | None = None, overlap: int = 8,
                  self_ensemble: bool = False, half: bool | None = None) -> torch.Tensor:
    """Model output for a batch (N, 3, H, W) in [0, 1]: fp32 on CPU, fp16 on CUDA unless ``half=False``.

    The model is put in eval mode and converted in place (dtype; channels-last on the CPU).
    """
    device = next(model.parameters()).device
    half = device.type == "cuda" if half is None else half
    if half and device.type != "cuda":
        raise ValueError("half precision is only for CUDA; the CPU path runs in fp32")
    dtype = torch.float16 if half else torch.float32
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
        return y.float().clamp(0, 1)


def upscale(model: nn.Module, image: np.ndarray, scale: int, tile: int | None = None, overlap: int = 8,
            self_ensemble: bool = False) -> np.ndarray:
    """Upscale an HxW / HxWx3 / HxWx4 uint8 or uint16 image; the result has the same form and depth.

    Gray images go through the model as RGB and come back as the channel mean; an alpha channel is
    upscaled separately with the MATLAB bicubic.
    """
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"upscale: expected a uint8 or uint16 image, got {image.dtype}")
    color, alpha = split_alpha(image)
    gray = color.ndim == 2
    rgb = np.repeat(color[:, :, None], 3, axis=2) if gray else color
    x = torch.from_numpy(np.ascontiguousarray(to_float(rgb).transpose(2, 0, 1)))[None]
    y = super_resolve(model, x, scale, tile, overlap, self_ensemble)[0].permute(1, 2, 0).cpu().numpy()
    out = y.mean(axis=2) if gray else y
    if alpha is not None:
        big_alpha = np.clip(imresize(to_float(alpha), scale), 0, 1)
        out = np.dstack([out, big_alpha])
    return from_float(out, image.dtype.type)
