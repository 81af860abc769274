"""Scoring an upscaler the way SR tables do: HR -> MATLAB bicubic LR -> upscaler -> metrics vs HR.

Taught in notebooks 03, 04 and 07.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..data.degrade import make_lr, modcrop
from ..data.image_io import list_images, read_image
from ..data.resize import imresize
from .ma_score import MaModel
from .metrics import EvaluationTable, Protocol, image_row, protocol_for


def evaluate_upscaler(upscale: Callable[[np.ndarray], np.ndarray], hr_paths: Sequence[str | Path], scale: int,
                      protocol: Protocol | None = None, with_niqe: bool = False,
                      ma_model: MaModel | None = None) -> EvaluationTable:
    """Degrade each HR image (mod-crop, MATLAB bicubic), upscale it with ``upscale``, score it (and take
    the NIQE of the output, PIRM style: Y, ``scale`` px shaved, when ``with_niqe``; Ma and PI too when
    ``ma_model`` is given)."""
    protocol = protocol or protocol_for(scale)
    rows = []
    for path in hr_paths:
        hr = modcrop(read_image(path), scale)
        rows.append(image_row(Path(path).stem, upscale(make_lr(hr, scale)), hr, scale, protocol, with_niqe, ma_model))
    return EvaluationTable.from_rows(rows, protocol)


def memoized(upscale: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """``upscale`` computing each distinct LR image once: a table, a figure and a gallery of the same test
    images then share one (possibly minute-long) forward pass. The results are kept; do not write to them."""
    results: dict[tuple, np.ndarray] = {}

    def once(lr: np.ndarray) -> np.ndarray:
        key = (lr.shape, lr.dtype.str, hashlib.sha1(np.ascontiguousarray(lr).data).hexdigest())
        if key not in results:
            results[key] = upscale(lr)
        return results[key]

    return once


def bicubic_baseline(hr_dir: str | Path, scale: int, protocol: Protocol | None = None) -> EvaluationTable:
    """The "Bicubic" row: with the standard protocol this reproduces the published numbers
    (e.g. Set5 x4: 28.42 dB / 0.8104 on Y)."""
    return evaluate_upscaler(lambda lr: imresize(lr, scale), list_images(hr_dir), scale, protocol)
