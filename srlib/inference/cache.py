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


def cached_output_path(model: nn.Module, scale: int, tile: int | None, lr: np.ndarray, cache_dir: str | Path) -> Path:
    """Where :func:`cached_upscaler` keeps ``model``'s output for ``lr``: named by the network's weights, the
    settings and the LR image's bytes, so a changed network or image is never served an old output."""
    lr = np.ascontiguousarray(lr)
    settings = f"{network_digest(model)}-x{scale}-tile{tile}"
    key = hashlib.sha256(f"{settings}{lr.shape}{lr.dtype.str}".encode() + lr.data).hexdigest()[:32]
    return Path(cache_dir) / f"{key}.npy"


def keep_output(path: Path, output: np.ndarray) -> None:
    """Store an output where :func:`cached_output_path` says (atomically: a reader never sees half a file)."""
    replace_atomically(path, lambda f: np.save(f, output))  # makes the folder too


def cached_upscaler(model: nn.Module, scale: int, tile: int | None = None,
                    cache_dir: str | Path | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """``lr -> upscale(model, lr, scale, tile=tile)``, each distinct LR image computed once (:func:`memoized`).
    With ``cache_dir`` the outputs are also kept there as ``.npy`` files (:func:`cached_output_path`). Do not
    write to the results."""

    def from_disk_or_network(lr: np.ndarray) -> np.ndarray:
        if cache_dir is None:
            return upscale(model, lr, scale, tile=tile)
        path = cached_output_path(model, scale, tile, lr, cache_dir)
        if path.is_file():
            return np.load(path)
        output = upscale(model, lr, scale, tile=tile)
        keep_output(path, output)
        return output

    return memoized(from_disk_or_network)
