"""Reading and writing images, and moving them between NumPy (HWC) and torch (NCHW).

Images are NumPy arrays in their file's own form: ``HxW`` (gray), ``HxWx3`` (RGB) or ``HxWx4``
(RGBA), ``uint8`` or ``uint16``. Models see float tensors ``(N, C, H, W)`` in [0, 1].

Taught in notebook 01.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from ..atomic import replace_atomically

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")  # what is read
WRITABLE_SUFFIXES = IMAGE_SUFFIXES[:-1]  # OpenCV writes no GIF
_SIXTEEN_BIT_SUFFIXES = (".png", ".tif", ".tiff")
# the largest image read (width x height): a few kilobytes of PNG can claim billions of pixels
MAX_PIXELS = int(os.environ.get("SRLIB_MAX_PIXELS", 2**28))


class ImageReadError(ValueError):
    """An image file is missing, unreadable, truncated or of an unsupported kind."""


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _looks_truncated(data: bytes, suffix: str) -> bool:
    # Decoders fill a truncated JPEG with gray and carry on; the end markers tell.
    if suffix in (".jpg", ".jpeg"):
        return b"\xff\xd9" not in data[-4096:]
    if suffix == ".png":
        return b"IEND" not in data[-64:]
    return False


def read_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image as stored: HxW gray, HxWx3 RGB or HxWx4 RGBA; uint8 or uint16; turned upright as its
    EXIF orientation says (a phone photo tagged "rotate 90" comes out the way it was taken).

    Raises ``ImageReadError`` naming the file when it is missing, empty, truncated, corrupt, larger than
    ``max_pixels`` (read from the header, before any decoding), or holds a pixel type other than 8/16-bit
    integers.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ImageReadError(f"cannot read image {path}: {err.strerror or err}") from err
    return decode_image(data, path, max_pixels)


def decode_image(data: bytes, name: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """:func:`read_image` of a file's bytes (an upload, say); ``name`` is the file's name, for its suffix
    and the error messages."""
    path = Path(name)
    if not data:
        raise ImageReadError(f"image file is empty: {path}")
    if _looks_truncated(data, path.suffix.lower()):
        raise ImageReadError(f"image file is truncated or corrupt: {path}")
    size, orientation, frames = _header(data)
    _check_size(size, max_pixels, path)
    if frames > 1:  # an animated GIF or a multi-page TIFF: OpenCV decodes the first frame
        warnings.warn(f"{path.name} holds {frames} frames; the first is used", stacklevel=2)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as err:  # e.g. a size OpenCV refuses
        raise ImageReadError(f"cannot decode {path}: {str(err).strip().splitlines()[-1]}") from err
    if image is None:
        raise ImageReadError(f"not a decodable image (corrupt or unsupported format): {path}")
    if image.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(f"unsupported pixel type {image.dtype} in {path}: expected 8- or 16-bit")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3:
        if image.shape[2] == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        elif image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
        else:
            raise ImageReadError(f"unsupported channel count {image.shape[2]} in {path}")
    return np.ascontiguousarray(_UPRIGHT[orientation](image)) if orientation != 1 else image


# EXIF orientation -> how to turn the stored pixels upright (rows, columns of an HxW[xC] array)
_UPRIGHT = {
    2: lambda a: a[:, ::-1],  # mirrored
    3: lambda a: a[::-1, ::-1],  # upside down
    4: lambda a: a[::-1],  # mirrored vertically
    5: lambda a: np.swapaxes(a, 0, 1),  # transposed
    6: lambda a: np.rot90(a, -1),  # stored turned left: turn right
    7: lambda a: np.swapaxes(a[::-1, ::-1], 0, 1),  # transversed
    8: lambda a: np.rot90(a, 1),  # stored turned right: turn left
}


def _header(source: bytes | Path) -> tuple[tuple[int, int] | None, int, int]:
    """(width, height), the EXIF orientation (1-8) and the number of frames from an image's header alone;
    (None, 1, 1) where Pillow cannot read the header (OpenCV may still decode the file). Orientation is read where
    EXIF sits in the header (JPEG, TIFF, WebP); Pillow would decode a whole PNG to find its eXIf chunk."""
    saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # the course's limit applies, not Pillow's
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            orientation = _orientation(image)
            return image.size, orientation if orientation in _UPRIGHT else 1, getattr(image, "n_frames", 1)
    except (OSError, ValueError, SyntaxError):
        return None, 1, 1
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _orientation(image: Image.Image) -> int:
    if image.format not in ("JPEG", "MPO", "TIFF", "WEBP"):
        return 1
    with warnings.catch_warnings():  # a corrupt EXIF block: Pillow warns and we keep the pixels as stored
        warnings.simplefilter("ignore")
        try:
            return image.getexif().get(0x0112, 1)
        except (OSError, ValueError, SyntaxError, struct.error):
            return 1


def _check_size(size: tuple[int, int] | None, max_pixels: int, path: Path) -> None:
    if size is not None and size[0] * size[1] > max_pixels:
        raise ImageReadError(f"{path} is {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.0f} Mpixels), over the limit "
                             f"of {max_pixels / 1e6:.0f} Mpixels (set SRLIB_MAX_PIXELS to allow more)")


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of an image file from its header, without decoding the pixels."""
    size, _, _ = _header(Path(path))
    if size is None:
        raise ImageReadError(f"not an image, or its header is corrupt: {path}")
    return size


