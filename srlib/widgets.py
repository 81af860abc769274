"""Before/after comparison in the notebook: an ipywidgets split slider, and its static figure.

Plain ipywidgets (a slider and an Image), no custom JavaScript, so it works in JupyterLab 4 and
Voila. Moving the slider recomposes the picture in Python: left of the split is ``before``, right
of it ``after``. Readers on GitHub, where widgets do not run, get :func:`before_after_figure`.
"""

from __future__ import annotations

import cv2
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np


def split_view(before: np.ndarray, after: np.ndarray, position: float, line: int = 2) -> np.ndarray:
    """``before`` left of ``position`` (a fraction of the width), ``after`` right of it, a white line between."""
    if before.shape != after.shape:
        raise ValueError(f"before/after shapes differ: {before.shape} vs {after.shape}")
    if not 0 <= position <= 1:
        raise ValueError(f"position must be in [0, 1], got {position}")
    x = round(position * before.shape[1])
    out = np.concatenate([before[:, :x], after[:, x:]], axis=1)
    out[:, max(0, x - line // 2):x + (line + 1) // 2] = np.iinfo(out.dtype).max if out.dtype.kind == "u" else 1
    return out


def png_bytes(image: np.ndarray) -> bytes:
    """PNG encoding of an RGB or gray uint8 image."""
    rgb = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", rgb)
    if not ok:
        raise ValueError("could not encode the image as PNG")
    return data.tobytes()


class BeforeAfter:
    """A split slider over two equally sized uint8 images; ``.widget`` is what the notebook shows."""

    def __init__(self, before: np.ndarray, after: np.ndarray, labels: tuple[str, str] = ("before", "after"),
                 position: float = 0.5, width: int | None = None) -> None:
        if before.shape != after.shape:
            raise ValueError(f"before/after shapes differ: {before.shape} vs {after.shape}")
        self.before, self.after = before, after
        self.slider = widgets.FloatSlider(value=position, min=0.0, max=1.0, step=0.01, readout=False,
                                          description=f"{labels[0]} | {labels[1]}",
                                          style={"description_width": "initial"},
                                          layout=widgets.Layout(width=f"{width or before.shape[1]}px"))
        self.image = widgets.Image(format="png", width=width or before.shape[1])
        self.slider.observe(lambda change: self._draw(), names="value")
        self._draw()
        self.widget = widgets.VBox([self.slider, self.image])

    def _draw(self) -> None:
        self.image.value = png_bytes(split_view(self.before, self.after, self.slider.value))

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)


def before_after_figure(before: np.ndarray, after: np.ndarray, labels: tuple[str, str] = ("before", "after"),
                        position: float = 0.5, size: float = 4.0):
    """The static version of :class:`BeforeAfter` (for readers without a kernel): a matplotlib figure."""
    view = split_view(before, after, position)
    fig, ax = plt.subplots(figsize=(size, size * view.shape[0] / view.shape[1]))
    ax.imshow(view, cmap="gray" if view.ndim == 2 else None, interpolation="nearest")
    x = position * view.shape[1]
    ax.text(x - 6, 12, labels[0], color="white", ha="right", va="top", fontsize=8,
            bbox={"facecolor": "black", "alpha": 0.5, "pad": 1})
    ax.text(x + 6, 12, labels[1], color="white", ha="left", va="top", fontsize=8,
            bbox={"facecolor": "black", "alpha": 0.5, "pad": 1})
    ax.axis("off")
    fig.tight_layout(pad=0.1)
    return fig
