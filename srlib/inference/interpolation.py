"""The restoration-strength knob, measured: network interpolation between a PSNR and a GAN network traced on the
perception-distortion plane, with image interpolation (blending the two outputs) as its control, and which
alpha lands in each PIRM 2018 region. Taught in notebook 05.

Blending the two output *images* pixel by pixel is the obvious knob; ESRGAN (section 3.4) reports that
interpolating the *weights* gives a better trade-off: a blended image keeps the GAN's artefacts at reduced
contrast beside the PSNR network's blur, where an interpolated network draws one picture. The curves here say
whether that holds for a given pair: each point is one alpha, PSNR / RMSE (distortion) against NIQE.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn
from tqdm.auto import tqdm

from ..data.degrade import make_lr, modcrop
from ..evaluation.metrics import mse, pirm_niqe, protocol_for
from ..models.interpolation import interpolate
from ..models.released import COURSE_WEIGHTS, course_weights
from ..models.trained import GENERATOR, trained_generator
from ..paths import repo_path
from .tiles import upscale

ALPHAS = tuple(i / 10 for i in range(11))  # 0, 0.1, ..., 1: ESRGAN's interpolation rows
# PIRM 2018's three regions, each an upper bound on RMSE (Y, 4 px shaved, sqrt of the mean MSE over images)
PIRM_REGIONS = {"region 1": 11.5, "region 2": 12.5, "region 3": 16.0}
SPACES = ("network", "image")


def blend_images(psnr_output: np.ndarray, gan_output: np.ndarray, alpha: float) -> np.ndarray:
    """Image interpolation, the control: ``(1 - alpha) * psnr_output + alpha * gan_output``, rounded (uint8)."""
    mixed = (1 - alpha) * psnr_output.astype(np.float64) + alpha * gan_output.astype(np.float64)
    return np.clip(np.round(mixed), 0, 255).astype(np.uint8)


def interpolated_outputs(psnr_network: nn.Module, gan_network: nn.Module, lr: np.ndarray, scale: int,
                         alphas: Sequence[float] = ALPHAS,
                         tile: int | None = None) -> dict[tuple[str, float], np.ndarray]:
    """``(space, alpha) -> SR image`` of one uint8 LR image: ``network`` runs the interpolated weights
    (one forward per alpha), ``image`` blends the two end outputs (no forward beyond alpha 0 and 1)."""
    ends = {0.0: upscale(psnr_network, lr, scale, tile=tile), 1.0: upscale(gan_network, lr, scale, tile=tile)}
    outputs = {}
    for alpha in alphas:
        network_output = ends.get(alpha)
        if network_output is None:
            network_output = upscale(interpolate(psnr_network, gan_network, alpha), lr, scale, tile=tile)
        outputs["network", alpha] = network_output
        # the two knobs meet at their ends: the same image, which the caller then scores once
        outputs["image", alpha] = ends[alpha] if alpha in ends else blend_images(ends[0.0], ends[1.0], alpha)
    return outputs


@dataclass
class InterpolationPoint:
    """One alpha of one knob, scored over a set of images (mean PSNR / NIQE, PIRM's RMSE) and per image."""

    space: str  # "network" or "image"
    alpha: float
    psnr: float
    rmse: float
    niqe: float
    per_image: dict[str, dict[str, float]]


def trace_interpolation(psnr_network: nn.Module, gan_network: nn.Module, hr_images: dict[str, np.ndarray],
                        scale: int, alphas: Sequence[float] = ALPHAS, tile: int | None = None,
                        progress: bool = True) -> list[InterpolationPoint]:
    """Both knobs at every alpha on ``hr_images`` (name -> uint8 HR, degraded here by MATLAB bicubic):
    PSNR-Y and RMSE-Y with ``crop_border = scale``, NIQE on Y with ``scale`` px shaved."""
    protocol = protocol_for(scale)
    per_image: dict[tuple[str, float], dict[str, dict[str, float]]] = {}
    for name, hr in tqdm(hr_images.items(), desc="tracing the interpolation", disable=not progress):
        hr = modcrop(hr, scale)
        scored: dict[int, dict[str, float]] = {}  # by output: the knobs' shared ends are scored once
        for key, sr in interpolated_outputs(psnr_network, gan_network, make_lr(hr, scale), scale, alphas,
                                            tile).items():
            if id(sr) not in scored:
                error = mse(sr, hr, protocol)  # PSNR and RMSE alone: SSIM would cost ten times NIQE here
                scored[id(sr)] = {"psnr": 10 * math.log10(255**2 / error) if error else math.inf,
                                  "rmse": math.sqrt(error), "niqe": pirm_niqe(sr, scale)}
            per_image.setdefault(key, {})[name] = scored[id(sr)]
    points = []
    for (space, alpha), rows in per_image.items():
        values = list(rows.values())
        points.append(InterpolationPoint(
            space, alpha, psnr=float(np.mean([v["psnr"] for v in values])),
            rmse=math.sqrt(float(np.mean([v["rmse"] ** 2 for v in values]))),
            niqe=float(np.nanmean([v["niqe"] for v in values])), per_image=rows))
    return sorted(points, key=lambda p: (SPACES.index(p.space), p.alpha))


def pirm_choices(points: Sequence[InterpolationPoint],
                 regions: dict[str, float] = PIRM_REGIONS) -> dict[tuple[str, str], InterpolationPoint | None]:
    """``(space, region) ->`` the most natural point (lowest NIQE) whose RMSE is within the region's bound, as a
    PIRM 2018 entry picks its alpha; None where no alpha is within it."""
    choices = {}
    for space in SPACES:
        for region, bound in regions.items():
            inside = [p for p in points if p.space == space and p.rmse <= bound]
            choices[space, region] = min(inside, key=lambda p: p.niqe) if inside else None
    return choices


def run_folder(run: str | Path) -> Path:
    """The folder of a course network's name (``course-gan``) or of a run directory (relative to the checkout)."""
    return course_weights(str(run)) if str(run) in COURSE_WEIGHTS else repo_path(run)


def trace_runs(psnr_run: str | Path, gan_run: str | Path, hr_images: dict[str, np.ndarray], scale: int,
               alphas: Sequence[float] = ALPHAS, cache: str | Path | None = None, tile: int | None = None,
               progress: bool = True) -> list[InterpolationPoint]:
    """:func:`trace_interpolation` of two runs' (EMA) generators. With ``cache``, a JSON file keeps the points
    beside what they were measured on (the sha256 of both ``generator.pt`` files and of every image, the
    alphas): a file that matches is read instead of tracing again, one that does not is traced and rewritten.
    Tracing a 23-block RRDB at 11 alphas takes minutes on a CPU; reading it, none."""
    folders = [run_folder(run) for run in (psnr_run, gan_run)]
    source = {"weights": [hashlib.sha256((f / GENERATOR).read_bytes()).hexdigest() for f in folders],
              "images": {name: hashlib.sha256(np.ascontiguousarray(image).data).hexdigest()
                         for name, image in hr_images.items()},
              "alphas": list(alphas), "scale": scale}
    cache = Path(cache) if cache is not None else None
    if cache is not None and cache.is_file():
        saved = json.loads(cache.read_text())
        if saved.get("source") == source:
            return [InterpolationPoint(**point) for point in saved["points"]]
    points = trace_interpolation(trained_generator(folders[0]), trained_generator(folders[1]), hr_images, scale,
                                 alphas, tile, progress)
    if cache is not None:
        cache.write_text(json.dumps({"source": source, "points": [dataclasses.asdict(p) for p in points]}, indent=1))
    return points
