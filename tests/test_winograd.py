"""Winograd F(6, 3) convolutions (srlib.models.winograd): the same function as the direct convolution, to float32
rounding, at every size and layout an RRDBNet meets."""

from fractions import Fraction

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import srlib.models.winograd as winograd
from srlib.inference import super_resolve
from srlib.models import RRDBNet, build_model
from srlib.models.winograd import (
    POINTS,
    Tiling,
    WinogradConv,
    WinogradRRDBNet,
    winograd_matrices,
    winograd_network,
)


@pytest.mark.parametrize("m, points", [(6, POINTS), (4, tuple(Fraction(p) for p in (0, 1, -1, 2, -2)))])
def test_the_matrices_compute_a_1d_correlation(m, points):
    a_t, g, b_t = winograd_matrices(m, points)
    d, kernel = torch.randn(m + 2, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    direct = torch.stack([d[i : i + 3] @ kernel for i in range(m)])
    assert torch.allclose(a_t @ ((g @ kernel) * (b_t @ d)), direct, atol=1e-12)
    assert torch.equal(a_t[:, 1], torch.ones(m))  # the bias trick of output_transform relies on it


def test_the_points_must_match_the_block():
    with pytest.raises(ValueError, match="F\\(6, 3\\) needs 7 finite points"):
        winograd_matrices(6, POINTS[:5])


def _padded(tiling: Tiling, x: torch.Tensor) -> torch.Tensor:
    buffer = tiling.buffer("input", x.shape[1])
    buffer[1 : tiling.height + 1, 1 : tiling.width + 1] = x[0].permute(1, 2, 0)
    return buffer


@pytest.mark.parametrize("height, width, band_tiles", [(1, 1, 96), (5, 7, 96), (13, 29, 3), (24, 18, 1), (37, 6, 96)])
def test_a_convolution_equals_the_direct_one_at_any_size(height, width, band_tiles):
    torch.manual_seed(0)
    conv = nn.Conv2d(16, 8, 3, 1, 1)
    x = torch.randn(1, 16, height, width)
    tiling = Tiling(height, width, band_tiles)
    target = tiling.buffer("output", 8)
    WinogradConv(conv)(tiling, _padded(tiling, x), target, leaky=True)
    expected = F.leaky_relu(conv(x), 0.2)[0].permute(1, 2, 0)
    assert torch.allclose(target[1 : height + 1, 1 : width + 1], expected, atol=1e-5)
    # the border and what whole tiles wrote past the image stay zero: the next convolution's padding
    target[1 : height + 1, 1 : width + 1] = 0
    assert not target.any()


def test_other_convolutions_are_refused():
    with pytest.raises(ValueError, match="3x3 convolutions of stride 1 and padding 1"):
        WinogradConv(nn.Conv2d(4, 4, 3, stride=2, padding=1))


def _small_rrdbnet(**kwargs) -> RRDBNet:
    torch.manual_seed(0)
    model = RRDBNet(num_feat=16, num_grow_ch=8, num_block=2, **kwargs).eval()
    for p in model.parameters():  # weights of the size a trained network has, not the tiny initial ones
        p.data.normal_(0, 0.05)
    return model


@pytest.mark.parametrize("kwargs, size", [
    ({}, (13, 29)),  # x4, nearest: the Winograd tail
    ({"scale": 2, "unshuffle": 2}, (11, 9)),  # Real-ESRGAN x2plus's layout, an odd size padded and cropped
    ({"upsampler": "pixelshuffle"}, (7, 12)),  # the network's own sub-pixel tail
    ({"scale": 3}, (6, 6)),
])
def test_the_winograd_rrdbnet_computes_the_network(kwargs, size):
    model = _small_rrdbnet(**kwargs)
    x = torch.rand(2, 3, *size)
    with torch.inference_mode():
        expected, got = model(x), WinogradRRDBNet(model)(x)
    assert got.shape == expected.shape
    assert (got - expected).abs().max() < 1e-5


def test_the_tail_in_bands_equals_the_tail_whole(monkeypatch):
    model = _small_rrdbnet()
    x = torch.rand(1, 3, 37, 10)
    monkeypatch.setattr(winograd, "TAIL_PIXELS", 10)  # bands of 8 rows: five of them, each with its halo
    with torch.inference_mode():
        assert (WinogradRRDBNet(model)(x) - model(x)).abs().max() < 1e-5


def test_a_new_input_size_gets_a_new_workspace():
    model = _small_rrdbnet()
    network = WinogradRRDBNet(model)
    with torch.inference_mode():
        for size in ((8, 8), (20, 14), (8, 8)):
            x = torch.rand(1, 3, *size)
            assert (network(x) - model(x)).abs().max() < 1e-5
            assert set(network._workspace) >= {size}


def test_the_winograd_form_is_cached_and_follows_the_weights():
    model = _small_rrdbnet()
    first = winograd_network(model)
    assert isinstance(first, WinogradRRDBNet) and winograd_network(model) is first
    with torch.no_grad():
        model.body[0].rdb1.conv1.weight.add_(0.1)  # what an optimiser step does
    second = winograd_network(model)
    assert second is not first
    x = torch.rand(1, 3, 9, 9)
    with torch.inference_mode():
        assert (second(x) - model(x)).abs().max() < 1e-5


def test_other_networks_and_precisions_run_as_they_are():
    edsr = build_model("edsr_small", scale=2)
    assert winograd_network(edsr) is edsr
    bf16 = _small_rrdbnet().to(torch.bfloat16)
    assert winograd_network(bf16) is bf16


def test_super_resolve_takes_the_winograd_path_on_the_cpu(monkeypatch):
    model = _small_rrdbnet()
    x = torch.rand(1, 3, 15, 17)
    calls = []
    forward = WinogradRRDBNet.forward
    monkeypatch.setattr(WinogradRRDBNet, "forward", lambda self, inp: calls.append(inp.shape) or forward(self, inp))
    fast = super_resolve(model, x, 4)
    assert calls == [x.shape]
    with torch.inference_mode():
        assert (fast - model(x).clamp(0, 1)).abs().max() < 1e-5
    tiled = super_resolve(model, x, 4, tile=8, overlap=2)
    assert len(calls) > 1 and (tiled - fast).abs().max() < 1e-2  # tiles blend: close, not equal
