import base64
import datetime

import nbformat
import numpy as np
import pytest

from srlib.notebook import (
    BeforeAfter,
    CropZoom,
    Gallery,
    LivePlot,
    ResultsTable,
    detail_window,
    difference_window,
    encoded,
    enlarge,
    integer_zoom,
    method_style,
    split_view,
    static_widget_outputs,
    training_curves,
)
from srlib.notebook.widgets import WIDGET_VIEW


def decoded(png: bytes) -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_split_view_puts_before_left_and_after_right():
    before, after = np.zeros((4, 10, 3), np.uint8), np.full((4, 10, 3), 100, np.uint8)
    view = split_view(before, after, 0.5, line=0)
    assert (view[:, :5] == 0).all() and (view[:, 5:] == 100).all()
    assert (split_view(before, after, 0.5, line=2)[:, 4:6] == 255).all()
    assert (split_view(before, after, 0.0, line=0) == after).all()
    with pytest.raises(ValueError, match="shapes differ"):
        split_view(before, after[:, :9], 0.5)


def test_enlargement_is_a_whole_factor_of_repeated_pixels():
    assert integer_zoom(256, 960) == 3 and integer_zoom(320, 960) == 3 and integer_zoom(2000, 960) == 1
    assert integer_zoom(500, 960, minimum=2) == 2
    image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    big = enlarge(image, 3)
    assert big.shape == (6, 9) and (big[3:6, 6:9] == 5).all() and (big[:3, :3] == 0).all()


def test_detail_window_finds_the_textured_patch_on_a_flat_image():
    rng = np.random.default_rng(0)
    image = np.full((120, 200, 3), 90, np.uint8)
    image[70:102, 130:162] = rng.integers(0, 256, (32, 32, 3))
    top, left = detail_window(image, 32)
    assert abs(top - 70) <= 1 and abs(left - 130) <= 1
    assert detail_window(image, 120, 200) == (0, 0)
    with pytest.raises(ValueError, match="does not fit"):
        detail_window(image, 121)


def test_the_slider_spans_the_enlarged_picture_and_moves_the_split():
    rng = np.random.default_rng(0)
    before, after = rng.integers(0, 128, (20, 300, 3), np.uint8), rng.integers(128, 256, (20, 300, 3), np.uint8)
    view = BeforeAfter(before, after, ("bicubic", "model"), max_width=960)
    assert view.zoom == 3 and view.slider.layout.width == view.image.layout.width == "900px"
    assert view.slider.description == ""  # the labels sit above the picture, not in the slider's track
    assert "bicubic" in view.labels.children[0].value and "model" in view.labels.children[1].value
    shown = view.image.value
    assert shown == encoded(enlarge(split_view(before, after, 0.5), 3))
    view.slider.value = 0.75
    assert view.image.value != shown
    assert (decoded(view.image.value)[:, :600] == enlarge(before, 3)[:, :600]).all()


def test_the_saved_before_after_picture_shows_both_images_whole_on_the_same_region():
    before = np.zeros((20, 30, 3), np.uint8)
    after = np.full((20, 30, 3), 200, np.uint8)
    view = BeforeAfter(before, after, ("bicubic", "GAN"), max_width=140)
    picture = view.picture()
    zoom = 2  # (2 * 30 + 8) px fit twice into 140
    assert picture.shape[1] == 2 * 30 * zoom + 8
    assert (picture[:20 * zoom, :30 * zoom] == 0).all() and (picture[:20 * zoom, -30 * zoom:] == 200).all()


def test_each_widget_saves_a_picture_of_itself_beside_its_view():
    image = np.zeros((40, 60, 3), np.uint8)
    for widget in (BeforeAfter(image, image + 200, ("a", "b")), CropZoom({"a": image, "HR": image}, size=16),
                   Gallery({"x": {"a": image, "HR": image + 50}}, crop=(30, 40))):
        bundle = widget._repr_mimebundle_()
        assert WIDGET_VIEW in bundle
        picture = decoded(base64.b64decode(bundle["image/png"]))
        assert picture.shape[0] > 40 and picture.shape[1] >= 60  # the view and its captions


def test_static_widget_outputs_keeps_the_picture_and_drops_the_dead_view():
    view = BeforeAfter(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8, 3), np.uint8))
    bundle = view._repr_mimebundle_()
    cell = nbformat.v4.new_code_cell("view", outputs=[nbformat.v4.new_output("display_data", data=bundle),
                                                      nbformat.v4.new_output("display_data",
                                                                             data={WIDGET_VIEW: bundle[WIDGET_VIEW]})])
    text = nbformat.v4.new_output("stream", text="done")
    cell.outputs.append(text)
    notebook = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell("no outputs")])
    assert static_widget_outputs(notebook) == 2
    assert len(cell.outputs) == 2  # the view without a picture (a progress bar) is gone
    assert set(cell.outputs[0].data) == {"image/png", "text/plain"} and cell.outputs[1] == text


