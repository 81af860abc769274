import copy

import numpy as np
import pytest
import torch

from srlib.data import imresize
from srlib.inference import precision_dtype, super_resolve, tiled_forward, upscale
from srlib.models import build_model


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model("rrdbnet", num_block=6).eval()  # random weights, as the requirement says


def test_tiled_equals_untiled_without_seams(model):
    x = torch.rand(1, 3, 70, 90)
    with torch.no_grad():
        full = model(x)
        tiled = tiled_forward(model, x, 4, tile=32, overlap=8, pad=16)
    assert (full - tiled).abs().max() < 1e-3
    # no seam: the error along tile borders is no larger than elsewhere
    err = (full - tiled).abs().mean(dim=(0, 1))
    border_rows = err[[24 * 4 - 1, 24 * 4, 48 * 4 - 1, 48 * 4]].max()
    assert border_rows <= err.max() and border_rows < 1e-4


def test_tiled_without_context_would_show_seams(model):
    x = torch.rand(1, 3, 70, 90)
    with torch.no_grad():
        assert (model(x) - tiled_forward(model, x, 4, tile=32, overlap=8, pad=0)).abs().max() > 1e-3


def test_self_ensemble_of_an_equivariant_model_changes_nothing():
    nearest = torch.nn.Upsample(scale_factor=2, mode="nearest")
    holder = torch.nn.Sequential(torch.nn.Identity())
    holder.register_parameter("p", torch.nn.Parameter(torch.zeros(1)))  # gives the model a device
    model = torch.nn.Sequential(holder, nearest)
    x = torch.rand(1, 3, 9, 7)
    assert torch.allclose(super_resolve(model, x, 2, self_ensemble=True), super_resolve(model, x, 2))


def test_self_ensemble_averages_the_eight_transforms(model):
    x = torch.rand(1, 3, 12, 12)
    plain = super_resolve(model, x, 4)
    ensemble = super_resolve(model, x, 4, self_ensemble=True)
    assert ensemble.shape == plain.shape and not torch.allclose(ensemble, plain)


def test_precision_choices_per_device():
    assert precision_dtype("auto", "cpu") == torch.float32 and precision_dtype("auto", "cuda") == torch.float16
    assert precision_dtype("bf16", "cpu") == torch.bfloat16 and precision_dtype("fp32", "cuda") == torch.float32
    with pytest.raises(ValueError, match="fp16 is for CUDA only"):
        precision_dtype("fp16", "cpu")
    with pytest.raises(ValueError, match="precision must be one of"):
        precision_dtype("int8", "cpu")


def test_fp16_is_refused_on_the_cpu_and_bf16_runs_close_to_fp32():
    torch.manual_seed(0)
    network = build_model("rrdbnet", num_block=1, num_feat=16, num_grow_ch=8)
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match="float16 is for CUDA only"):
        super_resolve(copy.deepcopy(network), x, 4, dtype=torch.float16)
    exact = super_resolve(copy.deepcopy(network), x, 4)
    reduced = super_resolve(copy.deepcopy(network), x, 4, dtype=torch.bfloat16)
    assert reduced.dtype == torch.float32 and reduced.shape == exact.shape
    assert 0 < (reduced - exact).abs().max() < 0.05  # bf16 keeps 8 bits of mantissa: close, not equal


@pytest.mark.parametrize("shape, dtype", [((20, 18), np.uint8), ((20, 18, 3), np.uint8), ((20, 18, 4), np.uint8),
                                          ((20, 18, 3), np.uint16)])
def test_upscale_keeps_form_and_depth(model, shape, dtype):
    rng = np.random.default_rng(0)
    image = (rng.random(shape) * np.iinfo(dtype).max).astype(dtype)
    out = upscale(model, image, 4, tile=8, overlap=2)
    assert out.dtype == dtype and out.shape == (80, 72, *shape[2:])
    if len(shape) == 3 and shape[2] == 4:
        expected = np.clip(imresize(image[..., 3].astype(np.float32) / 255, 4), 0, 1)
        assert np.abs(out[..., 3].astype(float) - np.floor(expected * 255 + 0.5)).max() <= 1


