"""Upscaling that remembers: each distinct LR image goes through a network once, in memory and, given a folder,
on disk, so the notebooks that score one network on the same photos (05, 06, 07 in one ``make course``)
share a single forward pass. Taught in notebook 07."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..atomic import replace_atomically
from ..evaluation.baseline import memoized
from .tiles import upscale


def network_digest(model: nn.Module) -> str:
    """sha256 of a network's class and every tensor of its state (names, shapes, dtypes, values)."""
    digest = hashlib.sha256(type(model).__name__.encode())
    for name, tensor in model.state_dict().items():
        digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def cached_upscaler(model: nn.Module, scale: int, tile: int | None = None,
                    cache_dir: str | Path | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """``lr -> upscale(model, lr, scale, tile=tile)``, each distinct LR image computed once (:func:`memoized`).
    With ``cache_dir`` the outputs are also kept there as ``.npy`` files named by the network's weights, the
    settings and the LR image's bytes, so a changed network or image is never served an old output. Do not write
    to the results."""
    settings = f"{network_digest(model)}-x{scale}-tile{tile}"

    def from_disk_or_network(lr: np.ndarray) -> np.ndarray:
        if cache_dir is None:
            return upscale(model, lr, scale, tile=tile)
        lr = np.ascontiguousarray(lr)
        key = hashlib.sha256(f"{settings}{lr.shape}{lr.dtype.str}".encode() + lr.data).hexdigest()[:32]
        path = Path(cache_dir) / f"{key}.npy"
        if path.is_file():
            return np.load(path)
        output = upscale(model, lr, scale, tile=tile)
        replace_atomically(path, lambda f: np.save(f, output))  # makes the folder too
        return output

    return memoized(from_disk_or_network)
