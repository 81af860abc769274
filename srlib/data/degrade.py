"""The degradation of the paper: LR = MATLAB bicubic downscaling of a mod-cropped HR image.

Taught in notebook 01.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .image_io import list_images, read_image, write_image
from .parallel import progress_map
from .resize import imresize


def modcrop(image: np.ndarray, scale: int) -> np.ndarray:
    """Crop height and width down to multiples of ``scale`` (keeping the top-left corner)."""
    height, width = image.shape[:2]
    return image[: height - height % scale, : width - width % scale]


def make_lr(hr: np.ndarray, scale: int) -> np.ndarray:
    """LR image = MATLAB ``imresize(hr, 1/scale, 'bicubic')`` (integer images keep uint semantics).

    ``hr`` must already be a multiple of ``scale`` in both dimensions (see :func:`modcrop`), so that
    LR x scale == HR exactly.
    """
    height, width = hr.shape[:2]
    if height % scale or width % scale:
        raise ValueError(
            f"make_lr: HR size {width}x{height} is not a multiple of scale {scale}; modcrop it first"
        )
    return imresize(hr, 1.0 / scale)


def pair_paths(out_dir: Path, scale: int, name: str) -> tuple[Path, Path]:
    """Where :func:`prepare_pairs` puts the HR / LR files of one image at one scale."""
    stem = Path(name).stem + ".png"
    return out_dir / f"x{scale}" / "HR" / stem, out_dir / f"x{scale}" / "LR" / stem


def _make_pair(job: tuple[Path, int], out_dir: Path, crop: bool) -> bool:
    source, scale = job
    hr_path, lr_path = pair_paths(out_dir, scale, source.name)
    if hr_path.exists() and lr_path.exists():
        return False
    hr = read_image(source)
    height, width = hr.shape[:2]
    if not crop and (height % scale or width % scale):
        raise ValueError(
            f"{source}: size {width}x{height} is not a multiple of scale {scale} (pass crop=True to modcrop it)"
        )
    hr = modcrop(hr, scale)
    write_image(hr_path, hr)
    write_image(lr_path, make_lr(hr, scale))
    return True


@dataclass(frozen=True)
class PrepareReport:
    written: int
    skipped: int


def prepare_pairs(
    hr_dir: str | Path,
    out_dir: str | Path,
    scales: tuple[int, ...] = (2, 3, 4),
    *,
    crop: bool = True,
    workers: int = 2,
    progress: bool = True,
) -> PrepareReport:
    """Write ``out_dir/x{s}/HR/<name>.png`` (mod-cropped) and ``out_dir/x{s}/LR/<name>.png``.

    Idempotent: pairs already on disk are skipped (files are written atomically, so an
    interrupted run leaves no half-written image). With ``crop=False`` an HR image that is not a
    multiple of the scale is refused instead of cropped.
    """
    jobs = [(path, scale) for path in list_images(hr_dir) for scale in scales]
    make = partial(_make_pair, out_dir=Path(out_dir), crop=crop)
    done = progress_map(make, jobs, workers=workers, desc="HR -> LR pairs", progress=progress)
    return PrepareReport(written=sum(done), skipped=len(done) - sum(done))