def test_training_curves_and_live_plot():
    records = [{"iteration": 0, "val_psnr_y": 20.0, "bicubic_psnr_y": 25.0}, {"iteration": 10, "pixel": 0.1},
               {"iteration": 20, "pixel": 0.05, "val_psnr_y": 24.0}]
    fig = training_curves(records)
    assert [len(ax.lines) for ax in fig.axes] == [1, 2]
    live = LivePlot(interval=1e9)
    for record in records:
        live(record)
    assert live.records == records


def test_crop_zoom_opens_where_methods_differ_captions_every_panel_and_follows_the_sliders():
    a, b = np.full((40, 50, 3), 200, np.uint8), np.full((40, 50, 3), 200, np.uint8)
    b[22:32, 30:40] = np.arange(100, dtype=np.uint8).reshape(10, 10, 1)
    view = CropZoom({"a": a, "b": b}, size=10)
    assert (view.top.value, view.left.value) == (22, 30)  # where the two differ
    assert view.zoom >= 2 and [c.value for c in view.captions.values()] != ["", ""]
    assert all(name in view.captions[name].value for name in ("a", "b"))
    shown = view.panels["b"].value
    view.top.value, view.left.value = 0, 0
    assert view.panels["b"].value != shown
    assert view.panels["b"].value == encoded(enlarge(b[:10, :10], view.zoom))
    assert view.panels["b"].layout.width == f"{10 * view.zoom}px"  # natural size, not stretched
    picture = view.picture()  # the saved picture: both panels, a gap, a caption strip under them
    assert picture.shape == (10 * view.zoom + 22, 20 * view.zoom + 8, 3)
    with pytest.raises(ValueError, match="outside a"):
        view.top.max = 40
        view.top.value = 35


def test_gallery_selectors_and_crop_change_the_compared_images():
    rng = np.random.default_rng(1)
    results = {name: {m: rng.integers(0, 256, (60, 80, 3), np.uint8) for m in ("bicubic", "GAN", "HR")}
               for name in ("coffee", "flower")}
    gallery = Gallery(results, crop=(30, 40))
    first = gallery.split.image.value
    window = (slice(gallery.top.value, gallery.top.value + 30), slice(gallery.left.value, gallery.left.value + 40))
    assert (gallery.split.before == results["coffee"]["bicubic"][window]).all()
    # the crop opens where the methods (not HR) disagree most
    assert (gallery.top.value, gallery.left.value) == difference_window(results["coffee"]["bicubic"],
                                                                        results["coffee"]["GAN"], 30, 40)
    gallery.image_choice.value = "flower"
    assert gallery.split.image.value != first
    gallery.left_choice.value = "GAN"
    gallery.top.value, gallery.left.value = 5, 7
    assert (gallery.split.before == results["flower"]["GAN"][5:35, 7:47]).all()
    assert (gallery.split.after == results["flower"]["HR"][5:35, 7:47]).all()
    assert "GAN" in gallery.split.labels.children[0].value


def test_results_table_marks_the_best_of_each_column_both_ways():
    rows = {"bicubic": {"psnr": 28.0, "niqe": 9.4}, "GAN <model>": {"psnr": 27.5, "niqe": 7.1},
            "PSNR model": {"psnr": 29.6, "niqe": float("nan")}}
    table = ResultsTable(rows, ("psnr", "niqe"), n_images=2, caption="Y, crop 4", notes={"bicubic": "ref"},
                         notes_header="paper")
    page = table._repr_html_()
    assert "mean of 2 images" in page and "<b>29.60</b>" in page and "<b>7.10</b>" in page
    assert "<b>28.00</b>" not in page and "GAN &lt;model&gt;" in page and "n/a" in page and "ref" in page
    text = str(table).splitlines()
    assert text[0].startswith("mean of 2 images") and "29.60*" in text[4] and "7.10*" in text[3]


def test_a_method_keeps_its_colour_across_labels():
    gan, projected = method_style("GAN model (RRDB)"), method_style("GAN model + back-projection")
    assert gan["color"] == projected["color"] == method_style("ESRGAN")["color"]
    assert gan["marker"] != projected["marker"]
    assert method_style("bicubic")["color"] != gan["color"]
    assert method_style("my net") == method_style("my net")


def test_long_captions_wrap_instead_of_being_cut():
    import cv2

    from srlib.notebook.widgets import FONT, captioned, wrapped

    lines = wrapped("GAN model + back-projection", 120)
    assert len(lines) >= 2 and "".join(lines).replace(" ", "") == "GANmodel+back-projection"
    assert all(cv2.getTextSize(line, FONT, 0.5, 1)[0][0] <= 120 for line in lines)
    assert captioned(np.zeros((10, 128, 3), np.uint8), "GAN model + back-projection", lines=3).shape == (68, 128, 3)
    view = CropZoom({"bicubic": np.zeros((40, 40, 3), np.uint8), "GAN model + back-projection":
                     np.zeros((40, 40, 3), np.uint8)}, size=20, zoom=2)
    assert view.picture().shape[0] == 40 + 4 + 18 * len(wrapped("GAN model + back-projection", 32))


