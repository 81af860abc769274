"""Notebook helpers: the common setup, figures, live training curves and the comparison widgets.
The course runner (``srlib course``) lives in :mod:`srlib.notebook.course`."""

from .plots import LivePlot, draw_boxes, draw_rrdb, method_style, show_images, training_curves
from .setup import ensure_course_runs, setup
from .tables import ResultsTable
from .widgets import (
    BeforeAfter,
    CropZoom,
    Gallery,
    detail_window,
    enlarge,
    integer_zoom,
    png_bytes,
    split_view,
    static_widget_outputs,
)

__all__ = [
    "LivePlot", "draw_boxes", "draw_rrdb", "method_style", "show_images", "training_curves", "ensure_course_runs",
    "setup", "ResultsTable",
    "BeforeAfter", "CropZoom", "Gallery", "detail_window", "enlarge", "integer_zoom", "png_bytes", "split_view",
    "static_widget_outputs",
]
