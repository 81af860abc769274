"""Upscaling files and folders with a trained network: what ``srlib upscale`` does.

The network is a released one by name (``realesrgan-x4plus``, :mod:`srlib.models.released`), or comes from
a training run directory (its ``config.json`` names the architecture and the scale),
a weights file with such a ``config.json`` beside it, or a bare weights file whose architecture is read
from its names and shapes (:mod:`srlib.models.detect`); ``arch`` overrides that reading.

Taught in notebook 02.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from torch import nn
from tqdm.auto import tqdm

from .. import hardware
from ..data.image_io import (
    WRITABLE_SUFFIXES,
    ImageReadError,
    check_writable_suffix,
    image_size,
    list_images,
    read_image,
    write_image,
)
from ..hardware import pick_device, precision_dtype
from ..models.detect import model_for_weights
from ..models.interpolation import interpolate
from ..models.registry import build_model
from ..models.released import COURSE_WEIGHTS, PRETRAINED, course_weights, load_pretrained
from ..models.trained import trained_generator
from ..models.weights import CheckpointError, load_weights, read_weights
from ..training.config import TrainConfig
from .tiles import upscale

MIN_TILE = 32
# srlib upscale's tile: an image up to 256 LR pixels a side runs whole (one tile is the whole image), a larger
# one in tiles, so that a 2000x2000 photo through a 23-block RRDBNet needs a few GB, not the 40 its x4
# activations would take at once
DEFAULT_TILE = 256


class NotEnoughMemory(ValueError):
    """An image whose upscaled result this machine cannot hold."""


def upscale_memory(width: int, height: int, scale: int) -> int:
    """Bytes an upscale of a ``width`` x ``height`` RGB image needs beyond the network's tiles, roughly: the
    float input and output (4 bytes a sample), the integer output and the two copies image encoding makes."""
    samples_in, samples_out = width * height * 3, width * height * 3 * scale * scale
    return 4 * samples_in + 4 * samples_out + 3 * 2 * samples_out


def check_memory(path: Path, scale: int) -> None:
    """Refuse, before any work, an image whose upscaled result would not fit in the memory available now: at
    the pixel limit an x4 output is tens of GB, and running out midway ends in a raw allocator error."""
    available = hardware.available_memory()
    width, height = image_size(path)
    needed = upscale_memory(width, height, scale)
    if available is not None and needed > available:
        raise NotEnoughMemory(f"{path.name}: upscaling {width}x{height} by {scale} needs about {_sized(needed)} of "
                              f"memory for its {width * scale}x{height * scale} result, and {_sized(available)} "
                              "are available: upscale it in parts, or on a machine with more memory")


def _sized(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.0f} MiB"


def load_generator(source: str | Path, scale: int | None = None, arch: str | None = None) -> tuple[nn.Module, int, str]:
    """The network of ``source`` (a course or released network's name, a run directory or a weights file) in eval mode,
    its scale and a description.

    ``scale`` must agree with what the run or the weights say; where the weights cannot tell (x2 and x3
    nearest-neighbour RRDBNets look alike), it decides.
    """
    if str(source) in COURSE_WEIGHTS and not Path(source).exists():
        source = course_weights(str(source))
    if str(source) in PRETRAINED and not Path(source).exists():
        if scale not in (None, 4):
            raise CheckpointError(f"{source} is a x4 network, not x{scale}")
        return load_pretrained(str(source)), 4, f"{source} (Real-ESRGAN's release, RRDBNet x4)"
    # from here on, the path the user typed, as their shell means it: a relative run folder handed to
    # trained_generator would otherwise be looked up in the checkout (a different network of the same name)
    source = Path(source).expanduser().absolute()
    config_file = source / "config.json" if source.is_dir() else source.parent / "config.json"
    if arch is None and config_file.is_file():
        config = TrainConfig.from_json(config_file.read_text())
        if scale is not None and scale != config.scale:
            raise CheckpointError(f"{source} was trained for x{config.scale}, not x{scale}")
        run_dir = source if source.is_dir() else source.parent
        return trained_generator(run_dir), config.scale, f"{config.model} x{config.scale} (run {run_dir.name})"
    if source.is_dir():
        raise CheckpointError(f"{source} is a folder without config.json: pass a weights file or a run directory")
    state, record = read_weights(source)
    if arch is None and "model" in record:  # a course run's generator.pt says what it is
        if scale not in (None, record["scale"]):
            raise CheckpointError(f"{source} was trained for x{record['scale']}, not x{scale}")
        model = build_model(record["model"], scale=record["scale"], **record.get("model_args", {}))
        load_weights(model, state)
        return model.eval(), record["scale"], f"{record['model']} x{record['scale']} (recorded in {source.name})"
    if arch is None:
        return model_for_weights(state, scale)
    model = build_model(arch, scale=scale or 4)
    load_weights(model, state)
    return model.eval(), scale or 4, f"{arch} x{scale or 4} (--arch)"


def blended_generator(network: nn.Module, scale: int, description: str, other: str | Path,
                      alpha: float) -> tuple[nn.Module, str]:
    """``network`` interpolated ``alpha`` of the way to the network ``other`` names (same scale), described."""
    second, second_scale, second_description = load_generator(other, scale)
    if second_scale != scale:
        raise CheckpointError(f"--blend {other}: a x{second_scale} network cannot blend with a x{scale} one")
    return interpolate(network, second, alpha), f"{description} blended {alpha:g} towards {second_description}"


def upscale_files(source: str | Path, target: str | Path, model: str | Path, scale: int | None = None, *,
                  arch: str | None = None, tile: int | None = DEFAULT_TILE, self_ensemble: bool = False,
                  device: str = "auto", precision: str = "auto", suffix: str = "", overwrite: bool = False,
                  skip_existing: bool = False, blend: tuple[str | Path, float] | None = None,
                  progress: bool = True) -> list[Path]:
    """Upscale one image (``target`` is a file) or every image of a folder (into ``target``, each named
    ``stem + suffix``). ``precision``: ``auto`` (fp16 on CUDA, fp32 on the CPU), ``fp32``, ``bf16`` or ``fp16``
    (CUDA only). ``blend = (other, alpha)`` runs the network interpolated ``alpha`` of the way from ``model``
    to ``other`` (:func:`srlib.models.interpolate`; both of one architecture and scale).

    Existing outputs are never replaced unless ``overwrite`` (``skip_existing`` leaves them and does the
    rest: an interrupted folder run resumes); that is checked for every file before any work starts, so a
    refused run changes nothing. In a folder, an image that cannot be read or written does not stop the
    others: the failures are reported together at the end, as an error.
    """
    if tile is not None and tile < MIN_TILE:
        raise ValueError(f"--tile {tile}: tiles must be at least {MIN_TILE} LR pixels (neighbours overlap by 8 "
                         "on each side); a tile larger than the image runs it whole")
    source, target = Path(source), Path(target)
    if source.is_dir():
        pairs = [(p, target / f"{p.stem}{suffix}{_written_as(p.suffix)}") for p in list_images(source)]
    elif source.is_file():
        pairs = [(source, target)]
    else:
        raise FileNotFoundError(f"input not found: {source}")
    for src, out in pairs:
        check_writable_suffix(out)
        if out.resolve() == src.resolve():
            raise ValueError(f"{out} would overwrite its input: give another output name or a --suffix")
    _check_writable_folder(target if source.is_dir() else target.parent)
    if skip_existing:
        pairs = [(src, out) for src, out in pairs if not out.exists()]
    taken = [str(out) for _, out in pairs if out.exists()]
    if taken and not overwrite:
        raise FileExistsError(f"output exists (use --overwrite to replace, --skip-existing to keep): "
                              f"{', '.join(taken[:5])}")
    torch_device = pick_device(device)
    dtype = precision_dtype(precision, torch_device)  # a wrong choice is refused before the model loads
    network, scale, description = load_generator(model, scale, arch)
    if blend is not None:
        network, description = blended_generator(network, scale, description, *blend)
    network = network.to(torch_device)
    if progress:
        print(f"{description} on {torch_device} ({str(dtype).removeprefix('torch.')})")
    written, failed = [], []
    for src, out in tqdm(pairs, desc="upscale", disable=not progress):
        try:
            check_memory(src, scale)
            result = upscale(network, read_image(src), scale, tile=tile, self_ensemble=self_ensemble, dtype=dtype)
            written.append(_write(out, result))
        except (ImageReadError, NotEnoughMemory, PermissionError) as err:
            if not source.is_dir():
                raise
            failed.append(f"{src.name}: {err}")
    if failed:
        raise ValueError(f"written {len(written)} image(s); {len(failed)} failed: {'; '.join(failed)}")
    return written


def _check_writable_folder(folder: Path) -> None:
    """Refuse an output folder that cannot be written (or made) before any image is upscaled."""
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write into {folder}: {existing} is not a folder this user may write to")


def _written_as(suffix: str) -> str:
    """The output format of an input in a folder run: its own, or PNG where that cannot be written (GIF)."""
    return suffix if suffix.lower() in WRITABLE_SUFFIXES else ".png"


def _write(out: Path, image: np.ndarray) -> Path:
    try:
        return write_image(out, image)
    except OSError as err:
        raise PermissionError(f"cannot write {out}: {err.strerror or err}") from err
