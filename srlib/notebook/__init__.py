"""Notebook helpers: the common setup, figures, live training curves and the comparison widgets.
The course runner (``srlib course``) lives in :mod:`srlib.notebook.course`."""

from .plots import LivePlot, draw_boxes, draw_rrdb, show_images, training_curves
from .setup import ensure_course_runs, setup
from .widgets import BeforeAfter, CropZoom, Gallery, before_after_figure, png_bytes, split_view, zoom_figure, zoom_row

__all__ = [
    "LivePlot", "draw_boxes", "draw_rrdb", "show_images", "training_curves", "ensure_course_runs", "setup",
    "BeforeAfter", "CropZoom", "Gallery", "before_after_figure", "png_bytes", "split_view", "zoom_figure", "zoom_row",
]
