import os

import cv2
import numpy as np
import pytest
import torch

from srlib.data import (
    ImageReadError,
    image_to_tensor,
    list_images,
    read_image,
    split_alpha,
    tensor_to_image,
    to_rgb,
    write_image,
)
from srlib.data.image_io import check_headers, from_float, to_float


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".tiff"])
def test_lossless_roundtrip_rgb(tmp_path, photo, suffix):
    path = write_image(tmp_path / f"x{suffix}", photo)
    np.testing.assert_array_equal(read_image(path), photo)


def test_jpeg_roundtrip_is_close_and_rgb_ordered(tmp_path):
    image = np.zeros((32, 32, 3), np.uint8)
    image[..., 0] = 220  # red: a channel swap would move it
    back = read_image(write_image(tmp_path / "red.jpg", image))
    assert back.shape == (32, 32, 3)
    assert back[..., 0].mean() > 200 and back[..., 2].mean() < 30


def test_gray_rgba_and_16bit(tmp_path, rng):
    gray = (rng.random((20, 30)) * 255).astype(np.uint8)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "g.png", gray)), gray)
    rgba = (rng.random((20, 30, 4)) * 255).astype(np.uint8)
    back = read_image(write_image(tmp_path / "a.png", rgba))
    np.testing.assert_array_equal(back, rgba)
    rgb, alpha = split_alpha(back)
    np.testing.assert_array_equal(alpha, rgba[..., 3])
    np.testing.assert_array_equal(rgb, rgba[..., :3])
    deep = (rng.random((20, 30, 3)) * 65535).astype(np.uint16)
    back16 = read_image(write_image(tmp_path / "d.png", deep))
    assert back16.dtype == np.uint16
    np.testing.assert_array_equal(back16, deep)
    assert to_float(back16).max() <= 1.0 and to_float(back16).dtype == np.float32


def test_to_rgb():
    assert to_rgb(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    assert to_rgb(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)


def test_errors_name_the_file(tmp_path, photo):
    with pytest.raises(ImageReadError, match="missing.png"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match="empty.png"):
        read_image(tmp_path / "empty.png")
    (tmp_path / "garbage.png").write_bytes(b"\x89PNG not really" * 10 + b"IEND")
    with pytest.raises(ImageReadError, match="garbage.png"):
        read_image(tmp_path / "garbage.png")
    for suffix in (".png", ".jpg"):
        data = write_image(tmp_path / f"full{suffix}", photo).read_bytes()
        cut = tmp_path / f"cut{suffix}"
        cut.write_bytes(data[: len(data) // 2])
        with pytest.raises(ImageReadError, match=f"cut\\{suffix}"):
            read_image(cut)


def test_write_refuses_float(tmp_path):
    with pytest.raises(TypeError, match="uint8 or uint16"):
        write_image(tmp_path / "f.png", np.zeros((4, 4, 3), np.float32))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_tensor_conversions_roundtrip(photo):
    t = image_to_tensor(photo)
    assert t.shape == (1, 3, *photo.shape[:2]) and t.dtype == torch.float32
    assert 0.0 <= float(t.min()) and float(t.max()) <= 1.0
    np.testing.assert_array_equal(tensor_to_image(t), photo)
    gray = photo[..., 0]
    np.testing.assert_array_equal(tensor_to_image(image_to_tensor(gray)), gray)
    assert from_float(np.array([-0.2, 0.5, 1.3])).tolist() == [0, 128, 255]


def test_list_images(tmp_path, photo):
    write_image(tmp_path / "b.png", photo)
    write_image(tmp_path / "a.jpg", photo)
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in list_images(tmp_path)] == ["a.jpg", "b.png"]
    with pytest.raises(FileNotFoundError, match="nowhere"):
        list_images(tmp_path / "nowhere")


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_turns_the_photo_upright(tmp_path, photo, orientation):
    """Pillow's exif_transpose is the oracle: the stored pixels, turned as the tag says."""
    from PIL import Image, ImageOps

    stored = Image.fromarray(photo[:40, :64])  # wider than tall, so a quarter turn shows in the shape
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"phone_{orientation}.jpg"
    stored.save(path, quality=95, exif=exif)
    with Image.open(path) as image:
        expected = np.asarray(ImageOps.exif_transpose(image))
    got = read_image(path)
    assert got.shape == expected.shape == ((64, 40, 3) if orientation in (6, 8) else (40, 64, 3))
    assert np.abs(got.astype(int) - expected).mean() < 1.5  # two JPEG decoders, the same pixels


def test_sixteen_bits_into_an_eight_bit_format_are_scaled_not_clipped(tmp_path):
    image = (np.arange(64 * 64 * 3, dtype=np.uint32).reshape(64, 64, 3) * 5 % 65536).astype(np.uint16)
    with pytest.warns(UserWarning, match="written as 8-bit"):
        write_image(tmp_path / "a.bmp", image)
    back = read_image(tmp_path / "a.bmp")
    assert back.dtype == np.uint8 and np.abs(back.astype(int) - image / 257).max() <= 1  # not 97% white
    write_image(tmp_path / "a.png", image)  # PNG holds 16 bits: no conversion
    assert np.array_equal(read_image(tmp_path / "a.png"), image)


def test_images_are_written_with_the_users_umask(tmp_path, photo):
    old = os.umask(0o022)
    try:
        path = write_image(tmp_path / "a.png", photo)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def png_claiming(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims ``width`` x ``height`` (the CRC recomputed)."""
    import struct
    import zlib

    data = bytearray(cv2.imencode(".png", np.zeros((4, 4), np.uint8))[1].tobytes())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_an_image_over_the_pixel_limit_is_refused_from_its_header(tmp_path, photo):
    (tmp_path / "bomb.png").write_bytes(png_claiming(100_000, 100_000))
    with pytest.raises(ImageReadError, match=r"100000x100000 \(10000 Mpixels\), over the limit"):
        read_image(tmp_path / "bomb.png")
    write_image(tmp_path / "a.png", photo[:12, :12])
    with pytest.raises(ImageReadError, match="over the limit"):
        read_image(tmp_path / "a.png", max_pixels=100)


def test_headers_are_checked_without_decoding(tmp_path, photo):
    write_image(tmp_path / "a.png", photo[:12, :12])
    (tmp_path / "b.png").write_bytes(b"not an image at all")
    check_headers([tmp_path / "a.png"])
    with pytest.raises(ImageReadError, match="b.png"):
        check_headers([tmp_path / "a.png", tmp_path / "b.png"])