def check_headers(paths: list[Path], max_pixels: int = MAX_PIXELS) -> None:
    """Read every image's header (not its pixels): a file that is no image, or too large, is found before
    a long run starts rather than when it is first drawn."""
    for path in paths:
        _check_size(image_size(path), max_pixels, Path(path))


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write a gray / RGB / RGBA uint8 or uint16 image atomically (temporary file + rename)."""
    path = Path(path)
    check_writable_suffix(path)
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"write_image: expected uint8 or uint16 pixels for {path}, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    elif image.ndim != 2:
        raise ValueError(f"write_image: expected HxW, HxWx3 or HxWx4 for {path}, got {image.shape}")
    ok, encoded = cv2.imencode(path.suffix.lower(), _depth_for(path, image))
    if not ok:
        raise ValueError(f"write_image: cannot encode {path.suffix!r} for {path}")
    return replace_atomically(path, lambda f: f.write(encoded.tobytes()))


def check_writable_suffix(path: str | Path) -> None:
    """Refuse, before any work, an output name whose format cannot be written."""
    if Path(path).suffix.lower() not in WRITABLE_SUFFIXES:
        raise ValueError(f"cannot write {Path(path).name}: use one of {', '.join(WRITABLE_SUFFIXES)}")


def _depth_for(path: Path, image: np.ndarray) -> np.ndarray:
    """16-bit pixels where the format holds only 8 (JPEG, BMP) are scaled to 8 bits, with a warning:
    encoders would otherwise clip them to white."""
    if image.dtype == np.uint16 and path.suffix.lower() not in _SIXTEEN_BIT_SUFFIXES:
        warnings.warn(f"{path.name}: {path.suffix} holds 8 bits per channel; the 16-bit image is written as 8-bit "
                      "(write .png or .tif to keep 16 bits)", stacklevel=3)
        return np.round(image / 257.0).astype(np.uint8)
    return image


def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Separate an RGBA image into (RGB, alpha); other images come back with ``None``."""
    if image.ndim == 3 and image.shape[2] == 4:
        return image[:, :, :3], image[:, :, 3]
    return image, None


def to_rgb(image: np.ndarray) -> np.ndarray:
    """HxWx3 view of any image: gray replicated to three channels, alpha dropped."""
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    return image[:, :, :3]


def max_value(dtype: np.dtype) -> float:
    """Full-scale value of an integer pixel type (255 for uint8, 65535 for uint16)."""
    return float(np.iinfo(dtype).max)


def to_float(image: np.ndarray) -> np.ndarray:
    """Integer image to float32 in [0, 1] by its own full scale (so 16-bit keeps its precision)."""
    return image.astype(np.float32) / max_value(image.dtype)


def from_float(image: np.ndarray, dtype: type = np.uint8) -> np.ndarray:
    """Float image in [0, 1] to uint8 / uint16: clipped, rounded half up."""
    scale = max_value(np.dtype(dtype))
    return np.floor(np.clip(image, 0.0, 1.0) * scale + 0.5).astype(dtype)


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """HxW or HxWxC integer or float image to a float32 tensor (1, C, H, W) in [0, 1]."""
    pixels = to_float(image) if np.issubdtype(image.dtype, np.integer) else image.astype(np.float32)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None]


def tensor_to_image(tensor: torch.Tensor, dtype: type = np.uint8) -> np.ndarray:
    """A (1, C, H, W) or (C, H, W) tensor in [0, 1] to an HxWxC (HxW if C = 1) integer image."""
    if tensor.ndim == 4:
        if tensor.shape[0] != 1:
            raise ValueError(f"tensor_to_image: expected one image, got a batch of {tensor.shape[0]}")
        tensor = tensor[0]
    if tensor.ndim != 3:
        raise ValueError(f"tensor_to_image: expected (C, H, W), got {tuple(tensor.shape)}")
    pixels = tensor.detach().float().cpu().permute(1, 2, 0).numpy()
    image = from_float(pixels, dtype)
    return image[:, :, 0] if image.shape[2] == 1 else image
