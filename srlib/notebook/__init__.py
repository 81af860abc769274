"""Notebook helpers: the common setup, figures, live training curves, the comparison widgets and the
"your own photo" upscaler.
The course runner (``srlib course``) lives in :mod:`srlib.notebook.course`."""

from .interpolation import InterpolationSlider, curve_picture
from .own_photo import OwnPhoto
from .plots import LivePlot, draw_boxes, draw_rrdb, method_style, show_images, training_curves, validation_curves
from .setup import ensure_course_runs, setup
from .tables import ResultsTable, TableSet, per_image_tables
from .widgets import (
    BeforeAfter,
    CropZoom,
    Gallery,
    detail_window,
    difference_window,
    disagreement_window,
    encoded,
    enlarge,
    integer_zoom,
    split_view,
    static_widget_outputs,
)

__all__ = [
    "LivePlot", "draw_boxes", "draw_rrdb", "method_style", "show_images", "training_curves", "validation_curves",
    "ensure_course_runs", "setup", "ResultsTable", "TableSet", "per_image_tables", "OwnPhoto",
    "BeforeAfter", "CropZoom", "Gallery", "detail_window", "difference_window", "disagreement_window",
    "enlarge", "integer_zoom", "encoded",
    "split_view", "static_widget_outputs", "InterpolationSlider", "curve_picture",
]
