"""Sub-image extraction (BasicSR's rule): overlapping crops that make big photos cheap to load.

Along each axis crops start at 0, step, 2*step, ... while they fit; when the strip left after the
last crop is wider than ``thresh``, one more crop is aligned to the far border. DIV2K/DF2K use
crop 480, step 240, threshold 0 on HR (120 / 60 on x4 LR), about 40 sub-images per 2K photo.

Taught in notebook 01.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from .image_io import list_images, read_image, write_image
from .parallel import progress_map
from .split import source_of


def crop_starts(length: int, crop: int, step: int, thresh: int = 0) -> list[int]:
    """Start offsets of the crops along one axis (empty when ``length < crop``)."""
    if crop <= 0 or step <= 0:
        raise ValueError(f"crop and step must be positive, got crop={crop}, step={step}")
    if length < crop:
        return []
    starts = list(range(0, length - crop + 1, step))
    if length - (starts[-1] + crop) > thresh:
        starts.append(length - crop)
    return starts


def _count_axis(length: int, crop: int, step: int, thresh: int) -> int:
    if length < crop:
        return 0
    regular = (length - crop) // step + 1
    leftover = length - ((regular - 1) * step + crop)
    return regular + (1 if leftover > thresh else 0)


def count_subimages(width: int, height: int, crop: int = 480, step: int = 240, thresh: int = 0) -> int:
    """Closed-form number of sub-images :func:`extract_subimages` writes for one image."""
    return _count_axis(width, crop, step, thresh) * _count_axis(height, crop, step, thresh)


def subimage_boxes(width: int, height: int, crop: int = 480, step: int = 240, thresh: int = 0) -> list[tuple[int, int]]:
    """(top, left) of every sub-image, in the row-major order that numbers them (index = position + 1)."""
    lefts = crop_starts(width, crop, step, thresh)
    return [(top, left) for top in crop_starts(height, crop, step, thresh) for left in lefts]


def covered_fraction(covering: list[tuple[int, int]], covered: list[tuple[int, int]], crop: int) -> float:
    """Share of the pixels of the ``covered`` crops that also lie in some ``covering`` crop (one photo)."""
    if not covered:
        return 0.0
    bottom = max(t for t, _ in covering + covered) + crop
    right = max(left for _, left in covering + covered) + crop
    mask = np.zeros((bottom, right), bool)
    for top, left in covering:
        mask[top : top + crop, left : left + crop] = True
    return float(np.mean([mask[top : top + crop, left : left + crop].mean() for top, left in covered]))


def subimage_box(name: str | Path, boxes: dict[str, list[tuple[int, int]]]) -> tuple[int, int]:
    """(top, left) of sub-image ``<source>_sNNN``, given each source's :func:`subimage_boxes`."""
    index = int(Path(name).stem.rsplit("_s", 1)[1])
    return boxes[source_of(name)][index - 1]


def leaked_pixel_fraction(train: list[str], test: list[str], boxes: dict[str, list[tuple[int, int]]],
                          crop: int) -> float:
    """Share of all test sub-image pixels that also lie in a training sub-image of the same photo.

    What a split of overlapping sub-images leaks: 0 for a split by source photo.
    """
    leaked = 0.0
    for source in {source_of(n) for n in test}:
        covering = [subimage_box(n, boxes) for n in train if source_of(n) == source]
        covered = [subimage_box(n, boxes) for n in test if source_of(n) == source]
        if covering:
            leaked += covered_fraction(covering, covered, crop) * len(covered)
    return leaked / len(test)


def subimage_name(stem: str, index: int, suffix: str = ".png") -> str:
    """``0001`` and index 7 -> ``0001_s007.png`` (1-based, row-major, as BasicSR names them)."""
    return f"{stem}_s{index:03d}{suffix}"


def _extract_one(path: Path, dst: Path, crop: int, step: int, thresh: int) -> int:
    image = read_image(path)
    height, width = image.shape[:2]
    written = 0
    for index, (top, left) in enumerate(subimage_boxes(width, height, crop, step, thresh), start=1):
        target = dst / subimage_name(path.stem, index)
        if not target.exists():  # resuming: files are written atomically, so existing = complete
            write_image(target, image[top : top + crop, left : left + crop])
            written += 1
    return written


def extract_subimages(
    src_dir: str | Path,
    dst_dir: str | Path,
    crop: int = 480,
    step: int = 240,
    thresh: int = 0,
    *,
    workers: int = 2,
    progress: bool = True,
) -> int:
    """Crop every image of ``src_dir`` into ``dst_dir/<stem>_sNNN.png``; return how many were written.

    Resumable: an interrupted run picks up where it stopped. Images smaller than ``crop`` yield
    no sub-image (as the counter says).
    """
    dst = Path(dst_dir)
    dst.mkdir(parents=True, exist_ok=True)
    paths = list_images(src_dir)
    work = partial(_extract_one, dst=dst, crop=crop, step=step, thresh=thresh)
    return sum(progress_map(work, paths, workers=workers, desc="sub-images", progress=progress))
