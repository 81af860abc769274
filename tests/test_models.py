import pickle
import re

import pytest
import torch

from srlib.data import imresize
from srlib.models import (
    CheckpointError,
    RRDBNet,
    VGGDiscriminator,
    block_output_stds,
    build_model,
    count_parameters,
    flops_per_pixel,
    load_weights,
    read_state_dict,
)


def test_rrdbnet_x4_has_the_published_parameter_count():
    assert count_parameters(RRDBNet()) == 16_697_987


@pytest.mark.parametrize("upsampler", ["nearest", "pixelshuffle"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_generators_upscale_by_their_factor(scale, upsampler):
    for model in (build_model("rrdbnet_small", scale=scale, upsampler=upsampler),
                  build_model("srresnet", scale=scale, num_block=2), build_model("edsr_small", scale=scale),
                  build_model("wdsr_a_small", scale=scale), build_model("rdn_small", scale=scale)):
        assert model(torch.rand(2, 3, 10, 7)).shape == (2, 3, 10 * scale, 7 * scale)


def test_dense_block_init_is_scaled_kaiming():
    conv = RRDBNet(num_block=1).body[0].rdb1.conv1
    fan_in = conv.weight[0].numel()
    std = conv.weight.std().item()
    assert 0.07 < std / (0.1 * (2 / fan_in) ** 0.5) < 1.3  # kaiming std sqrt(2/fan_in), times 0.1
    assert conv.bias.abs().max() == 0


def test_published_sizes_of_the_comparators():
    assert count_parameters(build_model("edsr_baseline")) == pytest.approx(1.5e6, rel=0.02)
    assert count_parameters(build_model("edsr")) == pytest.approx(43e6, rel=0.01)
    assert count_parameters(build_model("srresnet")) == pytest.approx(1.55e6, rel=0.01)
    assert count_parameters(build_model("rdn")) == pytest.approx(22.3e6, rel=0.01)
    assert count_parameters(build_model("wdsr_a")) == pytest.approx(1.2e6, rel=0.02)


@pytest.mark.parametrize("size", [128, 192])
def test_discriminator_forward_backward(size):
    d = VGGDiscriminator(size)
    x = torch.rand(2, 3, size, size, requires_grad=True)
    logits = d(x)
    assert logits.shape == (2, 1)
    logits.sum().backward()
    assert x.grad is not None and d.features[0].weight.grad.abs().sum() > 0


def test_discriminator_size_errors():
    with pytest.raises(ValueError, match="built for 128x128.*got 192x192"):
        VGGDiscriminator(128)(torch.rand(1, 3, 192, 192))
    with pytest.raises(ValueError, match="multiple of 32"):
        VGGDiscriminator(100)


def test_build_model_overrides_and_errors():
    assert len(build_model("rrdbnet", num_block=10).body) == 10
    with pytest.raises(KeyError, match="unknown model 'nope'"):
        build_model("nope")


# Writers of the official layouts, written independently of srlib.models.weights (the test's oracle).
def basicsr_file(state):
    return {"params_ema": state, "params": {k: torch.zeros_like(v) for k, v in state.items()}}


def esrgan_2020(state):
    rules = [(r"^body\.(\d+)\.rdb(\d)\.", r"RRDB_trunk.\1.RDB\2."), (r"^conv_body\.", "trunk_conv."),
             (r"^conv_up(\d)\.", r"upconv\1."), (r"^conv_hr\.", "HRconv.")]
    return {_sub(rules, k): v for k, v in state.items()}


def esrgan_original(state, num_block):
    rules = [(r"^conv_first\.", "model.0."), (r"^body\.(\d+)\.rdb(\d)\.(conv\d)\.", r"model.1.sub.\1.RDB\2.\3.0."),
             (r"^conv_body\.", f"model.1.sub.{num_block}."), (r"^conv_up1\.", "model.3."),
             (r"^conv_up2\.", "model.6."), (r"^conv_hr\.", "model.8."), (r"^conv_last\.", "model.10.")]
    return {_sub(rules, k): v for k, v in state.items()}


def _sub(rules, key):
    for pattern, repl in rules:
        if re.match(pattern, key):
            return re.sub(pattern, repl, key)
    return key


@pytest.mark.parametrize("layout, writer", [
    ("BasicSR", basicsr_file), ("ESRGAN (2020)", esrgan_2020),
    ("ESRGAN (original release)", lambda s: esrgan_original(s, 2)),
])
def test_official_layouts_load_and_give_the_same_outputs(tmp_path, layout, writer):
    torch.manual_seed(0)
    source = RRDBNet(num_feat=16, num_block=2, num_grow_ch=8)
    torch.save(writer(source.state_dict()), tmp_path / "w.pth")
    target = RRDBNet(num_feat=16, num_block=2, num_grow_ch=8)
    assert load_weights(target, tmp_path / "w.pth") == layout
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        assert torch.equal(source(x), target(x))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_bad_checkpoints_are_clear_errors(tmp_path):
    model = RRDBNet(num_feat=16, num_block=2, num_grow_ch=8)
    with pytest.raises(CheckpointError, match="not found"):
        load_weights(model, tmp_path / "none.pth")
    torch.save(model.state_dict(), tmp_path / "full.pth")
    data = (tmp_path / "full.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_weights(model, tmp_path / "cut.pth")
    (tmp_path / "code.pth").write_bytes(pickle.dumps(print))  # a pickle that would run code
    with pytest.raises(CheckpointError):
        read_state_dict(tmp_path / "code.pth")
    other = RRDBNet(num_feat=16, num_block=3, num_grow_ch=8).state_dict()
    with pytest.raises(CheckpointError, match=r"unexpected body\.2\.rdb1"):
        load_weights(model, other)
    with pytest.raises(CheckpointError, match=r"shape mismatch body\.0\.rdb1\.conv1\.weight.*\(47 in all\)"):
        load_weights(model, RRDBNet(num_feat=8, num_block=2, num_grow_ch=8).state_dict())


def test_batch_norm_free_variants_have_no_batch_norm():
    for name in ("srresnet_nobn", "rrdbnet_small", "edsr_small", "wdsr_a_small", "rdn_small"):
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in build_model(name).modules()), name
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in build_model("srresnet").modules())


def test_flops_per_pixel_matches_the_rrdbnet_formula():
    nf, gc, blocks = 64, 32, 23
    dense = 9 * (sum((nf + i * gc) * gc for i in range(4)) + (nf + 4 * gc) * nf)  # one dense block, per pixel
    trunk = blocks * 3 * dense + 9 * (3 * nf + nf * nf)  # RRDBs, conv_first, conv_body
    up = 9 * (nf * nf * 4 + nf * nf * 16 + nf * nf * 16 + nf * 3 * 16)  # conv_up1 at 2x, conv_up2/hr/last at 4x
    assert flops_per_pixel(RRDBNet(), 4) == pytest.approx(2 * (trunk + up))


def test_residual_scaling_keeps_the_trunk_stable():
    x = torch.rand(1, 3, 16, 16)
    torch.manual_seed(0)
    esrgan = RRDBNet(num_block=8)
    torch.manual_seed(0)
    plain = RRDBNet(num_block=8, res_scale=1.0, init_scale=1.0)
    stable = block_output_stds(esrgan, esrgan.body, x)
    wild = block_output_stds(plain, plain.body, x)
    assert len(stable) == len(wild) == 8
    assert stable[-1] / stable[0] < 10 and wild[-1] / wild[0] > 1000  # measured: ~3.6 vs ~9e4


def test_bicubic_model_is_the_matlab_resize():
    x = torch.rand(1, 3, 6, 5, dtype=torch.float64)
    assert torch.equal(build_model("bicubic", scale=3)(x), imresize(x, 3))


def test_rrdbnet_gradients_are_exact():
    torch.manual_seed(0)
    net = RRDBNet(num_feat=4, num_block=1, num_grow_ch=2, scale=2).double()
    x = torch.rand(1, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(net, (x,), eps=1e-6, atol=1e-5)


def test_network_interpolation_blends_weights_between_two_networks():
    from srlib.models import interpolate

    torch.manual_seed(0)
    psnr_net, gan_net = build_model("rrdbnet_small").eval(), build_model("rrdbnet_small").eval()
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        for alpha, expected in ((0.0, psnr_net(x)), (1.0, gan_net(x))):
            assert torch.allclose(interpolate(psnr_net, gan_net, alpha)(x), expected, atol=1e-6)
    half = interpolate(psnr_net, gan_net, 0.3).state_dict()
    key = "conv_first.weight"
    assert torch.allclose(half[key], 0.7 * psnr_net.state_dict()[key] + 0.3 * gan_net.state_dict()[key])
    assert psnr_net.state_dict()[key].data_ptr() != half[key].data_ptr()  # a new network; the two are untouched


def test_network_interpolation_refuses_networks_of_different_shapes():
    from srlib.models import interpolate

    rrdb = build_model("rrdbnet_small")
    with pytest.raises(CheckpointError, match="RRDBNet with a EDSR|one architecture"):
        interpolate(rrdb, build_model("edsr_small"), 0.5)
    with pytest.raises(CheckpointError, match="different sizes: body.2"):
        interpolate(rrdb, build_model("rrdbnet_small", num_block=2), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        interpolate(rrdb, rrdb, 1.5)
