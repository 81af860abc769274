"""Evaluation, taught in notebook 07: PSNR / SSIM / MS-SSIM / RMSE on Y or RGB with the field's
protocol, NIQE, Ma et al.'s score and the Perceptual Index, and scoring any upscaler against bicubic."""

from . import steerable
from .baseline import bicubic_baseline, evaluate_upscaler, memoized
from .color import rgb_to_y, y_plane
from .ma_score import load_ma_model, ma_score, patch_singular_values, perceptual_index
from .metrics import (
    Protocol,
    channel_means_gap,
    channel_shift,
    evaluate,
    ms_ssim,
    protocol_for,
    psnr,
    rmse,
    scores,
    ssim,
)
from .niqe import niqe

__all__ = [
    "steerable", "bicubic_baseline", "evaluate_upscaler", "memoized", "rgb_to_y", "y_plane", "load_ma_model",
    "ma_score", "patch_singular_values", "perceptual_index", "Protocol", "evaluate", "ms_ssim", "protocol_for",
    "psnr", "rmse", "scores", "ssim", "niqe", "channel_shift", "channel_means_gap",
]
