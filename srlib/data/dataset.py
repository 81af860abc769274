"""Paired LR/HR training data: aligned random crops and D4 augmentation, as a torch Dataset.

Taught in notebook 01.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from torch.utils.data import Dataset

from .degrade import make_lr, modcrop
from .image_io import image_to_tensor, read_image, to_rgb

ImageLike = TypeVar("ImageLike", np.ndarray, torch.Tensor)

def d4(image: ImageLike, k: int, inverse: bool = False) -> ImageLike:
    """One of the 8 symmetries of the square, or its inverse: ``k % 4`` quarter turns, then a flip if ``k >= 4``.
    A NumPy image is HxW[xC] (training augmentation); a tensor is (..., H, W) (the x8 self-ensemble of inference,
    which undoes each symmetry on the output)."""
    if not 0 <= k < 8:
        raise ValueError(f"d4: k must be in 0..7, got {k}")

    def turn(a: ImageLike, quarters: int) -> ImageLike:
        if isinstance(a, torch.Tensor):
            return torch.rot90(a, quarters, dims=(-2, -1))
        return np.rot90(a, quarters, axes=(0, 1))

    def flip(a: ImageLike) -> ImageLike:
        return a.flip(-1) if isinstance(a, torch.Tensor) else a[:, ::-1]

    if inverse:  # the flip was last, so it is undone first
        return turn(flip(image) if k >= 4 else image, -(k % 4))
    out = turn(image, k % 4)
    return flip(out) if k >= 4 else out


def aligned_crop(
    lr: np.ndarray, hr: np.ndarray, scale: int, lr_patch: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random LR patch and the HR patch that covers exactly the same area (``scale`` x larger)."""
    top = int(rng.integers(0, lr.shape[0] - lr_patch + 1))
    left = int(rng.integers(0, lr.shape[1] - lr_patch + 1))
    hr_patch = lr_patch * scale
    return (
        lr[top : top + lr_patch, left : left + lr_patch],
        hr[top * scale : top * scale + hr_patch, left * scale : left * scale + hr_patch],
    )


class PairedImageDataset(Dataset):
    """HR images with LR counterparts read from ``lr_dir`` (same file name) or made on the fly.

    Pairs made on the fly (LR and HR) are kept in memory (per worker process): right for the bundled photos;
    for DF2K-sized sets, write the pairs once with :func:`srlib.degrade.prepare_pairs`.

    ``patch_size`` is the HR patch side (LR side = ``patch_size // scale``); ``None`` returns whole
    (mod-cropped) images, for validation. Items are ``{"lr", "hr": float tensors (3, h, w) in
    [0, 1], "name": str}``; gray images are replicated to RGB and alpha is dropped. Randomness comes
    from ``(seed, epoch, index)`` alone, so results do not depend on workers or on a
    DistributedSampler's partitioning; call :meth:`set_epoch` each epoch, or index with
    ``(epoch, index)`` pairs (what the trainer does: worker processes never see ``set_epoch``).

    ``repeat`` lists every image that many times per epoch (each copy gets its own crop): an epoch
    of a handful of photos is otherwise shorter than one batch.
    """

    def __init__(
        self,
        hr_files: Sequence[str | Path],
        scale: int,
        patch_size: int | None = None,
        *,
        lr_dir: str | Path | None = None,
        augment: bool = True,
        seed: int = 0,
        repeat: int = 1,
    ) -> None:
        if patch_size is not None and patch_size % scale:
            raise ValueError(f"patch_size {patch_size} must be a multiple of scale {scale}")
        if not hr_files:
            raise ValueError("PairedImageDataset: no HR files given")
        if repeat < 1:
            raise ValueError(f"PairedImageDataset: repeat must be >= 1, got {repeat}")
        self.hr_files = [Path(p) for p in hr_files]
        self.scale, self.patch_size, self.augment, self.seed, self.repeat = scale, patch_size, augment, seed, repeat
        self.lr_dir = Path(lr_dir) if lr_dir is not None else None
        self.epoch = 0
        self._made_pairs: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose crops and augmentations are drawn."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.hr_files) * self.repeat

    def _pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        hr_path = self.hr_files[index]
        if self.lr_dir is None:
            if index not in self._made_pairs:
                hr = modcrop(to_rgb(read_image(hr_path)), self.scale)
                self._made_pairs[index] = make_lr(hr, self.scale), hr
            return self._made_pairs[index]
        hr = to_rgb(read_image(hr_path))
        lr_path = self.lr_dir / hr_path.name
        lr = to_rgb(read_image(lr_path))
        if (lr.shape[0] * self.scale, lr.shape[1] * self.scale) != hr.shape[:2]:
            raise ValueError(
                f"scale mismatch: LR {lr_path} is {lr.shape[1]}x{lr.shape[0]}, HR {hr_path} is "
                f"{hr.shape[1]}x{hr.shape[0]}; expected HR = LR x {self.scale}"
            )
        return lr, hr

    def __getitem__(self, index: int | tuple[int, int]) -> dict:
        epoch, index = index if isinstance(index, tuple) else (self.epoch, index)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        image = index % len(self.hr_files)
        lr, hr = self._pair(image)
        rng = np.random.default_rng([self.seed, epoch, index])
        if self.patch_size is not None:
            if min(hr.shape[:2]) < self.patch_size:
                raise ValueError(
                    f"image smaller than the patch: {self.hr_files[image]} is {hr.shape[1]}x{hr.shape[0]}, "
                    f"patch_size is {self.patch_size}"
                )
            lr, hr = aligned_crop(lr, hr, self.scale, self.patch_size // self.scale, rng)
        if self.augment:
            k = int(rng.integers(0, 8))
            lr, hr = d4(lr, k), d4(hr, k)
        return {
            "lr": image_to_tensor(np.ascontiguousarray(lr))[0],
            "hr": image_to_tensor(np.ascontiguousarray(hr))[0],
            "name": self.hr_files[image].name,
        }
