"""Comparing images in the notebook: a before/after split slider, a zoom on one crop for several
methods, and a gallery with image and method selectors; each with a static matplotlib figure.

Plain ipywidgets (sliders, dropdowns and an Image), no custom JavaScript, so they work in JupyterLab 4
and Voila. Every change recomposes the picture in Python. Readers on GitHub, where widgets do not
run, get the static figures (:func:`before_after_figure`, :func:`zoom_figure`).
"""

from __future__ import annotations

import cv2
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display


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


class _Widget:
    """Shows its ``widget`` when it is the value of a notebook cell."""

    widget: widgets.Widget

    def _ipython_display_(self) -> None:
        display(self.widget)


class BeforeAfter(_Widget):
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
        self.widget.add_class("srlib-before-after")

    def set_images(self, before: np.ndarray, after: np.ndarray, labels: tuple[str, str] | None = None) -> None:
        """Show another pair (same split position)."""
        if before.shape != after.shape:
            raise ValueError(f"before/after shapes differ: {before.shape} vs {after.shape}")
        self.before, self.after = before, after
        if labels is not None:
            self.slider.description = f"{labels[0]} | {labels[1]}"
        self._draw()

    def _draw(self) -> None:
        self.image.value = png_bytes(split_view(self.before, self.after, self.slider.value))


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


def zoom_row(images: dict[str, np.ndarray], top: int, left: int, size: int, zoom: int = 3) -> np.ndarray:
    """The same ``size`` x ``size`` crop of every image, enlarged ``zoom`` x (nearest), side by side with
    4-pixel gaps: one uint8 picture."""
    crops = []
    for name, image in images.items():
        if top < 0 or left < 0 or top + size > image.shape[0] or left + size > image.shape[1]:
            raise ValueError(f"crop ({top}, {left}, {size}) falls outside {name} ({image.shape[1]}x{image.shape[0]})")
        crop = image[top:top + size, left:left + size]
        crops.append(np.kron(crop, np.ones((zoom, zoom, 1) if crop.ndim == 3 else (zoom, zoom), np.uint8)))
    gap = np.full((size * zoom, 4, *crops[0].shape[2:]), 255, np.uint8)
    return np.concatenate([part for crop in crops for part in (crop, gap)][:-1], axis=1)


class CropZoom(_Widget):
    """One crop of several methods' outputs, side by side and enlarged; sliders move the crop."""

    def __init__(self, images: dict[str, np.ndarray], size: int = 48, zoom: int = 3) -> None:
        self.images, self.size, self.zoom = images, size, zoom
        h, w = next(iter(images.values())).shape[:2]
        self.top = widgets.IntSlider(value=(h - size) // 2, min=0, max=h - size, description="top")
        self.left = widgets.IntSlider(value=(w - size) // 2, min=0, max=w - size, description="left")
        self.image = widgets.Image(format="png")
        self.names = widgets.HTML(" | ".join(images))
        for slider in (self.top, self.left):
            slider.observe(lambda change: self._draw(), names="value")
        self._draw()
        self.widget = widgets.VBox([widgets.HBox([self.top, self.left]), self.names, self.image])
        self.widget.add_class("srlib-crop-zoom")

    def _draw(self) -> None:
        self.image.value = png_bytes(zoom_row(self.images, self.top.value, self.left.value, self.size, self.zoom))


def zoom_figure(images: dict[str, np.ndarray], top: int, left: int, size: int = 48, panel: float = 2.0):
    """The static version of :class:`CropZoom`: one titled panel per method."""
    fig, axes = plt.subplots(1, len(images), figsize=(panel * len(images), panel), squeeze=False)
    for ax, (name, image) in zip(axes[0], images.items()):
        ax.imshow(image[top:top + size, left:left + size], cmap="gray" if image.ndim == 2 else None,
                  interpolation="nearest")
        ax.set_title(name, fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig


class Gallery(_Widget):
    """Pick an image and two methods; a split slider compares them.

    ``results[image][method]`` are equally sized uint8 outputs (the HR image may be one "method")."""

    def __init__(self, results: dict[str, dict[str, np.ndarray]]) -> None:
        self.results = results
        images = list(results)
        methods = list(results[images[0]])
        self.image_choice = widgets.Dropdown(options=images, description="image")
        self.left_choice = widgets.Dropdown(options=methods, value=methods[0], description="left")
        self.right_choice = widgets.Dropdown(options=methods, value=methods[-1], description="right")
        self.split = BeforeAfter(*self._pair(), labels=self._labels())
        for choice in (self.image_choice, self.left_choice, self.right_choice):
            choice.observe(lambda change: self.split.set_images(*self._pair(), labels=self._labels()), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.image_choice, self.left_choice, self.right_choice]),
                                    self.split.widget])
        self.widget.add_class("srlib-gallery")

    def _pair(self) -> tuple[np.ndarray, np.ndarray]:
        outputs = self.results[self.image_choice.value]
        return outputs[self.left_choice.value], outputs[self.right_choice.value]

    def _labels(self) -> tuple[str, str]:
        return self.left_choice.value, self.right_choice.value
