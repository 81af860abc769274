"""The paper's data in one command each: ``srlib prepare df2k`` and ``srlib prepare benchmarks``.

DF2K is DIV2K's 800 training photos and Flickr2K's 2,650 (3,450 in all). As BasicSR prepares it, the full
HR photos get their MATLAB-bicubic x4 LR versions, then both are cut into sub-images (480 / 240 for HR,
120 / 60 for LR, so that LR sub-image ``k`` is exactly HR sub-image ``k`` shrunk). A manifest records the
counts; the training presets read these folders and refuse a half-built tree. The test sets (Set5, Set14,
B100, Urban100) are mod-cropped to x4 with their LR versions.

Every step is resumable and idempotent: archives are downloaded once (or taken from ``--*-archive``),
files already written are kept.

Taught in notebook 01.
"""

from __future__ import annotations

import json
import os
import shutil
from functools import partial
from pathlib import Path

from .degrade import make_lr, prepare_pairs
from .download import fetch_dataset
from .image_io import IMAGE_SUFFIXES, image_size, list_images, read_image, write_image
from .parallel import progress_map
from .subimages import count_subimages, extract_subimages

SCALE = 4
HR_CROP, HR_STEP = 480, 240
BENCHMARKS = {"set5": "Set5", "set14": "Set14", "b100": "B100", "urban100": "Urban100"}
MANIFEST = "manifest.json"


def hr_images(folder: Path) -> list[Path]:
    """The HR photos of an extracted dataset: images in folders named ``*HR`` (DIV2K_train_HR, Flickr2K_HR,
    Set14/HR, ...), or every image when no folder is so named."""
    images = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    named = [p for p in images if p.parent.name.upper().endswith("HR")]
    return named or images


def _link_or_copy(source: Path, target: Path) -> None:
    if not target.exists():
        try:
            os.link(source, target)  # no second copy of 15 GB of photos where the file system allows it
        except OSError:
            shutil.copy2(source, target)


def _write_lr(source: Path, lr_dir: Path) -> bool:
    target = lr_dir / (source.stem + ".png")
    if target.exists():
        return False
    hr = read_image(source)
    if hr.shape[0] % SCALE or hr.shape[1] % SCALE:
        raise ValueError(f"{source}: {hr.shape[1]}x{hr.shape[0]} is not a multiple of {SCALE}")
    write_image(target, make_lr(hr, SCALE))
    return True


def prepare_df2k(root: str | Path, div2k_archive: str | Path | None = None,
                 flickr2k_archive: str | Path | None = None, workers: int = 2, progress: bool = True) -> Path:
    """Build ``root/DF2K``: ``HR`` (the 3,450 photos), ``LR_x4``, ``HR_sub`` and ``LR_sub_x4`` and a manifest
    with the counts (checked against the closed-form sub-image count); returns the folder."""
    root = Path(root)
    sources = [fetch_dataset("div2k_train_hr", root, archive=div2k_archive, progress=progress),
               fetch_dataset("flickr2k", root, archive=flickr2k_archive, progress=progress)]
    df2k = root / "DF2K"
    (df2k / "HR").mkdir(parents=True, exist_ok=True)
    photos = [p for source in sources for p in hr_images(source)]
    for photo in photos:
        _link_or_copy(photo, df2k / "HR" / photo.name)
    hr_files = list_images(df2k / "HR")
    (df2k / f"LR_x{SCALE}").mkdir(exist_ok=True)
    progress_map(partial(_write_lr, lr_dir=df2k / f"LR_x{SCALE}"), hr_files, workers=workers, desc="LR x4",
                 progress=progress)
    extract_subimages(df2k / "HR", df2k / "HR_sub", HR_CROP, HR_STEP, workers=workers, progress=progress)
    extract_subimages(df2k / f"LR_x{SCALE}", df2k / f"LR_sub_x{SCALE}", HR_CROP // SCALE, HR_STEP // SCALE,
                      workers=workers, progress=progress)
    expected = sum(count_subimages(*image_size(p), HR_CROP, HR_STEP) for p in hr_files)
    counts = {name: len(list_images(df2k / name)) for name in ("HR", f"LR_x{SCALE}", "HR_sub", f"LR_sub_x{SCALE}")}
    if not counts["HR_sub"] == counts[f"LR_sub_x{SCALE}"] == expected:
        raise ValueError(f"{df2k}: {counts['HR_sub']} HR and {counts[f'LR_sub_x{SCALE}']} LR sub-images, "
                         f"{expected} expected; remove the sub-image folders and run `srlib prepare df2k` again")
    (df2k / MANIFEST).write_text(json.dumps({"folders": counts, "scale": SCALE, "crop": HR_CROP, "step": HR_STEP},
                                            indent=2) + "\n")
    return df2k


def prepare_benchmarks(root: str | Path, archives: dict[str, str | Path] | None = None, workers: int = 2,
                       progress: bool = True) -> Path:
    """Build ``root/benchmarks/<Set>/x4/HR`` (mod-cropped) and ``.../x4/LR`` for Set5, Set14, B100 and
    Urban100, with a manifest of the counts; returns ``root/benchmarks``."""
    root = Path(root)
    out = root / "benchmarks"
    counts = {}
    for name, title in BENCHMARKS.items():
        source = fetch_dataset(name, root, archive=(archives or {}).get(name), progress=progress)
        staging = out / title / "source"
        staging.mkdir(parents=True, exist_ok=True)
        for photo in hr_images(source):
            _link_or_copy(photo, staging / photo.name)
        prepare_pairs(staging, out / title, (SCALE,), workers=workers, progress=progress)
        counts[title] = len(list_images(out / title / f"x{SCALE}" / "HR"))
    (out / MANIFEST).write_text(json.dumps({"folders": counts, "scale": SCALE}, indent=2) + "\n")
    return out
