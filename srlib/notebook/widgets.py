"""Comparing images in the notebook: a before/after split slider, a zoom on one crop for several
methods, and a gallery with image, method and crop selectors. Taught in notebooks 04 to 07.

Plain ipywidgets (sliders, dropdowns and Images), no custom JavaScript, so they work in JupyterLab 4
and Voila. Every change recomposes the picture in Python. Pictures are enlarged by a whole factor with
nearest-neighbour sampling and shown at their natural size, so a pixel of the output stays a block of
screen pixels: a judgement of sharpness is never a judgement of the browser's scaling.

Each widget's display also carries a PNG picture of what it shows (``_repr_mimebundle_``). A saved notebook
keeps that picture: GitHub shows it, and :func:`static_widget_outputs` (which ``srlib course`` applies)
removes the widget view that nothing can render once the kernel is gone.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

import cv2
import ipywidgets as widgets
import numpy as np

MAX_WIDTH = 960  # px: what a JupyterLab output area shows without scrolling in a 1280-1400 px window
GAP = 8  # px between the panels of a crop comparison
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
FONT = cv2.FONT_HERSHEY_SIMPLEX  # the static pictures' captions


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


def integer_zoom(width: int, max_width: int = MAX_WIDTH, minimum: int = 1) -> int:
    """The largest whole enlargement that keeps ``width`` pixels within ``max_width`` (at least ``minimum``)."""
    return max(minimum, max_width // max(width, 1))


def enlarge(image: np.ndarray, zoom: int) -> np.ndarray:
    """``image`` enlarged ``zoom`` times by repeating pixels (nearest neighbour): pixels stay pixels."""
    return image if zoom == 1 else image.repeat(zoom, axis=0).repeat(zoom, axis=1)


def detail_window(image: np.ndarray, height: int, width: int | None = None) -> tuple[int, int]:
    """(top, left) of the ``height`` x ``width`` window with the most detail (the largest sum of squared luma
    gradients): where to cut an input photo before upscaling it. To compare outputs use
    :func:`disagreement_window`, which looks at where the outputs differ."""
    gray = _luma(image)
    energy = np.zeros_like(gray)
    energy[:-1, :-1] = np.diff(gray, axis=0)[:, :-1] ** 2 + np.diff(gray, axis=1)[:-1] ** 2
    return _window_of_most(energy, height, width or height)


def difference_window(first: np.ndarray, second: np.ndarray, height: int, width: int | None = None) -> tuple[int, int]:
    """(top, left) of the ``height`` x ``width`` window where two outputs of one image differ most (the largest
    sum of squared luma differences): where, say, a GAN draws texture that a PSNR model leaves out."""
    return disagreement_window([first, second], height, width)


def disagreement_window(images: Sequence[np.ndarray], height: int, width: int | None = None) -> tuple[int, int]:
    """(top, left) of the ``height`` x ``width`` window where the compared ``images`` (outputs of one input)
    disagree most: the largest sum over pixels of the luma variance across them. A crop chosen by detail alone
    lands on texture too fine to survive x4, where every method is the same blur; this one lands where the
    methods' choices differ, which is what a comparison is for."""
    if len(images) < 2:
        raise ValueError("a disagreement needs at least two images")
    if any(image.shape[:2] != images[0].shape[:2] for image in images):
        raise ValueError(f"the images differ in size: {[image.shape for image in images]}")
    return _window_of_most(np.var([_luma(image) for image in images], axis=0), height, width or height)


def _luma(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float64) if image.ndim == 2 else image[..., :3].astype(np.float64) @ [0.299, 0.587, 0.114]


def _window_of_most(energy: np.ndarray, height: int, width: int) -> tuple[int, int]:
    """(top, left) of the window whose ``energy`` sum is largest, every position at once with an integral image."""
    if energy.shape[0] < height or energy.shape[1] < width:
        raise ValueError(f"a {height}x{width} window does not fit in a {energy.shape[0]}x{energy.shape[1]} image")
    integral = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = (integral[height:, width:] - integral[:-height, width:] - integral[height:, :-width]
            + integral[:-height, :-width])
    top, left = np.unravel_index(np.argmax(sums), sums.shape)
    return int(top), int(left)


