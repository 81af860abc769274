import numpy as np
import pytest

from srlib.notebook import (
    BeforeAfter,
    CropZoom,
    Gallery,
    LivePlot,
    before_after_figure,
    png_bytes,
    split_view,
    training_curves,
    zoom_figure,
    zoom_row,
)


def test_split_view_puts_before_left_and_after_right():
    before, after = np.zeros((4, 10, 3), np.uint8), np.full((4, 10, 3), 100, np.uint8)
    view = split_view(before, after, 0.5, line=0)
    assert (view[:, :5] == 0).all() and (view[:, 5:] == 100).all()
    assert (split_view(before, after, 0.5, line=2)[:, 4:6] == 255).all()
    assert (split_view(before, after, 0.0, line=0) == after).all()
    with pytest.raises(ValueError, match="shapes differ"):
        split_view(before, after[:, :9], 0.5)


def test_moving_the_slider_changes_the_displayed_image():
    rng = np.random.default_rng(0)
    before, after = rng.integers(0, 128, (20, 30, 3), np.uint8), rng.integers(128, 256, (20, 30, 3), np.uint8)
    view = BeforeAfter(before, after, ("bicubic", "model"))
    shown = view.image.value
    assert shown == png_bytes(split_view(before, after, 0.5))
    view.slider.value = 0.9
    assert view.image.value != shown
    assert view.image.value == png_bytes(split_view(before, after, 0.9))
    assert "bicubic" in view.slider.description


def test_static_figures_render():
    image = np.zeros((20, 30, 3), np.uint8)
    assert before_after_figure(image, image).axes
    records = [{"iteration": 0, "val_psnr_y": 20.0, "bicubic_psnr_y": 25.0}, {"iteration": 10, "pixel": 0.1},
               {"iteration": 20, "pixel": 0.05, "val_psnr_y": 24.0}]
    fig = training_curves(records)
    assert [len(ax.lines) for ax in fig.axes] == [1, 2]
    live = LivePlot(interval=1e9)
    for record in records:
        live(record)
    assert live.records == records


def test_zoom_row_and_crop_zoom_follow_the_sliders():
    a, b = np.zeros((40, 50, 3), np.uint8), np.full((40, 50, 3), 200, np.uint8)
    a[10:20, 10:20] = 100
    row = zoom_row({"a": a, "b": b}, 10, 10, 10, zoom=2)
    assert row.shape == (20, 44, 3) and (row[:, :20] == 100).all() and (row[:, 24:] == 200).all()
    with pytest.raises(ValueError, match="outside a"):
        zoom_row({"a": a}, 35, 0, 10)
    view = CropZoom({"a": a, "b": b}, size=10)
    shown = view.image.value
    view.top.value, view.left.value = 10, 10
    assert view.image.value != shown
    assert view.image.value == png_bytes(zoom_row({"a": a, "b": b}, 10, 10, 10, 3))
    assert zoom_figure({"a": a, "b": b}, 10, 10, 10).axes


def test_gallery_selectors_change_the_compared_images():
    rng = np.random.default_rng(1)
    results = {name: {m: rng.integers(0, 256, (16, 16, 3), np.uint8) for m in ("bicubic", "GAN", "HR")}
               for name in ("coffee", "flower")}
    gallery = Gallery(results)
    first = gallery.split.image.value
    assert (gallery.split.before is results["coffee"]["bicubic"]) and (gallery.split.after is results["coffee"]["HR"])
    gallery.image_choice.value = "flower"
    assert gallery.split.after is results["flower"]["HR"] and gallery.split.image.value != first
    gallery.left_choice.value = "GAN"
    assert gallery.split.before is results["flower"]["GAN"]
    assert gallery.split.slider.description == "GAN | HR"
