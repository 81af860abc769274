"""Running a network over an image tile by tile, so that memory follows the tile and not the image: what
inference does with large photos and validation with large validation images. Taught in notebook 02.
"""

from __future__ import annotations

import torch
from torch import nn


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
    for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
        w = torch.ones((end - start) * scale)
        if i > 0:  # fade in over the overlap with the previous tile
            n = (ends[i - 1] - start) * scale
            w[:n] = (torch.arange(n) + 0.5) / n
        if i < len(starts) - 1:  # fade out over the overlap with the next tile
            n = (end - starts[i + 1]) * scale
            w[len(w) - n :] *= 1 - (torch.arange(n) + 0.5) / n
        weights.append(w)
    total = torch.zeros(length * scale)
    for start, w in zip(starts, weights, strict=True):
        total[start * scale : start * scale + len(w)] += w
    return [w / total[start * scale : start * scale + len(w)] for start, w in zip(starts, weights, strict=True)]


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
    for top, wy in zip(ys, wys, strict=True):
        for left, wx in zip(xs, wxs, strict=True):
            t0, l0 = max(top - pad, 0), max(left - pad, 0)
            y = model(x[:, :, t0 : min(top + tile + pad, h), l0 : min(left + tile + pad, w)])
            rows = slice(top * scale, top * scale + len(wy))
            cols = slice(left * scale, left * scale + len(wx))
            y0, x0 = (top - t0) * scale, (left - l0) * scale
            y = y[:, :, y0 : y0 + len(wy), x0 : x0 + len(wx)]
            if out is None:
                out = torch.zeros(n, y.shape[1], h * scale, w * scale, device=x.device, dtype=torch.float32)
            out[:, :, rows, cols] += y.float() * (wy[:, None] * wx[None, :]).to(x.device)
    assert out is not None  # there is always at least one tile
    return out
