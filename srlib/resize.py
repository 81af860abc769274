"""MATLAB-compatible bicubic ``imresize`` for NumPy images and torch tensors.

The algorithm is MATLAB's ``imresize(..., 'bicubic')``: Keys cubic kernel (a = -0.5), the kernel
stretched by ``1/scale`` when shrinking (antialiasing), output pixel ``x`` (1-based) centred on
input coordinate ``x/scale + 0.5*(1 - 1/scale)``, weights normalised to sum 1, out-of-range taps
mirrored onto the image (edge pixel repeated), one dimension at a time, the dimension with the
smaller scale first (rows first when both are equal). Integer images are rounded and saturated
after each 1-D pass, as MATLAB does; float images are not.

Each 1-D pass is a banded matrix product. The band is cut into blocks of output lines, and each
block is one small dense matmul over the input lines it touches, so the work stays close to the
band while running at matrix-multiply speed.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

__all__ = ["imresize", "output_size", "cubic"]


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


def output_size(in_size: tuple[int, int], scale: float) -> tuple[int, int]:
    """MATLAB's output size for a scale factor: ``ceil(in * scale)`` per dimension."""
    return tuple(int(math.ceil(n * scale - 1e-9)) for n in in_size)  # type: ignore[return-value]


@lru_cache(maxsize=64)
def _contributions(in_len: int, out_len: int, scale: float, antialias: bool):
    """Per output line: 0-based input indices (mirrored) and normalised weights, float64."""
    if scale < 1 and antialias:
        width = 4.0 / scale
        kernel = lambda t: scale * cubic(scale * t)  # noqa: E731
    else:
        width = 4.0
        kernel = cubic
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - width / 2.0)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]  # 1-based, may fall outside [1, in_len]
    weights = kernel(u[:, None] - idx)
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    idx = mirror[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    used = np.any(weights != 0, axis=0)
    return idx[:, used], weights[:, used]


@lru_cache(maxsize=128)
def _blocks(in_len: int, out_len: int, scale: float, antialias: bool, interleave: int, dtype, device: str):
    """The band cut into dense blocks: (out start, out stop, in lo, in hi, weights) each.

    With ``interleave`` = B > 1 the resized axis is the middle one of (rows, length, B) flattened
    to (rows, length * B): each block matrix is then ``kron(block, I_B)`` and the offsets are in flattened units, so the pass runs in place on an HWC image.
    """
    idx, weights = _contributions(in_len, out_len, scale, antialias)
    lines = max(8, int(round(16 * scale)))  # ~50 input lines per block at any scale
    blocks = []
    for start in range(0, out_len, lines):
        stop = min(start + lines, out_len)
        bidx, bw = idx[start:stop], weights[start:stop]
        lo, hi = int(bidx.min()), int(bidx.max()) + 1
        dense = np.zeros((stop - start, hi - lo))
        rows = np.repeat(np.arange(stop - start), bidx.shape[1])
        np.add.at(dense, (rows, (bidx - lo).ravel()), bw.ravel())  # mirrored taps add up
        if interleave > 1:
            dense = np.kron(dense, np.eye(interleave))
        b = interleave
        blocks.append((start * b, stop * b, lo * b, hi * b, torch.from_numpy(dense).to(device=device, dtype=dtype)))
    return tuple(blocks)


def _resize_rows(x: torch.Tensor, out_len: int, scale: float, antialias: bool) -> torch.Tensor:
    """Resize a 2-D tensor (length, M) along its first dim: one small matmul per block."""
    blocks = _blocks(x.shape[0], out_len, scale, antialias, 1, x.dtype, str(x.device))
    if x.requires_grad:  # autograd cannot write into a preallocated output
        return torch.cat([a @ x[lo:hi] for _, _, lo, hi, a in blocks])
    out = x.new_empty((out_len, x.shape[1]))
    for start, stop, lo, hi, a in blocks:
        torch.matmul(a, x[lo:hi], out=out[start:stop])
    return out


def _resize_interleaved(x: torch.Tensor, out_len: int, scale: float, antialias: bool, b: int) -> torch.Tensor:
    """Resize (rows, length * b) along ``length`` without moving the data (few channels only)."""
    blocks = _blocks(x.shape[1] // b, out_len, scale, antialias, b, x.dtype, str(x.device))
    return torch.cat([x[:, lo:hi] @ a.T for _, _, lo, hi, a in blocks], dim=1)


def _resize_hwb(
    x: torch.Tensor, size: tuple[int, int], scales: tuple[float, float], antialias: bool, maximum: float | None
) -> torch.Tensor:
    """Resize an (H, W, B) floating tensor; round + saturate after each pass if ``maximum``.

    Rows first when ``scales[0] <= scales[1]`` (MATLAB's order). Returns (H', W', B), possibly a
    non-contiguous view.
    """
    height_first = scales[0] <= scales[1]
    for axis in (0, 1) if height_first else (1, 0):
        if x.shape[axis] == size[axis] and scales[axis] == 1.0:
            continue
        rows, cols, b = x.shape
        if axis == 0:
            out = _resize_rows(x.reshape(rows, -1), size[0], scales[0], antialias).view(size[0], cols, b)
        elif b <= 4 and x.is_contiguous():  # image channels: resize along W in place
            out = _resize_interleaved(x.view(rows, -1), size[1], scales[1], antialias, b).view(rows, size[1], b)
        else:  # a batch: bring W to the front, resize as rows
            flat = x.transpose(0, 1).reshape(cols, -1)
            out = _resize_rows(flat, size[1], scales[1], antialias).view(size[1], rows, b).transpose(0, 1)
        if maximum is not None:
            out = torch.floor(out + 0.5).clamp_(0.0, maximum)  # MATLAB: round half away, saturate
        x = out
    return x


def _target(
    in_size: tuple[int, int], scale: float | tuple[float, float] | None, size: tuple[int, int] | None
) -> tuple[tuple[int, int], tuple[float, float]]:
    if (scale is None) == (size is None):
        raise ValueError("imresize: give exactly one of `scale` or `size`")
    if size is not None:
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f"imresize: size must be two positive integers (rows, cols), got {size}")
        size = (int(size[0]), int(size[1]))
        return size, (size[0] / in_size[0], size[1] / in_size[1])
    scales = (float(scale), float(scale)) if np.isscalar(scale) else (float(scale[0]), float(scale[1]))
    if min(scales) <= 0:
        raise ValueError(f"imresize: scale must be positive, got {scale}")
    out = (output_size((in_size[0], 1), scales[0])[0], output_size((in_size[1], 1), scales[1])[0])
    return out, scales


def imresize(
    image: np.ndarray | torch.Tensor,
    scale: float | tuple[float, float] | None = None,
    *,
    size: tuple[int, int] | None = None,
    antialias: bool = True,
) -> np.ndarray | torch.Tensor:
    """Resize like MATLAB ``imresize(image, scale_or_size, 'bicubic')``.

    NumPy input is ``HW`` or ``HWC``; torch input is ``(..., H, W)`` (e.g. NCHW), on any device.
    uint8 / uint16 input is resized in float64 and rounded + saturated after each 1-D pass (MATLAB's
    integer semantics); float input keeps its dtype and is neither rounded nor clipped.
    Give ``scale`` (a factor, or one per dimension) or ``size`` = (rows, cols).
    """
    if isinstance(image, torch.Tensor):
        return _imresize_torch(image, scale, size, antialias)
    if not isinstance(image, np.ndarray):
        raise TypeError(f"imresize: expected a NumPy array or torch tensor, got {type(image).__name__}")
    if image.ndim not in (2, 3):
        raise ValueError(f"imresize: expected an HW or HWC array, got shape {image.shape}")
    out_size, scales = _target(image.shape[:2], scale, size)
    maximum, work = _integer_range(image.dtype)
    hwb = torch.from_numpy(np.ascontiguousarray(image)).reshape(*image.shape[:2], -1)
    hwb = hwb.to(work) if work is not None else hwb
    out = _resize_hwb(hwb, out_size, scales, antialias, maximum)
    out = out.reshape(*out_size, *image.shape[2:]).contiguous().numpy()
    return out.astype(image.dtype, copy=False)


def _integer_range(dtype: np.dtype) -> tuple[float | None, torch.dtype | None]:
    if np.issubdtype(dtype, np.integer):
        if dtype not in (np.uint8, np.uint16):
            raise TypeError(f"imresize: integer images must be uint8 or uint16, got {dtype}")
        return float(np.iinfo(dtype).max), torch.float64
    if dtype == np.float16:
        return None, torch.float32
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"imresize: unsupported dtype {dtype}")
    return None, None


def _imresize_torch(x: torch.Tensor, scale, size, antialias: bool) -> torch.Tensor:
    if x.ndim < 2:
        raise ValueError(f"imresize: expected a tensor (..., H, W), got shape {tuple(x.shape)}")
    out_size, scales = _target(tuple(x.shape[-2:]), scale, size)
    if x.dtype == torch.uint8:
        work, maximum = x.to(torch.float64), 255.0
    elif x.is_floating_point():
        work, maximum = (x if x.dtype in (torch.float32, torch.float64) else x.float()), None
    else:
        raise TypeError(f"imresize: tensor dtype must be uint8 or floating point, got {x.dtype}")
    lead = x.shape[:-2]
    hwb = work.reshape(-1, *x.shape[-2:]).permute(1, 2, 0)
    out = _resize_hwb(hwb, out_size, scales, antialias, maximum)
    return out.permute(2, 0, 1).reshape(*lead, *out_size).to(x.dtype)
