"""The interpolation knob measured (srlib.inference.interpolation) and shown (srlib.notebook.interpolation)."""

import numpy as np
import pytest
import torch

from srlib.data import make_lr, read_image
from srlib.inference import (
    ALPHAS,
    blend_images,
    interpolated_outputs,
    pirm_choices,
    trace_interpolation,
    upscale,
)
from srlib.inference.interpolation import InterpolationPoint
from srlib.models import Bicubic, build_model, interpolate
from srlib.notebook import InterpolationSlider
from srlib.paths import SAMPLE_DIR


@pytest.fixture(scope="module")
def networks():
    torch.manual_seed(0)
    return build_model("rrdbnet_small").eval(), build_model("rrdbnet_small").eval()


def test_image_interpolation_blends_the_two_outputs():
    a, b = np.zeros((2, 2, 3), np.uint8), np.full((2, 2, 3), 200, np.uint8)
    assert (blend_images(a, b, 0.25) == 50).all() and (blend_images(a, b, 0) == a).all()


def test_both_knobs_meet_at_their_ends_and_differ_between(networks):
    psnr_net, gan_net = networks
    lr = make_lr(read_image(SAMPLE_DIR / "coffee.png")[:64, :64], 4)
    outputs = interpolated_outputs(psnr_net, gan_net, lr, 4, alphas=(0.0, 0.5, 1.0))
    assert np.array_equal(outputs["network", 0.0], upscale(psnr_net, lr, 4))
    assert np.array_equal(outputs["network", 1.0], upscale(gan_net, lr, 4))
    for alpha in (0.0, 1.0):
        assert np.array_equal(outputs["network", alpha], outputs["image", alpha])
    assert np.array_equal(outputs["network", 0.5], upscale(interpolate(psnr_net, gan_net, 0.5), lr, 4))
    assert not np.array_equal(outputs["network", 0.5], outputs["image", 0.5])


def test_tracing_scores_every_alpha_of_both_knobs_per_image():
    # bicubic against itself: every point is bicubic's score, which pins the aggregation down
    hr = {"coffee": read_image(SAMPLE_DIR / "coffee.png")[:200, :200],
          "chelsea": read_image(SAMPLE_DIR / "chelsea.png")[:200, :200]}
    points = trace_interpolation(Bicubic(), Bicubic(), hr, 4, alphas=(0.0, 0.5, 1.0), progress=False)
    assert [(p.space, p.alpha) for p in points] == [(s, a) for s in ("network", "image") for a in (0.0, 0.5, 1.0)]
    from srlib.evaluation import protocol_for, psnr, rmse

    bicubic = {name: upscale(Bicubic(), make_lr(image, 4), 4) for name, image in hr.items()}
    expected_psnr = np.mean([psnr(bicubic[n], hr[n], protocol_for(4)) for n in hr])
    expected_rmse = np.sqrt(np.mean([rmse(bicubic[n], hr[n], protocol_for(4)) ** 2 for n in hr]))
    for point in points:
        assert point.psnr == pytest.approx(expected_psnr) and point.rmse == pytest.approx(expected_rmse)
        assert set(point.per_image) == set(hr)


def point(space, alpha, rmse, niqe):
    return InterpolationPoint(space, alpha, psnr=0.0, rmse=rmse, niqe=niqe, per_image={})


def test_each_pirm_region_takes_its_most_natural_alpha_within_the_bound():
    points = [point("network", 0.0, 10.0, 6.0), point("network", 0.5, 12.0, 4.0), point("network", 1.0, 17.0, 2.0),
              point("image", 0.0, 10.0, 6.0), point("image", 1.0, 17.0, 2.0)]
    choices = pirm_choices(points)
    assert choices["network", "region 1"].alpha == 0.0  # RMSE <= 11.5
    assert choices["network", "region 2"].alpha == 0.5 and choices["network", "region 3"].alpha == 0.5
    assert choices["image", "region 2"].alpha == 0.0
    assert pirm_choices(points, {"strict": 5.0})["network", "strict"] is None


def test_the_slider_moves_the_crop_and_the_point(networks):
    crops = {(space, a): np.full((8, 10, 3), int(a * 250) if space == "network" else 100, np.uint8)
             for space in ("network", "image") for a in ALPHAS}
    points = [point(space, a, 5 + a, 8 - 2 * a) for space in ("network", "image") for a in ALPHAS]
    slider = InterpolationSlider(crops, points, ("psnr", "gan"), alpha=0.2)
    before = slider.picture()
    assert "0.8 x psnr + 0.2 x gan" in slider.caption.value
    slider.slider.value = 0.9
    assert "0.1 x psnr + 0.9 x gan" in slider.caption.value
    after = slider.picture()
    assert before.shape == after.shape and not np.array_equal(before, after)
    with pytest.raises(ValueError, match="no crop"):
        InterpolationSlider({k: v for k, v in crops.items() if k[1] != 0.5}, points, ("psnr", "gan"))


def test_a_trace_of_two_runs_is_kept_with_what_it_measured(tmp_path, monkeypatch):
    import srlib.inference.interpolation as tracing
    from srlib.training import GENERATOR, TrainConfig, save_atomic

    for name, seed in (("psnr", 0), ("gan", 1)):
        torch.manual_seed(seed)
        save_atomic({"params": build_model("rrdbnet_small").state_dict()}, tmp_path / name / GENERATOR)
        (tmp_path / name / "config.json").write_text(TrainConfig().to_json())
    hr = {"coffee": read_image(SAMPLE_DIR / "coffee.png")[:128, :128]}
    cache = tmp_path / "trace.json"
    first = tracing.trace_runs(tmp_path / "psnr", tmp_path / "gan", hr, 4, (0.0, 1.0), cache, progress=False)
    monkeypatch.setattr(tracing, "trace_interpolation", lambda *args, **kwargs: pytest.fail("traced again"))
    again = tracing.trace_runs(tmp_path / "psnr", tmp_path / "gan", hr, 4, (0.0, 1.0), cache, progress=False)
    assert repr(again) == repr(first)  # the same points (NaN NIQE of a flat random output included)
    with pytest.raises(pytest.fail.Exception, match="traced again"):  # other weights: the file does not match
        torch.manual_seed(2)
        save_atomic({"params": build_model("rrdbnet_small").state_dict()}, tmp_path / "gan" / GENERATOR)
        tracing.trace_runs(tmp_path / "psnr", tmp_path / "gan", hr, 4, (0.0, 1.0), cache, progress=False)