@pytest.mark.parametrize("length, tile, overlap",
                         [(90, 32, 8), (70, 32, 8), (32, 32, 8), (20, 32, 8), (100, 40, 4), (50, 32, 15)])
def test_blend_weights_are_a_partition_of_unity(length, tile, overlap):
    from srlib.models.tiling import _blend_weights, _starts
    starts = _starts(length, tile, overlap)
    total = torch.zeros(length * 2)
    for start, w in zip(starts, _blend_weights(starts, tile, length, 2), strict=True):
        total[start * 2 : start * 2 + len(w)] += w
    assert torch.allclose(total, torch.ones_like(total))


def test_a_cached_upscaler_computes_each_image_once_and_keys_on_the_weights(tmp_path, monkeypatch):
    import srlib.inference.cache as cache

    torch.manual_seed(0)
    net = build_model("rrdbnet_small").eval()
    lr = np.random.default_rng(0).integers(0, 255, (12, 10, 3)).astype(np.uint8)
    first = cache.cached_upscaler(net, 4, cache_dir=tmp_path)(lr)
    assert np.array_equal(first, upscale(net, lr, 4)) and len(list(tmp_path.glob("*.npy"))) == 1
    monkeypatch.setattr(cache, "upscale", lambda *args, **kwargs: pytest.fail("computed again"))
    assert np.array_equal(cache.cached_upscaler(net, 4, cache_dir=tmp_path)(lr), first)  # from disk
    changed = copy.deepcopy(net)
    with torch.no_grad():
        changed.conv_last.bias += 0.01
    assert cache.network_digest(changed) != cache.network_digest(net)
    with pytest.raises(pytest.fail.Exception, match="computed again"):  # other weights: not served the old output
        cache.cached_upscaler(changed, 4, cache_dir=tmp_path)(lr)


def test_an_output_kept_for_the_cache_is_served_without_running_the_network(tmp_path, monkeypatch):
    """What the weights tests leave behind (keep_output at cached_output_path) is what the notebooks read."""
    import srlib.inference.cache as cache

    net = build_model("rrdbnet_small").eval()
    lr = np.random.default_rng(1).integers(0, 255, (12, 10, 3)).astype(np.uint8)
    output = upscale(net, lr, 4, tile=128)
    cache.keep_output(cache.cached_output_path(net, 4, 128, lr, tmp_path), output)
    monkeypatch.setattr(cache, "upscale", lambda *args, **kwargs: pytest.fail("computed again"))
    assert np.array_equal(cache.cached_upscaler(net, 4, 128, tmp_path)(lr), output)
    with pytest.raises(pytest.fail.Exception, match="computed again"):  # another tile size is another output
        cache.cached_upscaler(net, 4, 64, tmp_path)(lr)


def test_upscale_rounds_exactly_as_from_float(model):
    from srlib.data.image_io import from_float, image_to_tensor

    image = (np.random.default_rng(0).random((9, 11, 3)) * 255).astype(np.uint8)
    float_output = super_resolve(model, image_to_tensor(image), 4)[0].permute(1, 2, 0).numpy()
    assert np.array_equal(upscale(model, image, 4), from_float(float_output))
    assert np.array_equal(upscale(model, image.astype(np.uint16) * 257, 4), from_float(float_output, np.uint16))


def test_an_output_larger_than_the_memory_available_is_refused_before_the_network_runs(tmp_path, monkeypatch):
    import srlib.hardware
    from srlib.data import write_image
    from srlib.inference import NotEnoughMemory, upscale_files

    write_image(tmp_path / "big.png", np.zeros((64, 80, 3), np.uint8))
    monkeypatch.setattr(srlib.hardware, "available_memory", lambda: 2**20)  # 1 MiB free
    expected = r"big.png: upscaling 80x64 by 4 needs about 2 MiB of memory for its 320x256 result, and 1 MiB are"
    with pytest.raises(NotEnoughMemory, match=expected):
        upscale_files(tmp_path / "big.png", tmp_path / "out.png", "realesrgan-x4plus", progress=False)
    assert not (tmp_path / "out.png").exists()
    # the pixel limit's image: 16384^2 by 4 needs tens of GiB, which upscale_memory says before any decoding
    from srlib.inference.files import upscale_memory

    assert upscale_memory(16384, 16384, 4) / 2**30 > 50
