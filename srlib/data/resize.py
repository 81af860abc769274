"""MATLAB-compatible bicubic ``imresize`` for NumPy images and torch tensors.

The algorithm is MATLAB's ``imresize(..., 'bicubic')``: Keys cubic kernel (a = -0.5), the kernel
stretched by ``1/scale`` when shrinking (antialiasing), output pixel ``x`` (1-based) centred on
input coordinate ``x/scale + 0.5*(1 - 1/scale)``, weights normalised to sum 1, out-of-range taps
mirrored onto the image (edge pixel repeated), one dimension at a time, the dimension with the
smaller scale first (rows first when both are equal). Integer images are rounded and saturated
after each 1-D pass, as MATLAB does; float images are not.

Each 1-D pass is a banded matrix product. The band is cut into blocks of output lines, each a
small dense matrix over the input lines it touches. At a rational scale the weights are periodic,
so the interior blocks are all equal: such a run of blocks is one batched matmul over overlapping
strided views of the input, which reads the image in place at close to memory speed.

Taught in notebook 01.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import overload

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


def _dense_blocks(in_len: int, out_len: int, scale: float, antialias: bool, lines: int) -> list:
    """The band cut into dense blocks of ``lines`` outputs: (out start, out stop, in lo, in hi, matrix)."""
    idx, weights = _contributions(in_len, out_len, scale, antialias)
    blocks = []
    for start in range(0, out_len, lines):
        stop = min(start + lines, out_len)
        bidx, bw = idx[start:stop], weights[start:stop]
        lo, hi = int(bidx.min()), int(bidx.max()) + 1
        dense = np.zeros((stop - start, hi - lo))
        rows = np.repeat(np.arange(stop - start), bidx.shape[1])
        np.add.at(dense, (rows, (bidx - lo).ravel()), bw.ravel())  # mirrored taps add up
        blocks.append((start, stop, lo, hi, dense))
    return blocks


@lru_cache(maxsize=128)
def _runs(in_len: int, out_len: int, scale: float, antialias: bool, interleave: int, dtype, device: str,
          min_lines: int = 1):
    """Consecutive equal blocks (the periodic interior at rational scales) grouped into runs.

    Each run is (out start, count, lines, in lo, in step, matrix): ``count`` blocks of ``lines``
    outputs whose input windows start ``in step`` apart, all with the same matrix. With
    ``interleave`` = B > 1 the resized axis is the middle one of (rows, length, B) flattened to
    (rows, length * B): matrices become ``kron(matrix, I_B)`` and offsets count flattened units.
    """
    # At a rational scale p/q the weights repeat every p output lines: blocks of a multiple of p
    # lines (at least ``min_lines``) then form long runs of equal matrices, little wasted work.
    # Otherwise blocks of ~50 input lines keep each matmul mostly band.
    period = Fraction(scale).limit_denominator(64).numerator
    lines = period * -(-min_lines // period)
    runs = _group(_dense_blocks(in_len, out_len, scale, antialias, lines)) if period <= 16 else []
    if not runs or len(runs) > 8:
        runs = _group(_dense_blocks(in_len, out_len, scale, antialias, max(8, int(round(16 * scale)))))
    b = interleave
    return tuple(
        (start * b, count, lines * b, lo * b, step * b,
         torch.from_numpy(np.kron(dense, np.eye(b)) if b > 1 else dense).to(device=device, dtype=dtype))
        for start, count, lines, lo, step, dense in runs
    )


def _group(blocks: list) -> list[list]:
    """Merge consecutive equal blocks whose windows advance by a constant step into runs."""
    runs: list[list] = []
    for start, stop, lo, _hi, dense in blocks:
        if runs:
            last = runs[-1]
            same = stop - start == last[2] and dense.shape == last[5].shape and np.array_equal(dense, last[5])
            if same and (last[1] == 1 or lo - last[3] == last[1] * last[4]):
                last[4], last[1] = lo - last[3] if last[1] == 1 else last[4], last[1] + 1
                continue
        runs.append([start, 1, stop - start, lo, 0, dense])
    return runs


def _resize_rows(x: torch.Tensor, out_len: int, scale: float, antialias: bool) -> torch.Tensor:
    """Resize (B, length, M) along ``length``: one batched matmul per run of blocks."""
    runs = _runs(x.shape[1], out_len, scale, antialias, 1, x.dtype, str(x.device))
    x = x.contiguous()
    m = x.shape[2]

    def windows(plane: torch.Tensor, count: int, rows: int, lo: int, step: int) -> torch.Tensor:
        # (count, rows, m) overlapping views; 3-D so that matmul runs them as one batched GEMM
        return plane.as_strided((count, rows, m), (step * m, m, 1), plane.storage_offset() + lo * m)

    if x.requires_grad:  # autograd cannot write into a preallocated output
        return torch.stack([
            torch.cat([torch.matmul(a, windows(plane, count, a.shape[1], lo, step)).flatten(0, 1)
                       for _, count, _, lo, step, a in runs])
            for plane in x
        ])
    out = x.new_empty((x.shape[0], out_len, m))
    for plane, target in zip(x, out, strict=True):
        for start, count, lines, lo, step, a in runs:
            torch.matmul(a, windows(plane, count, a.shape[1], lo, step),
                         out=target[start : start + count * lines].view(count, lines, m))
    return out


def _resize_interleaved(x: torch.Tensor, out_len: int, scale: float, antialias: bool, b: int) -> torch.Tensor:
    """Resize (rows, length * b) along ``length``, the last axis, with ``b`` channels interleaved."""
    rows, width = x.shape
    # blocks of >= 16 output columns: a matmul with only a few columns runs far below speed
    runs = _runs(width // b, out_len, scale, antialias, b, x.dtype, str(x.device), min_lines=max(8, 16 // b))
    x = x.contiguous()
    pieces = []
    for _, count, lines, lo, step, a in runs:
        windows = x.as_strided((count, rows, a.shape[1]), (step, width, 1), x.storage_offset() + lo)
        pieces.append(torch.matmul(windows, a.T).transpose(0, 1).reshape(rows, count * lines))
    return torch.cat(pieces, dim=1)


def _resize_planes(
    x: torch.Tensor, size: tuple[int, int], scales: tuple[float, float], antialias: bool, maximum: float | None,
    b: int,
) -> torch.Tensor:
    """Resize (B, H, W * b) floating tensors (``b`` interleaved channels); round + saturate if ``maximum``.

    Rows first when ``scales[0] <= scales[1]`` (MATLAB's order). Returns (B, H', W' * b).
    """
    for axis in (0, 1) if scales[0] <= scales[1] else (1, 0):
        if x.shape[axis + 1] // (b if axis else 1) == size[axis] and scales[axis] == 1.0:
            continue
        if axis == 0:
            x = _resize_rows(x, size[0], scales[0], antialias)
        else:
            batch, rows, _ = x.shape
            x = _resize_interleaved(x.reshape(batch * rows, -1), size[1], scales[1], antialias, b).view(batch, rows, -1)
        if maximum is not None:
            x = torch.floor(x + 0.5).clamp_(0.0, maximum)  # MATLAB: round half away from zero, saturate
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
    assert scale is not None  # exactly one of the two, checked above
    scales = (float(scale), float(scale)) if isinstance(scale, (int, float)) else (float(scale[0]), float(scale[1]))
    if min(scales) <= 0:
        raise ValueError(f"imresize: scale must be positive, got {scale}")
    out = (output_size((in_size[0], 1), scales[0])[0], output_size((in_size[1], 1), scales[1])[0])
    return out, scales


@overload
def imresize(image: np.ndarray, scale: float | tuple[float, float] | None = None, *,
             size: tuple[int, int] | None = None, antialias: bool = True) -> np.ndarray: ...
@overload
def imresize(image: torch.Tensor, scale: float | tuple[float, float] | None = None, *,
             size: tuple[int, int] | None = None, antialias: bool = True) -> torch.Tensor: ...
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
    pixels = torch.from_numpy(np.ascontiguousarray(image))
    pixels = pixels.to(work) if work is not None else pixels
    channels = image.shape[2] if image.ndim == 3 else 1
    if channels <= 4:  # HWC resized in place, channels interleaved
        out = _resize_planes(pixels.reshape(1, image.shape[0], -1), out_size, scales, antialias, maximum, channels)
        out = out.reshape(*out_size, *image.shape[2:])
    else:  # many channels: one plane each
        out = _resize_planes(pixels.permute(2, 0, 1), out_size, scales, antialias, maximum, 1).permute(1, 2, 0)
    return out.contiguous().numpy().astype(image.dtype, copy=False)


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
    out_size, scales = _target((int(x.shape[-2]), int(x.shape[-1])), scale, size)
    if x.dtype == torch.uint8:
        work, maximum = x.to(torch.float64), 255.0
    elif x.is_floating_point():
        work, maximum = (x if x.dtype in (torch.float32, torch.float64) else x.float()), None
    else:
        raise TypeError(f"imresize: tensor dtype must be uint8 or floating point, got {x.dtype}")
    out = _resize_planes(work.reshape(-1, *x.shape[-2:]), out_size, scales, antialias, maximum, 1)
    return out.reshape(*x.shape[:-2], *out_size).to(x.dtype)
