import numpy as np
import pytest
import torch

from srlib.data import imresize
from srlib.data.resize import output_size
from tests.matlab_oracle import oracle_imresize


@pytest.mark.parametrize("scale", [1 / 4, 1 / 3, 1 / 2, 3 / 4, 2, 3, 4])
@pytest.mark.parametrize("shape", [(37, 29, 3), (24, 36), (17, 40, 1)])
def test_float_matches_oracle(scale, shape, rng):
    image = rng.random(shape)
    ours = imresize(image, scale)
    ref = oracle_imresize(image, scale)
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() <= 1e-5


def test_float32_stays_float32_and_close(rng):
    image = rng.random((41, 33, 3)).astype(np.float32)
    ours = imresize(image, 0.25)
    assert ours.dtype == np.float32
    assert np.abs(ours - oracle_imresize(image.astype(np.float64), 0.25)).max() <= 1e-5


@pytest.mark.parametrize("size", [(10, 7), (50, 13), (9, 80)])
def test_output_size_with_unequal_scales_matches_oracle(size, rng):
    # Unequal scales change the order of the passes (smaller scale first), which matters for uint8.
    image = (rng.random((30, 26, 3)) * 255).astype(np.uint8)
    np.testing.assert_array_equal(imresize(image, size=size), oracle_imresize(image, size=size))
    image_f = rng.random((30, 26))
    assert np.abs(imresize(image_f, size=size) - oracle_imresize(image_f, size=size)).max() <= 1e-5


@pytest.mark.parametrize("scale", [1 / 4, 1 / 3, 1 / 2, 2, 4])
def test_uint8_semantics_bit_exact_on_a_photo(photo, scale):
    # uint8: rounding + saturation after each 1-D pass, rows first (the benchmark LR protocol)
    ours = imresize(photo, scale)
    assert ours.dtype == np.uint8
    np.testing.assert_array_equal(ours, oracle_imresize(photo, scale))


def test_uint8_differs_from_float_then_round(photo):
    # The intermediate rounding is what makes the standard LR images; a float pass would not.
    once = np.floor(imresize(photo.astype(np.float64), 0.25) + 0.5).clip(0, 255).astype(np.uint8)
    assert (imresize(photo, 0.25) != once).any()


def test_output_size_is_matlab_ceil():
    assert output_size((97, 123), 0.25) == (25, 31)
    assert output_size((300, 300), 1 / 3) == (100, 100)
    assert imresize(np.zeros((97, 123)), 0.25).shape == (25, 31)


@pytest.mark.parametrize("scale", [1 / 4, 1 / 3, 3, 4])
def test_constant_image_stays_constant(scale):
    image = np.full((36, 24, 3), 0.37)
    out = imresize(image, scale)
    assert np.abs(out - 0.37).max() < 1e-12
    assert (imresize(np.full((36, 24), 200, np.uint8), scale) == 200).all()


@pytest.mark.parametrize("scale", [1 / 4, 1 / 2, 2])
def test_rotation_commutes_when_sizes_divide(scale, rng):
    image = rng.random((48, 32, 3))
    a = imresize(np.rot90(image).copy(), scale)
    b = np.rot90(imresize(image, scale))
    assert np.abs(a - b).max() < 1e-10


def test_torch_batched_matches_numpy(rng):
    images = rng.random((2, 3, 40, 28)).astype(np.float32)
    out = imresize(torch.from_numpy(images), 0.25)
    assert out.shape == (2, 3, 10, 7) and out.dtype == torch.float32
    for n in range(2):
        ref = imresize(images[n].transpose(1, 2, 0), 0.25).transpose(2, 0, 1)
        assert np.abs(out[n].numpy() - ref).max() <= 1e-6


def test_torch_uint8_and_half(photo):
    chw = torch.from_numpy(photo).permute(2, 0, 1)
    out = imresize(chw, 0.5)
    assert out.dtype == torch.uint8
    np.testing.assert_array_equal(out.permute(1, 2, 0).numpy(), imresize(photo, 0.5))
    half = imresize(chw.half() / 255, 2)
    assert half.dtype == torch.float16 and half.shape == (3, 194, 246)


def test_torch_gradients_flow():
    x = torch.rand(1, 3, 16, 16, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: imresize(t, 0.5), (x,), eps=1e-6, atol=1e-6)


def test_uint16_keeps_depth(rng):
    image = (rng.random((20, 24, 3)) * 65535).astype(np.uint16)
    out = imresize(image, 0.5)
    assert out.dtype == np.uint16 and out.shape == (10, 12, 3)
    ref = imresize(image.astype(np.float64), 0.5)
    assert np.abs(out.astype(np.float64) - ref).max() <= 1.0  # rounded after each pass


@pytest.mark.parametrize(
    "kwargs, message",
    [({}, "exactly one"), ({"scale": 0.5, "size": (2, 2)}, "exactly one"), ({"scale": -1}, "positive"),
     ({"size": (0, 3)}, "positive")],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        imresize(np.zeros((8, 8)), **kwargs)


def test_bad_types():
    with pytest.raises(TypeError, match="uint8 or uint16"):
        imresize(np.zeros((8, 8), np.int32), 0.5)
    with pytest.raises(ValueError, match="HW or HWC"):
        imresize(np.zeros((2, 8, 8, 3)), 0.5)


def test_many_channels_resize_per_plane(rng):
    image = rng.random((20, 16, 7))
    out = imresize(image, 0.5)
    assert out.shape == (10, 8, 7)
    for c in (0, 6):
        assert np.abs(out[..., c] - imresize(image[..., c], 0.5)).max() < 1e-12
