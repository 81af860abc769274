"""The interpolation knob as a widget: an alpha slider over the same crop interpolated two ways (network and
image), beside the perception-distortion plane with both traced curves and the current alpha's points on them.
Taught in notebook 05; the numbers come from :mod:`srlib.inference.interpolation`."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..inference.interpolation import ALPHAS, InterpolationPoint
from .widgets import GAP, PictureWidget, _image_widget, _set_picture, captioned, enlarge, integer_zoom

SPACE_STYLE = {"network": {"color": "#d62728", "label": "network interpolation"},
               "image": {"color": "#7f7f7f", "label": "image interpolation (control)"}}


def curve_picture(points: Sequence[InterpolationPoint], alpha: float, title: str = "",
                  size: tuple[float, float] = (3.6, 3.2), dpi: int = 100) -> np.ndarray:
    """RMSE (distortion) against NIQE of every traced point, lines by space, the points at ``alpha`` marked
    large; an RGB uint8 picture (the widget redraws it at each move of the slider)."""
    figure = Figure(figsize=size, dpi=dpi)
    axes = figure.add_subplot()
    for space, style in SPACE_STYLE.items():
        curve = sorted((p for p in points if p.space == space), key=lambda p: p.alpha)
        axes.plot([p.rmse for p in curve], [p.niqe for p in curve], ".-", lw=1, ms=4, color=style["color"],
                  label=style["label"])
        current = [p for p in curve if abs(p.alpha - alpha) < 1e-9]
        axes.plot([p.rmse for p in current], [p.niqe for p in current], "o", ms=9, color=style["color"],
                  markeredgecolor="k")
        for p in (curve[0], curve[-1]) if space == "network" else ():
            axes.annotate(f"alpha {p.alpha:g}", (p.rmse, p.niqe), textcoords="offset points", xytext=(4, 4),
                          fontsize=7)
    axes.set(xlabel="RMSE-Y (lower: less distortion)", ylabel="NIQE (lower: more natural)",
             title=title or f"alpha = {alpha:g}")
    axes.title.set_fontsize(9)
    axes.legend(fontsize=7, loc="upper right")
    axes.margins(0.15)
    figure.tight_layout()
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


class InterpolationSlider(PictureWidget):
    """A slider over ``alphas``: the crop of each knob (``crops[(space, alpha)]``, e.g. from
    :func:`srlib.inference.interpolation.interpolated_outputs` on an LR crop) and the point it reaches on the
    traced curve (``points``). ``ends`` name the two networks (alpha 0 and alpha 1)."""

    def __init__(self, crops: dict[tuple[str, float], np.ndarray], points: Sequence[InterpolationPoint],
                 ends: tuple[str, str], alphas: Sequence[float] = ALPHAS, alpha: float = 0.5,
                 max_width: int = 640) -> None:
        missing = [(space, a) for space in SPACE_STYLE for a in alphas if (space, a) not in crops]
        if missing:
            raise ValueError(f"no crop for {missing[:3]}: give one per space and alpha")
        self.crops, self.points, self.ends, self.alphas = crops, points, ends, list(alphas)
        width = crops["network", self.alphas[0]].shape[1]
        self.zoom = integer_zoom(2 * width + GAP, max_width, minimum=2)
        self.slider = widgets.SelectionSlider(options=[(f"{a:g}", a) for a in self.alphas],
                                              value=min(self.alphas, key=lambda a: abs(a - alpha)),
                                              description="alpha", continuous_update=True)
        self.caption = widgets.HTML()
        self.panels = {space: _image_widget(self._panel(space)) for space in SPACE_STYLE}
        self.curve = _image_widget(curve_picture(points, self.slider.value))
        self.slider.observe(lambda change: self._draw(), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.slider, self.caption]),
                                    widgets.HBox([*self.panels.values(), self.curve],
                                                 layout=widgets.Layout(grid_gap=f"{GAP}px"))])
        self.widget.add_class("srlib-interpolation")
        self._draw()

    def _panel(self, space: str) -> np.ndarray:
        return captioned(enlarge(self.crops[space, self.slider.value], self.zoom), SPACE_STYLE[space]["label"])

    def _describe(self) -> str:
        alpha = self.slider.value
        return f"alpha {alpha:g}: {1 - alpha:g} x {self.ends[0]} + {alpha:g} x {self.ends[1]}"

    def _draw(self) -> None:
        self.caption.value = self._describe()
        for space, image in self.panels.items():
            _set_picture(image, self._panel(space))
        _set_picture(self.curve, curve_picture(self.points, self.slider.value))

    def picture(self) -> np.ndarray:
        panels = [self._panel(space) for space in SPACE_STYLE]
        curve = curve_picture(self.points, self.slider.value)
        height = max(panel.shape[0] for panel in [*panels, curve])
        padded = [np.pad(p, ((0, height - p.shape[0]), (0, GAP), (0, 0)), constant_values=255) for p in panels]
        return captioned(np.concatenate([*padded, np.pad(curve, ((0, height - curve.shape[0]), (0, 0), (0, 0)),
                                                             constant_values=255)], axis=1),
                         self._describe(), above=True)
