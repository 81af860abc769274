"""Scoring the generator during training: PSNR / SSIM on the Y channel (crop = scale) of the
validation images, beside what MATLAB bicubic scores on them (the line to beat). In the GAN stage also
NIQE of the outputs (lower = more natural) and how sure the discriminator is on held-out patches: a
discriminator that is right on its training photos but not on these has memorised them. Taught in
notebooks 04 and 05."""

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
from ..evaluation.metrics import pirm_niqe, protocol_for, scores
from ..models.tiling import tiled_forward
from ..paths import repo_path
from .config import TrainConfig

ValidationPair = tuple[str, torch.Tensor, np.ndarray]  # name, LR tensor (1, 3, h, w), HR uint8 image


def image_files(folder: str | None, split: str) -> list[Path]:
    """HR images of a config folder (relative to the repository), or the bundled photos' ``split`` when None."""
    if folder is None:
        return sample_split()[split]
    path = repo_path(folder)
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
                              lr_dir=repo_path(config.val_lr_dir), augment=False)
    items = (data[i] for i in range(len(data)))
    return [(item["name"], item["lr"][None], tensor_to_image(item["hr"])) for item in items]


@torch.no_grad()
def validate(model: nn.Module, pairs: list[ValidationPair], scale: int, device: torch.device,
             tile: int | None = None, discriminator: nn.Module | None = None,
             patch_size: int | None = None) -> dict[str, float]:
    """Mean PSNR and SSIM (Y channel, crop = scale) of ``model`` on the validation pairs; given the
    discriminator (GAN stage), also :func:`naturalness` of the outputs."""
    was_training = model.training
    model.eval()
    protocol = protocol_for(scale)
    rows, outputs = [], []
    for _, lr, hr in pairs:
        lr = lr.to(device)
        sr = tiled_forward(model, lr, scale, tile) if tile else model(lr)
        outputs.append(tensor_to_image(sr.float().clamp(0, 1).cpu()))
        rows.append(scores(outputs[-1], hr, protocol))
    model.train(was_training)
    record = _mean_psnr_ssim(rows, "val")
    if discriminator is not None and patch_size is not None:
        record |= naturalness(outputs, [hr for _, _, hr in pairs], scale, discriminator, patch_size, device)
    return record


def naturalness(outputs: list[np.ndarray], hr_images: list[np.ndarray], scale: int, discriminator: nn.Module,
                patch_size: int, device: torch.device, max_patches: int = 64) -> dict[str, float]:
    """``val_niqe``: mean NIQE of the outputs (PIRM protocol, lower = more natural). ``val_d_real`` /
    ``val_d_fake``: the discriminator's relativistic probabilities on held-out patches (the same grid of
    ``patch_size`` squares cut from HR and output), as the training log's ``d_real`` / ``d_fake``:
    0.5 = it cannot tell them apart, 1 = it is sure and right; NaN where no validation image holds a patch."""
    record = {"val_niqe": mean_niqe(outputs, scale)}
    if not any(min(image.shape[:2]) >= patch_size for image in hr_images):  # too small to judge: no D scores
        return record | {"val_d_real": float("nan"), "val_d_fake": float("nan")}
    real = _patch_grid(hr_images, patch_size, max_patches).to(device)
    fake = _patch_grid(outputs, patch_size, max_patches).to(device)
    was_training = discriminator.training
    discriminator.eval()
    real_logits, fake_logits = discriminator(real).float(), discriminator(fake).float()
    discriminator.train(was_training)
    record["val_d_real"] = float(torch.sigmoid(real_logits - fake_logits.mean()).mean())
    record["val_d_fake"] = float(torch.sigmoid(fake_logits - real_logits.mean()).mean())
    return record


def mean_niqe(images: list[np.ndarray], scale: int) -> float:
    """Mean NIQE (PIRM protocol) of the images large enough for it; NaN when none is."""
    values = [v for v in (pirm_niqe(image, scale) for image in images) if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def _patch_grid(images: list[np.ndarray], size: int, max_patches: int) -> torch.Tensor:
    """Non-overlapping ``size`` squares of every image, row by row, at most ``max_patches`` in all, as (N, 3, s, s)."""
    patches = [image[y:y + size, x:x + size] for image in images
               for y in range(0, image.shape[0] - size + 1, size) for x in range(0, image.shape[1] - size + 1, size)]
    stacked = np.stack(patches[:max_patches]).astype(np.float32) / 255
    return torch.from_numpy(stacked).permute(0, 3, 1, 2)


def bicubic_scores(pairs: list[ValidationPair], scale: int, with_niqe: bool = False) -> dict[str, float]:
    """What MATLAB bicubic scores on the validation pairs (the line to beat); NIQE too when asked."""
    protocol = protocol_for(scale)
    outputs = [tensor_to_image(imresize(lr, scale).clamp(0, 1)) for _, lr, _ in pairs]
    per_image = [scores(sr, hr, protocol) for sr, (_, _, hr) in zip(outputs, pairs, strict=True)]
    record = _mean_psnr_ssim(per_image, "bicubic")
    if with_niqe:
        record["bicubic_niqe"] = mean_niqe(outputs, scale)
    return record


def _mean_psnr_ssim(rows: list[dict], prefix: str) -> dict[str, float]:
    return {f"{prefix}_{k}_y": float(np.mean([r[k] for r in rows])) for k in ("psnr", "ssim")}
