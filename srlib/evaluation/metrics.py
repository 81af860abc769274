"""Full-reference metrics with the field's protocol: PSNR, SSIM, MS-SSIM and RMSE; and the colour shift.

Defaults reproduce the published super-resolution tables: Y channel of ITU-R BT.601 rounded to
uint8 (MATLAB's ``rgb2ycbcr`` on uint8 images), ``crop_border = scale`` pixels shaved on every
side, peak 255, SSIM as Wang et al.'s ``ssim_index.m`` (11x11 Gaussian, sigma 1.5, K = 0.01 / 0.03,
'valid' filtering, no downsampling). Every result can say which protocol produced it.

Taught in notebook 07.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.degrade import modcrop
from ..data.image_io import list_images, read_image
from .color import rgb_to_y
from .ma_score import MaModel, ma_score, perceptual_index
from .ma_score import fits as ma_fits
from .niqe import BLOCK as NIQE_BLOCK
from .niqe import niqe
from .structural import ms_ssim_tensor, plane_ssim_components


@dataclass(frozen=True)
class Protocol:
    """How images are compared: ``channel`` "y" or "rgb", border shave, Y rounded to uint8 or not."""

    channel: str = "y"
    crop_border: int = 4
    y_uint8: bool = True

    def __post_init__(self) -> None:
        if self.channel not in ("y", "rgb"):
            raise ValueError(f"Protocol.channel must be 'y' or 'rgb', got {self.channel!r}")
        if self.crop_border < 0:
            raise ValueError(f"Protocol.crop_border must be >= 0, got {self.crop_border}")

    def describe(self) -> str:
        """One line naming the protocol, for table headers and printed results."""
        if self.channel == "y":
            space = "Y (ITU-R BT.601" + (", rounded to uint8)" if self.y_uint8 else ", float)")
        else:
            space = "RGB"
        return f"{space}, crop_border={self.crop_border}, peak 255, MATLAB SSIM (11x11 Gaussian, sigma 1.5)"


def protocol_for(scale: int, channel: str = "y") -> Protocol:
    """The standard protocol at a given scale: shave ``scale`` pixels, Y rounded to uint8."""
    return Protocol(channel=channel, crop_border=scale)


def _to_255(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image.astype(np.float64)
    if image.dtype == np.uint16:
        return image.astype(np.float64) / 257.0
    if np.issubdtype(image.dtype, np.floating):
        return image.astype(np.float64) * 255.0  # float images are in [0, 1]
    raise TypeError(f"unsupported image dtype {image.dtype}")


def _planes(image: np.ndarray, protocol: Protocol) -> np.ndarray:
    """(C, H, W) float64 in 0..255 units as the protocol compares them, border shaved."""
    gray = image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1)
    pixels = _to_255(image.reshape(image.shape[0], image.shape[1], -1))
    if gray:
        planes = pixels[None, :, :, 0]  # a gray image *is* its Y channel
    elif protocol.channel == "y":
        y = rgb_to_y(pixels[..., :3])
        planes = (np.floor(y + 0.5) if protocol.y_uint8 and image.dtype == np.uint8 else y)[None]
    else:
        planes = pixels[..., :3].transpose(2, 0, 1)
    b = protocol.crop_border
    return planes[:, b : planes.shape[1] - b, b : planes.shape[2] - b] if b else planes


def _pair(sr: np.ndarray, hr: np.ndarray, protocol: Protocol) -> tuple[np.ndarray, np.ndarray]:
    if sr.shape != hr.shape:
        raise ValueError(f"SR and HR shapes differ: {sr.shape} vs {hr.shape}")
    a, b = _planes(sr, protocol), _planes(hr, protocol)
    if a.shape[1] < 1 or a.shape[2] < 1:
        raise ValueError(f"image {sr.shape[:2]} is too small for crop_border={protocol.crop_border}")
    return a, b


def mse(sr: np.ndarray, hr: np.ndarray, protocol: Protocol = Protocol()) -> float:
    """Mean squared error in 0..255 units under ``protocol``."""
    a, b = _pair(sr, hr, protocol)
    return float(np.mean((a - b) ** 2))


def _psnr_of(error: float) -> float:
    return math.inf if error == 0 else 10.0 * math.log10(255.0**2 / error)


def psnr(sr: np.ndarray, hr: np.ndarray, protocol: Protocol = Protocol()) -> float:
    """PSNR in dB, peak 255, under ``protocol`` (``inf`` for identical images)."""
    return _psnr_of(mse(sr, hr, protocol))


def rmse(sr: np.ndarray, hr: np.ndarray, protocol: Protocol = Protocol()) -> float:
    """Root mean squared error of one image (PIRM 2018: Y rounded to uint8, 4-pixel shave at x4).

    Over a set, PIRM reports ``sqrt(mean of per-image MSE)``, which :func:`evaluate` does.
    """
    return math.sqrt(mse(sr, hr, protocol))


def _as_tensors(sr: np.ndarray, hr: np.ndarray, protocol: Protocol) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = _pair(sr, hr, protocol)
    return torch.from_numpy(a)[None], torch.from_numpy(b)[None]


def _mean_ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([plane_ssim_components(x, y)[0] for x, y in zip(a, b, strict=True)]))


def ssim(sr: np.ndarray, hr: np.ndarray, protocol: Protocol = Protocol()) -> float:
    """SSIM (MATLAB ``ssim_index.m``) under ``protocol``; RGB is the mean over channels."""
    return _mean_ssim(*_pair(sr, hr, protocol))


def ms_ssim(sr: np.ndarray, hr: np.ndarray, protocol: Protocol = Protocol()) -> float:
    """MS-SSIM (5 scales) under ``protocol``; RGB is the mean over channels."""
    with torch.no_grad():
        return float(ms_ssim_tensor(*_as_tensors(sr, hr, protocol)).mean())


def channel_means_gap(sr: np.ndarray, hr: np.ndarray, crop_border: int = 0) -> np.ndarray:
    """SR's mean minus HR's mean of each colour channel (RGB, or the one gray plane), in grey levels (0..255),
    ``crop_border`` pixels shaved. A network that keeps the colours keeps these near 0 whatever its PSNR."""
    rgb = Protocol(channel="rgb", crop_border=crop_border)
    a, b = _pair(sr, hr, rgb)
    return a.mean(axis=(1, 2)) - b.mean(axis=(1, 2))


def channel_shift(sr: np.ndarray, hr: np.ndarray, crop_border: int = 0) -> float:
    """The colour cast of ``sr``: the largest :func:`channel_means_gap` in absolute value, in grey levels."""
    return float(np.abs(channel_means_gap(sr, hr, crop_border)).max())


def scores(sr: np.ndarray, hr: np.ndarray, protocol: Protocol = Protocol()) -> dict[str, float]:
    """PSNR, SSIM, MS-SSIM (NaN below 176 px) and RMSE of one pair under ``protocol``, the planes prepared
    once, and the colour shift (:func:`channel_shift`, RGB whatever the protocol, same border shaved)."""
    a, b = _pair(sr, hr, protocol)
    error = float(np.mean((a - b) ** 2))
    x, y = torch.from_numpy(a)[None], torch.from_numpy(b)[None]
    structural = _mean_ssim(a, b)
    with torch.no_grad():
        try:
            multiscale = float(ms_ssim_tensor(x, y).mean())
        except ValueError:  # smaller than 176 px: five scales do not fit
            multiscale = math.nan
    return {"psnr": _psnr_of(error), "ssim": structural, "ms_ssim": multiscale, "rmse": math.sqrt(error),
            "shift": channel_shift(sr, hr, protocol.crop_border)}


def pirm_niqe(sr: np.ndarray, scale: int) -> float:
    """NIQE as PIRM 2018 takes it (Y, ``scale`` pixels shaved); NaN when no whole 96x96 block is left, or when
    the image is too flat for its block statistics (a uniform image has no natural-scene statistics to fit)."""
    if min(sr.shape[:2]) - 2 * scale < NIQE_BLOCK:
        return math.nan
    try:
        return niqe(sr, crop_border=scale)
    except np.linalg.LinAlgError:
        return math.nan


def no_reference_scores(sr: np.ndarray, scale: int, ma_model: MaModel | None = None) -> dict[str, float]:
    """PIRM 2018's no-reference columns of one SR image (Y, ``scale`` px shaved): NIQE, and with Ma et al.'s
    model also Ma and the Perceptual Index. A score the image is too small for is NaN."""
    row = {"niqe": pirm_niqe(sr, scale)}
    if ma_model is not None:
        shaved = (sr.shape[0] - 2 * scale, sr.shape[1] - 2 * scale)
        row["ma"] = ma_score(sr, ma_model, crop_border=scale) if ma_fits(shaved) else math.nan
        row["pi"] = perceptual_index(row["ma"], row["niqe"])
    return row


def image_row(name: str, sr: np.ndarray, hr: np.ndarray, scale: int, protocol: Protocol, with_niqe: bool,
              ma_model: MaModel | None = None) -> dict:
    """One table row: :func:`scores` of the pair, plus :func:`no_reference_scores` of ``sr`` when asked."""
    row = {"image": name, **scores(sr, hr, protocol)}
    if with_niqe or ma_model is not None:
        row.update(no_reference_scores(sr, scale, ma_model))
    return row


@dataclass
class EvaluationTable:
    """Per-image metric rows, the set-level row, and the protocol that produced them."""

    rows: list[dict]
    mean: dict
    protocol: Protocol

    @classmethod
    def from_rows(cls, rows: list[dict], protocol: Protocol) -> EvaluationTable:
        """Rows of :func:`scores` (plus "image", and the no-reference columns when scored): the mean row averages every
        column over images, except RMSE, reported as ``sqrt(mean per-image MSE)`` (PIRM 2018)."""
        if not rows:
            raise ValueError("no images to evaluate")
        means = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k not in ("image", "rmse")}
        mean = {"image": "mean", **means, "rmse": math.sqrt(float(np.mean([r["rmse"] ** 2 for r in rows])))}
        return cls(rows=rows, mean={k: mean[k] for k in rows[0]}, protocol=protocol)

    def format(self) -> str:
        """A plain-text table headed by the protocol (and how NIQE was taken, when it is a column)."""
        keys = [k for k in self.rows[0] if k != "image"]
        lines = [f"protocol: {self.protocol.describe()}"]
        if "niqe" in keys:
            lines.append(f"NIQE: Y channel (uint8), {self.protocol.crop_border} px shaved, LIVE pristine model "
                         "(lower is better)")
            lines.append("Ma: Ma et al. 2017 (higher is better); PI = ((10 - Ma) + NIQE) / 2 (lower is better)"
                         if "pi" in keys else "PI: unavailable without Ma et al.'s model file (--ma-model)")
        if "shift" in keys:
            lines.append("shift: largest |SR - HR| of the R, G, B channel means, in grey levels (colour cast)")
        lines.append("image".ljust(24) + "".join(k.rjust(10) for k in keys))
        for row in [*self.rows, self.mean]:
            lines.append(str(row["image"]).ljust(24) + "".join(f"{row[k]:10.4f}" for k in keys))
        return "\n".join(lines)

    def to_csv(self, path: str | Path) -> None:
        """Write rows + mean as CSV (the protocol in a leading comment line)."""
        with open(path, "w", newline="") as f:
            f.write(f"# protocol: {self.protocol.describe()}\n")
            writer = csv.DictWriter(f, fieldnames=list(self.rows[0]))
            writer.writeheader()
            writer.writerows([*self.rows, self.mean])

    def to_json(self, path: str | Path) -> None:
        """Write rows, mean and protocol as JSON."""
        payload = {"protocol": asdict(self.protocol), "protocol_text": self.protocol.describe(),
                   "rows": self.rows, "mean": self.mean}
        Path(path).write_text(json.dumps(payload, indent=2))


def _describe(image: np.ndarray) -> str:
    kind = "gray" if image.ndim == 2 else {3: "RGB", 4: "RGBA"}.get(image.shape[2], f"{image.shape[2]}-channel")
    return f"{image.shape[1]}x{image.shape[0]} {kind}"


def evaluate(sr_dir: str | Path, hr_dir: str | Path, scale: int, protocol: Protocol | None = None,
             with_niqe: bool = True, ma_model: MaModel | None = None, sr_suffix: str = "") -> EvaluationTable:
    """PSNR / SSIM / MS-SSIM / RMSE (and NIQE of the SR image, PIRM-style: Y, ``scale`` px shaved; with
    ``ma_model`` also Ma et al.'s score and the Perceptual Index) of every SR image against the HR image
    of the same name (the SR name may end in ``sr_suffix``: ``_out`` for Real-ESRGAN's outputs).

    HR images are mod-cropped to ``scale``; an SR image of another size is an error naming it.
    The mean row averages PSNR/SSIM/MS-SSIM over images and reports RMSE as
    ``sqrt(mean per-image MSE)`` (PIRM 2018). MS-SSIM is NaN for images under 176 px.
    """
    protocol = protocol or protocol_for(scale)
    sr_by_stem: dict[str, Path] = {}
    for p in list_images(sr_dir):
        if p.stem.endswith(sr_suffix):
            stem = p.stem.removesuffix(sr_suffix)
            if stem in sr_by_stem:
                raise ValueError(f"two SR images for {stem} in {sr_dir}: {sr_by_stem[stem].name} and {p.name}")
            sr_by_stem[stem] = p
    hr_files = list_images(hr_dir)
    missing = [p.name for p in hr_files if p.stem not in sr_by_stem]
    if missing or not hr_files:
        raise FileNotFoundError(f"no SR image in {sr_dir} for HR image(s): {missing or 'none in ' + str(hr_dir)}")
    rows = []
    for hr_path in hr_files:
        sr_path = sr_by_stem[hr_path.stem]
        hr, sr = modcrop(read_image(hr_path), scale), read_image(sr_path)
        if sr.shape != hr.shape:
            raise ValueError(f"{sr_path} is {_describe(sr)} but HR {hr_path} (mod-cropped) is {_describe(hr)}")
        rows.append(image_row(hr_path.stem, sr, hr, scale, protocol, with_niqe, ma_model))
    return EvaluationTable.from_rows(rows, protocol)
