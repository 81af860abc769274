import numpy as np
import pytest
import torch

from srlib.data import imresize, make_lr, modcrop, read_image
from srlib.evaluation import protocol_for, psnr
from srlib.inference import back_projection, lr_consistency, reverse_filter
from srlib.inference.postprocess import back_projection_kernel
from srlib.paths import SAMPLE_DIR


@pytest.fixture(scope="module")
def pair():
    hr = modcrop(read_image(SAMPLE_DIR / "astronaut.png")[100:292, 150:342], 4)
    return hr, make_lr(hr, 4)


def noisy_upscale(lr):
    up = imresize(lr.astype(np.float64) / 255, 4)
    return np.clip(up + np.random.default_rng(0).normal(0, 0.05, up.shape), 0, 1)


def test_kernel_is_the_squared_renormalised_gaussian():
    p = back_projection_kernel()
    assert p.shape == (5, 5) and p.sum() == pytest.approx(1)
    assert p[2, 2] / p[2, 3] == pytest.approx(np.exp(1))  # exp(-x^2/2) squared: ratio e at one step


@pytest.mark.parametrize("method", [back_projection, reverse_filter])
def test_lr_consistency_error_falls_over_the_iterations(pair, method):
    hr, lr = pair
    sr = noisy_upscale(lr)
    errors = [lr_consistency(method(sr, lr, 4, iterations=n), lr, 4) for n in (0, 1, 5, 20)]
    assert errors[0] > errors[1] > errors[2] > errors[3]
    assert errors[3] < errors[0] / 4


@pytest.mark.parametrize("method", [back_projection, reverse_filter])
def test_torch_batch_equals_numpy_per_image(pair, method):
    hr, lr = pair
    sr = noisy_upscale(lr)
    def to_t(a):
        return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None]

    batch = method(torch.cat([to_t(sr), to_t(sr[::-1].copy())]),
                   torch.cat([to_t(lr / 255), to_t(lr[::-1] / 255)]), 4, 5)
    single = method(sr, lr, 4, 5)
    assert np.abs(batch[0].numpy().transpose(1, 2, 0) - single).max() < 1e-5  # float32 vs float64 LR
    assert batch.shape == (2, 3, *sr.shape[:2])


def test_uint8_in_uint8_out_and_psnr_reported(pair):
    hr, lr = pair
    bicubic = np.clip(imresize(lr, 4), 0, 255).astype(np.uint8)
    out = back_projection(bicubic, lr, 4)
    assert out.dtype == np.uint8 and out.shape == hr.shape
    before, after = psnr(bicubic, hr, protocol_for(4)), psnr(out, hr, protocol_for(4))
    assert abs(after - before) < 3  # measured, not assumed: printed by notebook 06


def test_scale_mismatch_is_a_clear_error(pair):
    hr, lr = pair
    with pytest.raises(ValueError, match="scale mismatch"):
        back_projection(hr[:-4], lr, 4)
