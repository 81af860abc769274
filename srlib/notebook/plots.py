"""Small figure helpers for the notebooks (matplotlib, modest sizes for committed outputs)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from matplotlib.patches import Rectangle

# one colour per method in every figure of the course; "+ back-projection" keeps its method's colour
# and changes the marker, and the paper's rows take the colour of the course's counterpart
METHOD_COLORS = {"bicubic": "#7f7f7f", "EDSR": "#1f77b4", "RDN": "#9467bd", "WDSR-A": "#17becf",
                 "PSNR model": "#2ca02c", "GAN model": "#d62728", "ESRGAN": "#d62728", "ESRGAN-Pro": "#d62728",
                 "Real-ESRGAN x4plus": "#ff7f0e", "HR": "#000000",
                 "RRDB-23 PSNR (fine-tuned)": "#006d2c", "RRDB-23 GAN (fine-tuned)": "#67000d"}
_OTHER_COLORS = ("#8c564b", "#e377c2", "#bcbd22", "#393b79", "#637939")


def method_style(label: str) -> dict:
    """``color`` and ``marker`` of a method's label (e.g. "GAN model (RRDB) + back-projection")."""
    back_projected = label.endswith("+ back-projection") or label == "ESRGAN-Pro"
    base = label.removesuffix(" + back-projection").removesuffix(" (RRDB)").strip()
    color = METHOD_COLORS.get(base) or _OTHER_COLORS[sum(map(ord, base)) % len(_OTHER_COLORS)]
    return {"color": color, "marker": "s" if back_projected else "o"}


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
        _, ax = plt.subplots(figsize=(11, 3.4))  # 80 dpi: 9-point labels stay legible
    ax.set_xlim(0, 16)
    ax.set_ylim(0, 5)
    ax.axis("off")

    def box(x, y, w, h, text, color):
        ax.add_patch(Rectangle((x, y), w, h, fc=color, ec="k", lw=0.8))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=9)

    def arrow(x0, y0, x1, y1, style="-|>", rad=0.0):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle=style, mutation_scale=8, lw=0.8,
                                     connectionstyle=f"arc3,rad={rad}"))

    ax.text(0.2, 2.5, "x", fontsize=12, va="center")
    for i, x0 in enumerate((1.0, 5.4, 9.8)):
        ax.add_patch(Rectangle((x0 - 0.2, 0.9), 4.0, 3.2, fill=False, ls="--", lw=0.8))
        ax.text(x0 + 1.8, 4.3, f"dense block {i + 1}", ha="center", fontsize=10)
        for j in range(5):
            box(x0 + j * 0.72, 2.0, 0.55, 1.0, f"conv\n{j + 1}", "#cfe2f3" if j < 4 else "#f9cb9c")
            if j:
                arrow(x0 + (j - 1) * 0.72 + 0.55, 2.5, x0 + j * 0.72, 2.5)
        for j in range(1, 5):  # dense connections: every earlier output feeds every later conv
            arrow(x0 + 0.27, 3.0, x0 + j * 0.72 + 0.27, 3.0, rad=-0.5)
        ax.text(x0 + 3.65, 1.6, "x0.2 +", fontsize=9, va="center")
        arrow(x0 - 0.2, 1.2, x0 + 3.7, 1.2)  # inner skip
    arrow(0.5, 0.5, 14.6, 0.5)  # outer skip
    ax.text(14.7, 0.5, "x0.2 +", fontsize=10, va="center")
    ax.text(14.7, 2.5, "out", fontsize=12, va="center")
    return ax


def training_curves(records: Sequence[dict], losses: Sequence[str] = ("pixel",), size: float = 3.0):
    """Loss curves (left) and validation PSNR against the bicubic line (right) from a run's log records."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(2.2 * size, size))
    for name in losses:
        points = [(r["iteration"], r[name]) for r in records if name in r]
        if points:
            left.plot(*zip(*points, strict=True), label=name, lw=1)
    left.set(xlabel="iteration", ylabel="loss", yscale="log")
    if left.lines:
        left.legend(fontsize=7)
    val = [(r["iteration"], r["val_psnr_y"]) for r in records if "val_psnr_y" in r]
    if val:
        right.plot(*zip(*val, strict=True), "o-", ms=3, label="model (EMA)")
    bicubic = [r["bicubic_psnr_y"] for r in records if "bicubic_psnr_y" in r]
    if bicubic:
        right.axhline(bicubic[0], color="gray", ls="--", lw=1, label="bicubic")
    right.set(xlabel="iteration", ylabel="validation PSNR (Y, dB)")
    if right.lines:
        right.legend(fontsize=7)
    fig.tight_layout()
    return fig


def validation_curves(logs: dict[str, Sequence[dict]], title: str = "", size: float = 3.0):
    """Validation PSNR of several runs (``logs[label]``: a run's log records) against their bicubic line;
    the untrained starting point (iteration 0) is left out, so the curves fill the axes."""
    fig, ax = plt.subplots(figsize=(1.6 * size, size))
    for label, records in logs.items():
        points = [(r["iteration"], r["val_psnr_y"]) for r in records if "val_psnr_y" in r and r["iteration"] > 0]
        ax.plot(*zip(*points, strict=True), "-", ms=3, lw=1, label=label, **method_style(label))
    bicubic = next(r["bicubic_psnr_y"] for records in logs.values() for r in records if "bicubic_psnr_y" in r)
    ax.axhline(bicubic, color="gray", ls="--", lw=1, label="bicubic")
    ax.set(xlabel="iteration", ylabel="validation PSNR (Y, dB)", title=title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.tight_layout()
    return fig


class LivePlot:
    """A training callback (``train(config, callback=LivePlot())``) that redraws :func:`training_curves`
    in place, at most every ``interval`` seconds and at every validation."""

    def __init__(self, losses: Sequence[str] = ("pixel",), interval: float = 5.0) -> None:
        self.losses, self.interval = losses, interval
        self.records: list[dict] = []
        self._handle = None
        self._last = 0.0

    def __call__(self, record: dict) -> None:
        self.records.append(record)
        now = time.monotonic()
        if "val_psnr_y" not in record and now - self._last < self.interval:
            return
        self._last = now
        fig = training_curves(self.records, self.losses)
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)