def _upload(name: str, data: bytes) -> tuple[dict]:
    """What a FileUpload's value is after the browser sends one file."""
    return ({"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
             "last_modified": datetime.datetime.now(datetime.UTC)},)


def _file(image: np.ndarray, suffix: str) -> bytes:
    import cv2

    ok, data = cv2.imencode(suffix, image)
    assert ok
    return data.tobytes()


def test_own_photo_upscales_a_window_of_the_photo_and_takes_any_upload(tmp_path):
    import torch

    from srlib.data import imresize
    from srlib.models import build_model
    from srlib.notebook import OwnPhoto

    torch.manual_seed(0)
    models = {"net a": build_model("edsr_small", scale=4).eval(), "net b": build_model("wdsr_a_small", scale=4).eval()}
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    path.write_bytes(_file(photo[:, :, ::-1], ".png"))
    view = OwnPhoto(models, path, window=(40, 60))
    assert view.lr.shape == (40, 60, 3) and "window of most detail" in view.status.value
    assert (view.split.before == imresize(view.lr, 4)).all() and view.split.after.shape == (160, 240, 3)
    first = view.split.after
    view.model_choice.value = "net b"  # another network, same photo
    assert view.split.label_text == ("bicubic", "net b") and not (view.split.after == first).all()

    gray16 = rng.integers(0, 65536, (30, 20), dtype=np.uint16)  # a small 16-bit gray photo: taken whole
    view.upload.value = _upload("scan.png", _file(gray16, ".png"))
    assert "gray shown as RGB" in view.status.value and "16-bit rounded to 8" in view.status.value
    assert view.lr.shape == (30, 20, 3) and view.lr.dtype == np.uint8 and view.split.after.shape == (120, 80, 3)

    rgba = np.dstack([photo[:20, :20], np.full((20, 20), 128, np.uint8)])
    view.upload.value = _upload("logo.png", _file(rgba, ".png"))
    assert "alpha dropped" in view.status.value and view.lr.shape == (20, 20, 3)

    kept = view.lr
    view.upload.value = _upload("broken.jpg", b"\xff\xd8 not a jpeg at all")
    assert "not shown" in view.status.value and "broken.jpg" in view.status.value
    assert view.lr is kept  # the previous photo stays on screen
    bundle = view._repr_mimebundle_()
    assert decoded(base64.b64decode(bundle["image/png"])).shape[1] == view.split.picture().shape[1]


def test_the_compared_crop_lands_where_methods_differ_not_on_the_finest_texture():
    """Fine HR texture that no method recovers (every method the same blur there) must not draw the crop;
    the region where one method draws something the others do not must."""
    from srlib.notebook import CropZoom, disagreement_window

    rng = np.random.default_rng(3)
    hr = np.full((90, 120, 3), 120, np.uint8)
    hr[0:30, 0:30] = rng.integers(0, 256, (30, 30, 3))  # the most detailed region of HR
    blur = np.full_like(hr, 120)
    gan = blur.copy()
    gan[50:70, 80:100] = rng.integers(90, 150, (20, 20, 3))  # texture only one method draws
    assert detail_window(hr, 20) == (0, 0) or detail_window(hr, 20)[0] < 15
    assert disagreement_window([blur, blur.copy(), gan], 20) == (50, 80)
    view = CropZoom({"bicubic": blur, "PSNR": blur.copy(), "GAN": gan, "HR": hr}, size=20)
    assert (view.top.value, view.left.value) == (50, 80)
    with pytest.raises(ValueError, match="at least two"):
        disagreement_window([gan], 20)
    with pytest.raises(ValueError, match="differ in size"):
        disagreement_window([gan, gan[:60]], 20)


def test_difference_window_finds_where_two_outputs_differ():
    from srlib.notebook import difference_window

    rng = np.random.default_rng(0)
    first = rng.integers(0, 255, (60, 80, 3)).astype(np.uint8)  # texture everywhere: detail_window cannot tell
    second = first.copy()
    second[30:40, 50:60] = 0  # the two differ only here
    assert difference_window(first, second, 10) == (30, 50)
    with pytest.raises(ValueError, match="differ in size"):
        difference_window(first, second[:50], 10)


def test_per_image_tables_show_what_the_mean_hides():
    from srlib.notebook import per_image_tables

    rows = {"bicubic": [{"image": "a", "psnr": 30.0, "shift": 0.1}, {"image": "b", "psnr": 20.0, "shift": 0.0}],
            "GAN": [{"image": "a", "psnr": 32.0, "shift": 3.0}, {"image": "b", "psnr": 18.0, "shift": 0.5}]}
    tables = per_image_tables(rows, ("psnr", "shift"), "Y")
    assert [t.caption for t in tables.tables] == ["a; Y", "b; Y"]
    text = str(tables)
    assert "one image; a; Y" in text and "32.00*" in text and "20.00*" in text  # best within each image
    assert text.count("<b>") == 0 and tables._repr_html_().count("<b>") == 4
