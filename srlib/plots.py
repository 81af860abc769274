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


def draw_rrdb(ax=None):
    """Schematic of one RRDB: three residual dense blocks (five densely connected convs each),
    inner and outer skips scaled by beta = 0.2. Returns the axis."""
    from matplotlib.patches import FancyArrowPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.4))
    ax.set_xlim(0, 16)
    ax.set_ylim(0, 5)
    ax.axis("off")

    def box(x, y, w, h, text, color):
        ax.add_patch(Rectangle((x, y), w, h, fc=color, ec="k", lw=0.8))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=7)

    def arrow(x0, y0, x1, y1, style="-|>", rad=0.0):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle=style, mutation_scale=8, lw=0.8,
                                     connectionstyle=f"arc3,rad={rad}"))

    ax.text(0.2, 2.5, "x", fontsize=9, va="center")
    for i, x0 in enumerate((1.0, 5.4, 9.8)):
        ax.add_patch(Rectangle((x0 - 0.2, 0.9), 4.0, 3.2, fill=False, ls="--", lw=0.8))
        ax.text(x0 + 1.8, 4.3, f"dense block {i + 1}", ha="center", fontsize=7)
        for j in range(5):
            box(x0 + j * 0.72, 2.0, 0.55, 1.0, f"conv\n{j + 1}", "#cfe2f3" if j < 4 else "#f9cb9c")
            if j:
                arrow(x0 + (j - 1) * 0.72 + 0.55, 2.5, x0 + j * 0.72, 2.5)
        for j in range(1, 5):  # dense connections: every earlier output feeds every later conv
            arrow(x0 + 0.27, 3.0, x0 + j * 0.72 + 0.27, 3.0, rad=-0.5)
        ax.text(x0 + 3.65, 1.6, "x0.2 +", fontsize=6, va="center")
        arrow(x0 - 0.2, 1.2, x0 + 3.7, 1.2)  # inner skip
    arrow(0.5, 0.5, 14.6, 0.5)  # outer skip
    ax.text(14.7, 0.5, "x0.2 +", fontsize=7, va="center")
    ax.text(14.7, 2.5, "out", fontsize=9, va="center")
    return ax
