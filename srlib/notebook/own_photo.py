"""Your own photo, upscaled: an upload button, a choice of network and a split slider between bicubic and
the network's output. Taught in notebook 07.

The photo is the LR image: it is upscaled as it is, not shrunk first, so there is no HR to score against and
the slider is the whole comparison. On a CPU a large photo through a 23-block RRDBNet takes minutes, so the
networks see the window of the photo with the most detail (``window`` LR pixels; a smaller photo whole).
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
import numpy as np
from torch import nn

from ..data import ImageReadError, decode_image, imresize, read_image, to_rgb
from ..data.image_io import from_float, to_float
from ..inference import upscale
from .widgets import BeforeAfter, PictureWidget, captioned, detail_window


def displayable(image: np.ndarray) -> tuple[np.ndarray, str]:
    """Any image :func:`~srlib.data.read_image` returns as RGB uint8, with a note of what changed
    (gray replicated, alpha dropped, 16-bit rounded to 8)."""
    notes = []
    if image.ndim == 2:
        notes.append("gray shown as RGB")
    elif image.shape[2] == 4:
        notes.append("alpha dropped")
    if image.dtype == np.uint16:
        notes.append("16-bit rounded to 8")
        image = from_float(to_float(image))
    return np.ascontiguousarray(to_rgb(image)), ", ".join(notes)


class OwnPhoto(PictureWidget):
    """Upload an image (or start from ``photo``, a path) and compare bicubic with each of ``models``."""

    def __init__(self, models: dict[str, nn.Module], photo: str | Path, scale: int = 4,
                 window: tuple[int, int] = (120, 160)) -> None:
        self.models, self.scale, self.window = models, scale, window
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="your photo")
        self.model_choice = widgets.Dropdown(options=list(models), description="network")
        self.status = widgets.HTML()
        self.outputs: dict[str, np.ndarray] = {}
        self.load(read_image(photo), Path(photo).name)
        self.split = BeforeAfter(*self._pair(), labels=self._labels())
        self.upload.observe(lambda change: self._uploaded(change["new"]), names="value")
        self.model_choice.observe(lambda change: self._show(), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.upload, self.model_choice]), self.status, self.split.widget])
        self.widget.add_class("srlib-own-photo")

    def load(self, image: np.ndarray, name: str) -> None:
        """Take ``image`` (as :func:`~srlib.data.read_image` returns it) as the photo to upscale."""
        rgb, note = displayable(image)
        height, width = min(self.window[0], rgb.shape[0]), min(self.window[1], rgb.shape[1])
        top, left = detail_window(rgb, height, width)
        self.lr = rgb[top:top + height, left:left + width]
        self.outputs = {}
        whole = "the whole photo" if (height, width) == rgb.shape[:2] else \
            f"its {width}x{height} window of most detail (top {top}, left {left})"
        # ASCII only: OpenCV draws this line into the saved picture, and has no glyph for "×"
        self.description = (f"{name}: {rgb.shape[1]}x{rgb.shape[0]}{f' ({note})' if note else ''}; "
                            f"{whole}, x{self.scale}")
        self.status.value = self.description

    def _uploaded(self, files: tuple) -> None:
        """A new upload: shown if it reads as an image, else the reason, and the previous photo stays."""
        if not files:
            return
        upload = files[0]
        try:
            self.load(decode_image(bytes(upload["content"]), upload["name"]), upload["name"])
        except ImageReadError as err:
            self.status.value = f"<span style='color:#b00'>not shown: {err}</span>"
            return
        self._show()

    def output(self, label: str) -> np.ndarray:
        """The photo's window through network ``label`` (computed once per photo)."""
        if label not in self.outputs:
            self.outputs[label] = upscale(self.models[label], self.lr, self.scale, tile=128)
        return self.outputs[label]

    def _pair(self) -> tuple[np.ndarray, np.ndarray]:
        return imresize(self.lr, self.scale), self.output(self.model_choice.value)

    def _labels(self) -> tuple[str, str]:
        return "bicubic", self.model_choice.value

    def _show(self) -> None:
        self.split.set_images(*self._pair(), labels=self._labels())

    def picture(self) -> np.ndarray:
        return captioned(self.split.picture(), self.description, above=True, lines=2)
