import hashlib

import numpy as np
import pytest

from srlib.data import imresize, read_image
from srlib.evaluation import niqe
from srlib.evaluation.niqe import PRISTINE_PARAMS, block_features, gaussian_window, load_pristine
from srlib.paths import SAMPLE_DIR


def test_pristine_parameters_are_lives_file():
    assert hashlib.sha256(PRISTINE_PARAMS.read_bytes()).hexdigest().startswith("2a7c182a68c9e7f1")
    mu, cov = load_pristine()
    assert mu.shape == (36,) and cov.shape == (36, 36)
    assert np.allclose(cov, cov.T)
    with np.load(PRISTINE_PARAMS) as params:  # the window shipped with them is MATLAB's fspecial
        assert np.abs(params["gaussian_window"] - gaussian_window()).max() < 1e-15


@pytest.mark.parametrize("name, reference", [("coffee", 4.1152), ("chelsea", 2.6255)])
def test_reproduces_the_reference_values_on_the_y_channel(name, reference):
    assert niqe(read_image(SAMPLE_DIR / f"{name}.png")) == pytest.approx(reference, abs=1e-3)


def test_features_are_taken_on_whole_blocks_cut_before_filtering():
    image = read_image(SAMPLE_DIR / "camera.png").astype(np.float64)
    features = block_features(image)
    assert features.shape == (25, 36)  # 512 -> 5 x 5 blocks of 96
    assert np.array_equal(features, block_features(image[:480, :480]))  # the 32-pixel remainder plays no part


def test_natural_photo_scores_better_than_its_blurred_and_noisy_versions():
    photo = read_image(SAMPLE_DIR / "chelsea.png")
    blurred = np.clip(imresize(imresize(photo.astype(np.float64), 0.25), 4), 0, 255).round().astype(np.uint8)
    noisy = np.clip(photo + np.random.default_rng(0).normal(0, 25, photo.shape), 0, 255).round().astype(np.uint8)
    clean = niqe(photo)
    assert niqe(blurred) > clean + 2
    assert niqe(noisy) > clean + 2


def test_gray_image_is_its_own_y_and_crop_border_applies():
    camera = read_image(SAMPLE_DIR / "camera.png")
    assert niqe(camera) == pytest.approx(niqe(camera.astype(np.float64)))
    assert niqe(camera, crop_border=4) == pytest.approx(niqe(camera[4:-4, 4:-4]))


def test_too_small_image_is_a_clear_error():
    with pytest.raises(ValueError, match="smaller than one 96x96 block"):
        niqe(np.zeros((100, 90, 3), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        niqe(np.zeros((100, 100, 3), np.uint16))


def test_evaluate_upscaler_adds_the_niqe_of_each_output():
    from srlib.data.degrade import make_lr, modcrop
    from srlib.evaluation.baseline import evaluate_upscaler

    path = SAMPLE_DIR / "chelsea.png"
    up = lambda lr: np.clip(imresize(lr, 4), 0, 255).round().astype(np.uint8)  # noqa: E731
    table = evaluate_upscaler(up, [path], 4, with_niqe=True)
    expected = niqe(up(make_lr(modcrop(read_image(path), 4), 4)), crop_border=4)
    assert table.rows[0]["niqe"] == pytest.approx(expected)
    assert "niqe" not in evaluate_upscaler(up, [path], 4).rows[0]


def test_pirm_niqe_of_a_flat_image_is_nan_not_a_linear_algebra_error():
    import math

    from srlib.evaluation.metrics import pirm_niqe

    assert math.isnan(pirm_niqe(np.full((200, 200, 3), 128, np.uint8), 4))
