import json
import math

import numpy as np
import pytest
import torch
from pytorch_msssim import ms_ssim as reference_ms_ssim
from skimage.color import rgb2ycbcr
from skimage.metrics import structural_similarity

from srlib.data import write_image
from srlib.evaluation import Protocol, evaluate, ms_ssim, niqe, protocol_for, psnr, rgb_to_y, rmse, scores, ssim

RGB_FLOAT_Y = Protocol(channel="y", crop_border=4, y_uint8=False)


def noisy(image, rng, sigma=12.0):
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(0)
    from srlib.data.image_io import read_image
    from srlib.paths import SAMPLE_DIR
    hr = read_image(SAMPLE_DIR / "astronaut.png")[:200, :208]
    return noisy(hr, rng), hr


def test_y_channel_is_bt601():
    rgb = np.random.default_rng(1).random((8, 8, 3))
    np.testing.assert_allclose(rgb_to_y(rgb * 255), rgb2ycbcr(rgb)[..., 0], atol=1e-10)


def test_psnr_by_hand(pair):
    sr, hr = pair
    b = 4
    y = lambda im: np.floor(rgb_to_y(im.astype(float)) + 0.5)[b:-b, b:-b]  # noqa: E731
    expected = 10 * math.log10(255**2 / np.mean((y(sr) - y(hr)) ** 2))
    assert psnr(sr, hr) == pytest.approx(expected, abs=1e-10)
    rgb = Protocol("rgb", 0)
    assert psnr(sr, hr, rgb) == pytest.approx(
        10 * math.log10(255**2 / np.mean((sr.astype(float) - hr) ** 2)), abs=1e-10)
    assert psnr(hr, hr) == math.inf


def test_crop_border_ignores_the_border(pair):
    _, hr = pair
    spoiled = hr.copy()
    spoiled[:4] = 0
    assert psnr(spoiled, hr, protocol_for(4)) == math.inf
    assert psnr(spoiled, hr, protocol_for(2)) < 30


def test_ssim_matches_skimage_matlab_settings(pair):
    sr, hr = pair
    kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    ys, yh = (rgb_to_y(im.astype(float))[4:-4, 4:-4] for im in (sr, hr))
    assert ssim(sr, hr, RGB_FLOAT_Y) == pytest.approx(structural_similarity(ys, yh, **kw), abs=1e-6)
    rgb = Protocol("rgb", 0)
    per_channel = np.mean([structural_similarity(sr[..., c].astype(float), hr[..., c].astype(float), **kw)
                           for c in range(3)])
    assert ssim(sr, hr, rgb) == pytest.approx(per_channel, abs=1e-6)
    assert ssim(hr, hr) == pytest.approx(1.0)


def test_ms_ssim_matches_pytorch_msssim(pair):
    sr, hr = pair
    hr, sr = hr[:192, :192], sr[:192, :192]
    rgb = Protocol("rgb", 0)
    t = lambda im: torch.from_numpy(im.astype(np.float64)).permute(2, 0, 1)[None]  # noqa: E731
    expected = float(reference_ms_ssim(t(sr), t(hr), data_range=255, size_average=True))
    assert ms_ssim(sr, hr, rgb) == pytest.approx(expected, abs=1e-4)


def test_ms_ssim_refuses_small_images(pair):
    sr, hr = pair
    with pytest.raises(ValueError, match="at least 176x176"):
        ms_ssim(sr[:128, :128], hr[:128, :128], Protocol("rgb", 0))


def test_gray_image_is_its_own_y(pair):
    sr, hr = pair
    assert psnr(sr[..., 1], hr[..., 1]) == pytest.approx(psnr(sr[..., 1:2], hr[..., 1:2]))
    assert psnr(sr[..., 1], hr[..., 1]) != pytest.approx(psnr(np.dstack([sr[..., 1]] * 3), np.dstack([hr[..., 1]] * 3)))


def test_shape_mismatch_is_an_error(pair):
    sr, hr = pair
    with pytest.raises(ValueError, match="shapes differ"):
        psnr(sr[:-1], hr)


def test_protocol_is_named():
    text = protocol_for(4).describe()
    assert "ITU-R BT.601" in text and "crop_border=4" in text and "uint8" in text
    assert "RGB" in Protocol("rgb", 2).describe()
    with pytest.raises(ValueError):
        Protocol("lab")