def encoded(image: np.ndarray) -> bytes:
    """``image`` (RGB or gray uint8) as a PNG file's bytes. The course shows and saves PNG only: JPEG's blocks
    and halved chroma would sit on exactly the detail being compared."""
    ok, data = cv2.imencode(".png", image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("could not encode the image as PNG")
    return data.tobytes()


def side_by_side(panels: Sequence[np.ndarray]) -> np.ndarray:
    """Equally tall RGB panels in a row, ``GAP`` white pixels apart: the saved pictures' layout."""
    gap = np.full((panels[0].shape[0], GAP, 3), 255, np.uint8)
    return np.concatenate([part for panel in panels for part in (panel, gap)][:-1], axis=1)


def captioned(image: np.ndarray, caption: str, above: bool = False, right: str = "", lines: int = 1) -> np.ndarray:
    """``image`` (RGB uint8) with a white strip of text below it (or above): ``caption`` on the left, wrapped
    at spaces onto up to ``lines`` lines, and ``right`` on the right. For the static pictures of the widgets."""
    rgb = image if image.ndim == 3 else np.dstack([image] * 3)
    strip = np.full((4 + 18 * lines, rgb.shape[1], 3), 255, np.uint8)
    for row, text in enumerate(wrapped(caption, rgb.shape[1] - 8)[:lines]):
        cv2.putText(strip, text, (4, 16 + 18 * row), FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    if right:
        text_width = cv2.getTextSize(right, FONT, 0.5, 1)[0][0]
        cv2.putText(strip, right, (rgb.shape[1] - text_width - 4, 16), FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([strip, rgb] if above else [rgb, strip])


def wrapped(text: str, width: int) -> list[str]:
    """``text`` broken at spaces into lines of at most ``width`` pixels of the pictures' caption font
    (a word wider than that is broken too)."""

    def fits(line: str) -> bool:
        return cv2.getTextSize(line, FONT, 0.5, 1)[0][0] <= width

    lines: list[str] = []
    for word in text.split():
        if lines and fits(f"{lines[-1]} {word}"):
            lines[-1] = f"{lines[-1]} {word}"
            continue
        while not fits(word) and len(word) > 1:
            hyphens = [k + 1 for k, char in enumerate(word[:-1]) if char == "-" and fits(word[:k + 1])]
            cut = max(hyphens or [k for k in range(1, len(word)) if fits(word[:k]) or k == 1])
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines or [""]


def static_widget_outputs(notebook) -> int:
    """Make a run's saved outputs readable without a kernel (an nbformat notebook, changed in place):
    an output with a widget view and a picture keeps the picture; one with a widget view alone (a
    progress bar, whose saved text is its state when it appeared) is dropped. Returns how many changed.
    Opened later, the notebook shows pictures where widget views would only say "model not found";
    running a cell brings its widget back."""
    changed = 0
    for cell in notebook.cells:
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                changed += 1
                del data[WIDGET_VIEW]
                if not any(kind.startswith("image/") for kind in data):
                    continue
            kept.append(output)
        if "outputs" in cell:
            cell.outputs = kept
    return changed


def _image_widget(picture: np.ndarray) -> widgets.Image:
    """An Image shown at exactly its pixel size (CSS would otherwise stretch it to the output's width)."""
    image = widgets.Image(format="png")
    _set_picture(image, picture)
    return image


def _set_picture(image: widgets.Image, picture: np.ndarray) -> None:
    layout = image.layout
    layout.width, layout.height = f"{picture.shape[1]}px", f"{picture.shape[0]}px"
    layout.max_width, layout.object_fit = "none", "none"
    image.value = encoded(picture)


class PictureWidget:
    """Shows its ``widget`` when it is the value of a notebook cell, with a PNG of :meth:`picture` beside it."""

    widget: widgets.Widget

    def picture(self) -> np.ndarray:
        raise NotImplementedError

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude)
        bundle["image/png"] = base64.b64encode(encoded(self.picture())).decode("ascii")
        return bundle


class BeforeAfter(PictureWidget):
    """A split slider over two equally sized uint8 images, enlarged by a whole factor to about
    ``max_width``; the slider's track spans the picture, so its handle sits over the split line."""

    def __init__(self, before: np.ndarray, after: np.ndarray, labels: tuple[str, str] = ("before", "after"),
                 position: float = 0.5, max_width: int = MAX_WIDTH) -> None:
        self.max_width = max_width
        # no description and no readout: the slider's track is all of its width
        self.slider = widgets.FloatSlider(value=position, min=0.0, max=1.0, step=0.005, readout=False,
                                          layout=widgets.Layout(margin="0"))
        self.labels = widgets.HBox([widgets.HTML(), widgets.HTML()],
                                   layout=widgets.Layout(justify_content="space-between"))
        self.image = widgets.Image(format="png")
        self.set_images(before, after, labels)
        self.slider.observe(lambda change: self._draw(), names="value")
        self.widget = widgets.VBox([self.labels, self.slider, self.image])
        self.widget.add_class("srlib-before-after")

    def set_images(self, before: np.ndarray, after: np.ndarray, labels: tuple[str, str] | None = None) -> None:
        """Show another pair (same split position)."""
        if before.shape != after.shape:
            raise ValueError(f"before/after shapes differ: {before.shape} vs {after.shape}")
        self.before, self.after = before, after
        self.zoom = integer_zoom(before.shape[1], self.max_width)
        self.slider.layout.width = self.labels.layout.width = f"{before.shape[1] * self.zoom}px"
        if labels is not None:
            self.label_text = labels
            left, right = (html.escape(text) for text in labels)
            self.labels.children[0].value = f"<b>&#9664; {left}</b>"
            self.labels.children[1].value = f"<b>{right} &#9654;</b>"
        self._draw()

    def view(self) -> np.ndarray:
        """The split picture as shown: enlarged ``zoom`` times."""
        return enlarge(split_view(self.before, self.after, self.slider.value), self.zoom)

    def picture(self) -> np.ndarray:
        """The saved picture: the two images side by side, whole, each captioned. A saved split would show
        one method on one part of the crop and the other on another, which no reader can compare."""
        zoom = integer_zoom(2 * self.before.shape[1] + GAP, self.max_width)
        panels = [captioned(enlarge(image, zoom), label) for image, label in zip((self.before, self.after),
                                                                                self.label_text, strict=True)]
        return side_by_side(panels)

    def _draw(self) -> None:
        _set_picture(self.image, self.view())


def _crop(image: np.ndarray, name: str, top: int, left: int, size: int) -> np.ndarray:
    if top < 0 or left < 0 or top + size > image.shape[0] or left + size > image.shape[1]:
        raise ValueError(f"crop ({top}, {left}, {size}) falls outside {name} ({image.shape[1]}x{image.shape[0]})")
    return image[top:top + size, left:left + size]


class CropZoom(PictureWidget):
    """One crop of several methods' outputs, side by side, enlarged a whole number of times (at least 2)
    and captioned; it opens at ``at`` (top, left) when given, else where the methods (every image but "HR")
    disagree most, and sliders move it."""

    def __init__(self, images: dict[str, np.ndarray], size: int = 48, zoom: int | None = None,
                 max_width: int = MAX_WIDTH, at: tuple[int, int] | None = None) -> None:
        self.images, self.size = images, size
        self.zoom = zoom or integer_zoom(len(images) * size + GAP * (len(images) - 1), max_width, minimum=2)
        h, w = next(iter(images.values())).shape[:2]
        methods = [image for name, image in images.items() if name != "HR"]
        top, left = at or disagreement_window(methods if len(methods) > 1 else list(images.values()), size)
        self.top = widgets.IntSlider(value=top, min=0, max=h - size, description="top")
        self.left = widgets.IntSlider(value=left, min=0, max=w - size, description="left")
        self.panels = {name: _image_widget(enlarge(_crop(image, name, top, left, size), self.zoom))
                       for name, image in images.items()}
        self.captions = {name: widgets.HTML(f"<div style='text-align:center'>{html.escape(name)}</div>",
                                            layout=widgets.Layout(width=f"{size * self.zoom}px"))
                         for name in images}
        for slider in (self.top, self.left):
            slider.observe(lambda change: self._draw(), names="value")
        columns = [widgets.VBox([self.panels[name], self.captions[name]]) for name in images]
        self.widget = widgets.VBox([widgets.HBox([self.top, self.left]),
                                    widgets.HBox(columns, layout=widgets.Layout(grid_gap=f"{GAP}px"))])
        self.widget.add_class("srlib-crop-zoom")

    def picture(self) -> np.ndarray:
        width = self.size * self.zoom
        lines = max(len(wrapped(name, width - 8)) for name in self.images)
        panels = [captioned(enlarge(_crop(image, name, self.top.value, self.left.value, self.size), self.zoom), name,
                            lines=lines) for name, image in self.images.items()]
        return side_by_side(panels)

    def _draw(self) -> None:
        for name, image in self.images.items():
            crop = _crop(image, name, self.top.value, self.left.value, self.size)
            self.panels[name].value = encoded(enlarge(crop, self.zoom))


class Gallery(PictureWidget):
    """Pick an image, two methods and a crop; a split slider compares them.

    ``results[image][method]`` are equally sized uint8 outputs (the HR image may be one "method").
    The crop (``crop`` = height, width) opens where the image's methods other than "HR" disagree most."""

    def __init__(self, results: dict[str, dict[str, np.ndarray]], crop: tuple[int, int] = (240, 320),
                 max_width: int = MAX_WIDTH) -> None:
        self.results, self.crop = results, crop
        images = list(results)
        methods = list(results[images[0]])
        self.image_choice = widgets.Dropdown(options=images, description="image")
        self.left_choice = widgets.Dropdown(options=methods, value=methods[0], description="left")
        self.right_choice = widgets.Dropdown(options=methods, value=methods[-1], description="right")
        self.top = widgets.IntSlider(description="top")
        self.left = widgets.IntSlider(description="left")
        self._place_crop()
        self.split = BeforeAfter(*self._pair(), labels=self._labels(), max_width=max_width)
        self.image_choice.observe(lambda change: self._place_crop(), names="value")
        for control in (self.image_choice, self.left_choice, self.right_choice, self.top, self.left):
            control.observe(lambda change: self.split.set_images(*self._pair(), labels=self._labels()), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.image_choice, self.left_choice, self.right_choice]),
                                    widgets.HBox([self.top, self.left]), self.split.widget])
        self.widget.add_class("srlib-gallery")

    def _place_crop(self) -> None:
        """Limits of the crop sliders for the chosen image, and the crop where its methods disagree most."""
        outputs = self.results[self.image_choice.value]
        image = next(iter(outputs.values()))
        height, width = min(self.crop[0], image.shape[0]), min(self.crop[1], image.shape[1])
        methods = [output for name, output in outputs.items() if name != "HR"]
        top, left = disagreement_window(methods if len(methods) > 1 else list(outputs.values()), height, width)
        with self.top.hold_trait_notifications(), self.left.hold_trait_notifications():
            self.top.max, self.left.max = image.shape[0] - height, image.shape[1] - width
            self.top.value, self.left.value = top, left

    def _pair(self) -> tuple[np.ndarray, np.ndarray]:
        outputs = self.results[self.image_choice.value]
        first = outputs[self.left_choice.value]
        height, width = min(self.crop[0], first.shape[0]), min(self.crop[1], first.shape[1])
        window = (slice(self.top.value, self.top.value + height), slice(self.left.value, self.left.value + width))
        return outputs[self.left_choice.value][window], outputs[self.right_choice.value][window]

    def _labels(self) -> tuple[str, str]:
        return self.left_choice.value, self.right_choice.value

    def picture(self) -> np.ndarray:
        return captioned(self.split.picture(), f"{self.image_choice.value} (crop at top {self.top.value}, "
                                               f"left {self.left.value})", above=True)
