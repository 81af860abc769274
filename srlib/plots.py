"""Small figure helpers for the notebooks (matplotlib, modest sizes for committed outputs)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle


def show_images(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, cols: int | None = None,
                size: float = 2.0, cmap: str | None = None, vmax: float | None = None):
    """A grid of images with titles; gray images use ``cmap`` (default gray). Returns the figure."""
    cols = cols or len(images)
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, image in enumerate(images):
        ax = axes.ravel()[i]
        ax.imshow(image, cmap=cmap or ("gray" if image.ndim == 2 else None), vmin=0 if vmax else None, vmax=vmax,
                  interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig


def draw_boxes(ax, boxes: Sequence[tuple[int, int]], crop: int, colors: Sequence[str] | None = None) -> None:
    """Outline square crops given as (top, left) on an image axis."""
    for i, (top, left) in enumerate(boxes):
        color = colors[i] if colors is not None else "yellow"
        ax.add_patch(Rectangle((left, top), crop, crop, fill=False, lw=1.2, ec=color))
