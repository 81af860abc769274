"""A deliberately simple, independent re-implementation of MATLAB's bicubic ``imresize``.

Written straight from the documented algorithm, one output line at a time with scalar weight
computation, so that it is easy to check by eye. Used as the test oracle for ``srlib.data.resize``
and as the baseline of the resize benchmark; it is far too slow for real use.
"""

import math

import numpy as np


def keys_cubic(t: float) -> float:
    a = abs(t)
    if a <= 1:
        return 1.5 * a**3 - 2.5 * a**2 + 1
    if a <= 2:
        return -0.5 * a**3 + 2.5 * a**2 - 4 * a + 2
    return 0.0


def mirror(i: int, n: int) -> int:
    """0-based index reflected into [0, n) with the edge pixel repeated (-1 -> 0, n -> n-1)."""
    period = 2 * n
    i = i % period
    return i if i < n else period - 1 - i


def line_weights(x: int, in_len: int, scale: float, antialias: bool) -> list[tuple[int, float]]:
    """(input index, weight) pairs for output line ``x`` (1-based), as MATLAB computes them."""
    shrink = scale < 1 and antialias
    width = 4 / scale if shrink else 4
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = math.floor(u - width / 2)
    pairs = []
    for k in range(math.ceil(width) + 2):
        j = left + k  # 1-based
        w = scale * keys_cubic(scale * (u - j)) if shrink else keys_cubic(u - j)
        pairs.append((mirror(j - 1, in_len), w))
    total = sum(w for _, w in pairs)
    return [(i, w / total) for i, w in pairs]


def resize_axis(img: np.ndarray, axis: int, out_len: int, scale: float, antialias: bool) -> np.ndarray:
    moved = np.moveaxis(img, axis, 0)
    out = np.zeros((out_len,) + moved.shape[1:])
    for x in range(out_len):
        for i, w in line_weights(x + 1, moved.shape[0], scale, antialias):
            out[x] += w * moved[i]
    return np.moveaxis(out, 0, axis)


def oracle_imresize(img: np.ndarray, scale=None, size=None, antialias: bool = True) -> np.ndarray:
    """MATLAB bicubic imresize of an HW/HWC array; uint8 input gets uint8 semantics."""
    integer = img.dtype == np.uint8
    rows, cols = img.shape[:2]
    if size is None:
        size = (math.ceil(rows * scale), math.ceil(cols * scale))
        scales = (scale, scale)
    else:
        scales = (size[0] / rows, size[1] / cols)
    out = img.astype(np.float64)
    order = [0, 1] if scales[0] <= scales[1] else [1, 0]
    for axis in order:
        out = resize_axis(out, axis, size[axis], scales[axis], antialias)
        if integer:
            out = np.clip(np.floor(out + 0.5), 0, 255)
    return out.astype(np.uint8) if integer else out
