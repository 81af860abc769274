"""Scoring the generator during training: PSNR / SSIM on the Y channel (crop = scale) of the
validation images, beside what MATLAB bicubic scores on them (the line to beat). Taught in notebook 04."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.dataset import PairedImageDataset
from ..data.image_io import IMAGE_SUFFIXES, list_images, tensor_to_image
from ..data.resize import imresize
from ..data.samples import sample_split
from ..evaluation.metrics import protocol_for, scores
from ..inference.tiles import tiled_forward
from ..paths import REPO_ROOT
from .config import TrainConfig, resolve_path

ValidationPair = tuple[str, torch.Tensor, np.ndarray]  # name, LR tensor (1, 3, h, w), HR uint8 image


def image_files(folder: str | None, split: str) -> list[Path]:
    """HR images of a config folder (relative to the repository), or the bundled photos' ``split`` when None."""
    if folder is None:
        return sample_split()[split]
    path = resolve_path(folder, REPO_ROOT)
    build = "`srlib prepare df2k` / `srlib prepare benchmarks` build the paper's data (README, Training)"
    if not path.is_dir():
        raise FileNotFoundError(f"{split} folder not found: {path}; {build}")
    files = list_images(path)
    if not files:
        raise FileNotFoundError(f"{split} folder {path} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    manifest = path.parent / "manifest.json"  # written by `srlib prepare` once a tree is complete
    expected = json.loads(manifest.read_text())["folders"].get(path.name) if manifest.is_file() else None
    if expected is not None and expected != len(files):
        raise FileNotFoundError(f"{split} folder {path} holds {len(files)} images where its manifest says "
                                f"{expected}: a half-built tree; {build}")
    return files


def validation_pairs(config: TrainConfig) -> list[ValidationPair]:
    """(name, LR tensor (1, 3, h, w), HR uint8 image) for every validation image."""
    data = PairedImageDataset(image_files(config.val_dir, "val"), config.scale, None,
                              lr_dir=resolve_path(config.val_lr_dir, REPO_ROOT), augment=False)
    items = (data[i] for i in range(len(data)))
    return [(item["name"], item["lr"][None], tensor_to_image(item["hr"])) for item in items]


@torch.no_grad()
def validate(model: nn.Module, pairs: list[ValidationPair], scale: int, device: torch.device,
             tile: int | None = None) -> dict[str, float]:
    """Mean PSNR and SSIM (Y channel, crop = scale) of ``model`` on the validation pairs."""
    was_training = model.training
    model.eval()
    protocol = protocol_for(scale)
    rows = []
    for _, lr, hr in pairs:
        lr = lr.to(device)
        sr = tiled_forward(model, lr, scale, tile) if tile else model(lr)
        rows.append(scores(tensor_to_image(sr.float().clamp(0, 1).cpu()), hr, protocol))
    model.train(was_training)
    return _mean_psnr_ssim(rows, "val")


def bicubic_scores(pairs: list[ValidationPair], scale: int) -> dict[str, float]:
    """What MATLAB bicubic scores on the validation pairs (the line to beat)."""
    protocol = protocol_for(scale)
    return _mean_psnr_ssim([scores(tensor_to_image(imresize(lr, scale).clamp(0, 1)), hr, protocol)
                            for _, lr, hr in pairs], "bicubic")


def _mean_psnr_ssim(rows: list[dict], prefix: str) -> dict[str, float]:
    return {f"{prefix}_{k}_y": float(np.mean([r[k] for r in rows])) for k in ("psnr", "ssim")}