def test_evaluate_table(tmp_path, pair):
    sr, hr = pair
    rng = np.random.default_rng(3)
    for i, (a, b) in enumerate([(sr, hr), (noisy(hr, rng, 4), hr)]):
        write_image(tmp_path / "hr" / f"im{i}.png", b)
        write_image(tmp_path / "sr" / f"im{i}.png", a)
    table = evaluate(tmp_path / "sr", tmp_path / "hr", scale=4)
    assert [r["image"] for r in table.rows] == ["im0", "im1"]
    assert table.rows[1]["psnr"] > table.rows[0]["psnr"]
    assert table.mean["psnr"] == pytest.approx(np.mean([r["psnr"] for r in table.rows]))
    mses = [r["rmse"] ** 2 for r in table.rows]
    assert table.mean["rmse"] == pytest.approx(math.sqrt(np.mean(mses)))  # PIRM: sqrt of the mean MSE
    assert table.rows[0]["rmse"] == pytest.approx(rmse(sr, hr))
    assert "crop_border=4" in table.format().splitlines()[0]
    assert "NIQE: Y channel" in table.format().splitlines()[1]
    assert table.rows[0]["niqe"] == pytest.approx(niqe(sr, crop_border=4))
    assert table.rows[0]["niqe"] > table.rows[1]["niqe"]  # sigma 12 noise is less natural than sigma 4
    assert table.mean["niqe"] == pytest.approx(np.mean([r["niqe"] for r in table.rows]))
    write_image(tmp_path / "small_hr" / "s.png", hr[:96, :96])
    write_image(tmp_path / "small_sr" / "s.png", sr[:96, :96])
    assert math.isnan(evaluate(tmp_path / "small_sr", tmp_path / "small_hr", 4).rows[0]["niqe"])
    table.to_csv(tmp_path / "t.csv")
    table.to_json(tmp_path / "t.json")
    assert (tmp_path / "t.csv").read_text().startswith("# protocol: Y (ITU-R BT.601")
    assert json.loads((tmp_path / "t.json").read_text())["mean"]["image"] == "mean"


def test_evaluate_errors(tmp_path, pair):
    sr, hr = pair
    write_image(tmp_path / "hr" / "a.png", hr)
    write_image(tmp_path / "sr" / "b.png", sr)
    with pytest.raises(FileNotFoundError, match="a.png"):
        evaluate(tmp_path / "sr", tmp_path / "hr", 4)
    write_image(tmp_path / "sr" / "a.png", sr[:100])
    with pytest.raises(ValueError, match="a.png"):
        evaluate(tmp_path / "sr", tmp_path / "hr", 4)


def test_scores_agree_with_the_single_metrics(pair):
    sr, hr = pair
    got = scores(sr, hr)
    assert got["psnr"] == pytest.approx(psnr(sr, hr)) and got["ssim"] == pytest.approx(ssim(sr, hr))
    assert got["rmse"] == pytest.approx(rmse(sr, hr)) and math.isfinite(got["ms_ssim"])
    assert math.isnan(scores(sr[:150, :150], hr[:150, :150])["ms_ssim"])  # too small for 5 scales


def test_plane_ssim_equals_the_differentiable_tensor_ssim():
    import torch

    from srlib.evaluation.structural import plane_ssim_components, ssim_components

    rng = np.random.default_rng(5)
    a = rng.random((40, 57)) * 255
    b = np.clip(a + rng.normal(0, 20, a.shape), 0, 255)
    structural, cs = ssim_components(torch.from_numpy(a)[None, None], torch.from_numpy(b)[None, None])
    assert plane_ssim_components(a, b) == pytest.approx((float(structural), float(cs)), abs=1e-12)
    with pytest.raises(ValueError, match="at least 11x11"):
        plane_ssim_components(a[:10], b[:10])


def test_a_memoized_upscaler_runs_once_per_distinct_image():
    from srlib.evaluation import memoized

    calls = []
    up = memoized(lambda lr: calls.append(1) or lr * 2)
    a, b = np.arange(12, dtype=np.uint8).reshape(3, 4), np.ones((3, 4), np.uint8)
    assert np.array_equal(up(a), a * 2) and np.array_equal(up(a.copy()), a * 2) and np.array_equal(up(b), b * 2)
    assert len(calls) == 2


def test_channel_shift_is_the_largest_gap_between_channel_means(pair):
    from srlib.evaluation import channel_means_gap, channel_shift

    _, hr = pair
    tinted = hr.astype(np.int16)
    tinted[..., 0] += 3  # a red cast of 3 grey levels ...
    tinted[..., 2] -= 1
    tinted = np.clip(tinted, 0, 255).astype(np.uint8)
    gap = channel_means_gap(tinted, hr, crop_border=4)
    expected = tinted[4:-4, 4:-4].reshape(-1, 3).mean(0) - hr[4:-4, 4:-4].astype(float).reshape(-1, 3).mean(0)
    assert gap == pytest.approx(expected) and 2.5 < gap[0] <= 3 and gap[1] == 0
    assert channel_shift(tinted, hr, 4) == pytest.approx(abs(gap).max())
    assert scores(tinted, hr)["shift"] == pytest.approx(channel_shift(tinted, hr, 4))
    assert channel_shift(hr[..., 0], hr[..., 0]) == 0  # a gray image: its one plane
