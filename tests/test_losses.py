import math

import numpy as np
import pytest
import torch
from pytorch_msssim import ms_ssim as reference_ms_ssim
from pytorch_msssim import ssim as reference_ssim
from scipy.ndimage import gaussian_filter

import srlib.losses.perceptual
from srlib.data import image_to_tensor, imresize, read_image
from srlib.losses import (
    GeneratorObjective,
    MixLoss,
    PerceptualLoss,
    charbonnier_loss,
    gan_d_loss,
    gan_g_loss,
    l1_loss,
    l2_loss,
    ms_ssim_loss,
    perceptual,
    ragan_d_loss,
    ragan_g_loss,
    ssim_loss,
)
from srlib.models import CheckpointError
from srlib.paths import SAMPLE_DIR


@pytest.fixture(scope="module")
def pair():
    hr = image_to_tensor(read_image(SAMPLE_DIR / "astronaut.png")[:192, :192]).double()
    torch.manual_seed(0)
    sr = (hr + 0.05 * torch.randn_like(hr)).clamp(0, 1)
    return sr, hr


def test_pixel_losses_by_hand():
    sr, hr = torch.tensor([[[[0.0, 0.5]]]]), torch.tensor([[[[1.0, 0.5]]]])
    assert l1_loss(sr, hr).item() == pytest.approx(0.5)
    assert l2_loss(sr, hr).item() == pytest.approx(0.5)
    assert charbonnier_loss(sr, hr, eps=1e-3).item() == pytest.approx((math.sqrt(1 + 1e-6) + 1e-3) / 2)


def test_ssim_and_ms_ssim_losses_match_pytorch_msssim(pair):
    sr, hr = pair
    assert ssim_loss(sr, hr).item() == pytest.approx(1 - reference_ssim(sr, hr, data_range=1.0).item(), abs=1e-4)
    assert ms_ssim_loss(sr, hr).item() == pytest.approx(1 - reference_ms_ssim(sr, hr, data_range=1.0).item(), abs=1e-4)


def test_small_patches_need_explicitly_fewer_scales(pair):
    sr, hr = (t[..., :128, :128] for t in pair)
    with pytest.raises(ValueError, match="176x176"):
        ms_ssim_loss(sr, hr)
    with pytest.raises(ValueError, match="176x176"):
        MixLoss()(sr, hr)
    assert 0 < ms_ssim_loss(sr, hr, scales=3).item() < 1


def test_mix_loss_is_the_formula(pair):
    sr, hr = pair
    alpha = 0.84
    structural = 1 - reference_ms_ssim(sr, hr, data_range=1.0).item()
    error = (sr - hr).abs()[0].numpy()
    radius = 16  # 2 sigma, sigma = 8
    blurred = np.stack([gaussian_filter(c, 8.0, truncate=2.0)[radius:-radius, radius:-radius] for c in error])
    expected = alpha * structural + (1 - alpha) * blurred.mean()
    assert MixLoss(alpha)(sr, hr).item() == pytest.approx(expected, abs=1e-4)
    assert MixLoss(1.0)(sr, hr).item() == pytest.approx(ms_ssim_loss(sr, hr).item())


@pytest.mark.parametrize("loss", [l1_loss, l2_loss, charbonnier_loss, ssim_loss,
                                  lambda a, b: ms_ssim_loss(a, b, scales=1), MixLoss(scales=1, sigma=2.0)])
def test_gradients_are_correct(loss):
    torch.manual_seed(1)
    hr = torch.rand(1, 2, 16, 16, dtype=torch.float64)
    sr = (hr + 0.1 * torch.rand_like(hr)).clamp(0, 1).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: loss(x, hr), (sr,), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("loss", [l1_loss, l2_loss, charbonnier_loss, ssim_loss, ms_ssim_loss, MixLoss()])
def test_finite_on_constant_images(loss):
    hr = torch.full((1, 3, 192, 192), 0.5)
    sr = torch.full((1, 3, 192, 192), 0.5, requires_grad=True)
    value = loss(sr, hr)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(sr.grad).all()


def test_shape_and_range_errors():
    with pytest.raises(ValueError, match="shapes differ"):
        l1_loss(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9))
    with pytest.raises(ValueError, match=r"expected images in \[0, 1\]"):
        l1_loss(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8) * 255)


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_gan_losses_by_hand():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 1.0])
    assert gan_d_loss(real, fake).item() == pytest.approx(
        -(math.log(sigmoid(2)) + math.log(sigmoid(0))) / 2 - (math.log(1 - sigmoid(-1)) + math.log(1 - sigmoid(1))) / 2)
    assert gan_g_loss(fake).item() == pytest.approx(-(math.log(sigmoid(-1)) + math.log(sigmoid(1))) / 2)
    real_mean, fake_mean = 1.0, 0.0
    d_real = [sigmoid(r - fake_mean) for r in (2.0, 0.0)]  # D_Ra(real, fake)
    d_fake = [sigmoid(f - real_mean) for f in (-1.0, 1.0)]  # D_Ra(fake, real)
    expected_d = 0.5 * (-np.mean(np.log(d_real)) - np.mean(np.log(1 - np.array(d_fake))))
    expected_g = 0.5 * (-np.mean(np.log(1 - np.array(d_real))) - np.mean(np.log(d_fake)))
    assert ragan_d_loss(real, fake).item() == pytest.approx(expected_d)
    assert ragan_g_loss(real, fake).item() == pytest.approx(expected_g)


def test_ragan_means_are_detached():
    real = torch.tensor([2.0, 0.0], requires_grad=True)
    fake = torch.tensor([-1.0, 1.0], requires_grad=True)
    ragan_d_loss(real, fake).backward()
    # d/d fake_j only through the fake term: 0.5 * sigmoid(f_j - mean real) / n
    expected = [0.5 * sigmoid(f - 1.0) / 2 for f in (-1.0, 1.0)]
    assert fake.grad.tolist() == pytest.approx(expected)
    real.grad = None
    ragan_g_loss(real, fake).backward()
    assert real.grad is None  # the generator cannot move the discriminator's view of real images


def test_generator_objective_weights_its_parts():
    sr, hr = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    real, fake = torch.randn(2, 1), torch.randn(2, 1)
    total, parts = GeneratorObjective(pixel=l1_loss, perceptual=lambda a, b: l2_loss(a, b))(sr, hr, real, fake)
    assert parts["total"] == pytest.approx(parts["perceptual"] + 5e-3 * parts["gan"] + 1e-2 * parts["pixel"], rel=1e-6)
    assert parts["pixel"] == pytest.approx(l1_loss(sr, hr).item()) and total.item() == pytest.approx(parts["total"])


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(perceptual, "DATASET_ROOT", tmp_path / "datasets")  # nor a `srlib download vgg19`
    perceptual._say_once.cache_clear()  # as in a fresh process
    return tmp_path / "hub"


def test_vgg19_uses_torchvision_numbering():
    assert perceptual.vgg19_layer_indices()["conv5_4"] == 34
    assert perceptual.vgg19_layer_indices()["conv2_2"] == 7
    full = perceptual.vgg19_features("conv5_4")
    assert sum(p.numel() for p in full.parameters()) == 20_024_384  # torchvision vgg19.features up to conv5_4


def test_without_vgg_weights_the_stand_in_is_announced_once(empty_hub, capsys):
    loss = PerceptualLoss()
    assert "EfficientNet-Lite0 stand-in" in capsys.readouterr().out
    assert "EfficientNet-Lite0" in loss.description
    PerceptualLoss()
    assert capsys.readouterr().out == ""  # no second announcement
    with pytest.raises(CheckpointError, match="VGG19 weights not found"):
        PerceptualLoss("vgg19")
    assert "RANDOM" in PerceptualLoss("vgg19-random").description


def test_the_stand_in_is_imagenet_trained():
    net = perceptual.efficientnet_lite0()
    image = image_to_tensor(read_image(SAMPLE_DIR / "chelsea.png"))
    x = imresize(image, size=(224, 224)) * 255 / 128 - 127 / 128
    with torch.no_grad():
        assert net(x).argmax().item() == 285  # ImageNet class 285: Egyptian cat


def test_vgg19_weights_are_found_in_the_hub_cache(empty_hub):
    torch.manual_seed(0)
    source = perceptual.vgg19_features("conv5_4")
    state = {f"features.{k}": v for k, v in source.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # the classifier in the file is ignored
    (empty_hub / "checkpoints").mkdir(parents=True)
    torch.save(state, empty_hub / "checkpoints" / perceptual.VGG19_FILE)
    loss = PerceptualLoss()
    assert loss.description.startswith("VGG19 conv5_4")
    assert torch.equal(loss.features.body[34].weight, source[34].weight)


def test_perceptual_loss_behaves(empty_hub):
    loss = PerceptualLoss("vgg19-random", layer="conv2_2")
    hr = torch.rand(1, 3, 32, 32)
    sr = hr.clone().requires_grad_()
    assert loss(sr, hr).item() == 0
    value = loss((sr + 0.1).clamp(0, 1), hr)
    value.backward()
    assert value.item() > 0 and sr.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss.features.parameters())


# (ragan_d_loss is left out on purpose: it detaches the mean of the fakes, so its gradient is not the
# numerical one; test_ragan_means_are_detached checks it against the hand-derived value instead)
@pytest.mark.parametrize("loss", [ragan_g_loss, gan_d_loss, lambda r, f: gan_g_loss(f)])
def test_gan_gradients_are_correct(loss):
    torch.manual_seed(2)
    real = torch.randn(4, 1, dtype=torch.float64, requires_grad=True)
    fake = torch.randn(4, 1, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda f: loss(real, f), (fake,))


def test_colour_pull_is_the_gradient_on_a_global_colour_offset():
    from srlib.losses import colour_pull

    hr = torch.rand(2, 3, 16, 16)
    sr = hr.clone()
    sr[:, 0] += 0.1  # red too high everywhere
    pull = colour_pull(l1_loss, sr, hr)
    assert pull[0] == pytest.approx(1 / 3, abs=1e-6)  # d mean|x| / d offset: one third of the elements are red
    assert pull[1:].abs().max() < 0.34


def test_a_mean_matched_perceptual_loss_has_no_say_in_the_colour(monkeypatch):
    from srlib.losses import colour_pull

    torch.manual_seed(0)
    features = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 8, 3))
    monkeypatch.setattr(srlib.losses.perceptual, "feature_network", lambda *args: (features, "random"))
    hr, sr = torch.rand(2, 3, 24, 24), torch.rand(2, 3, 24, 24)
    plain, matched = PerceptualLoss(), PerceptualLoss(match_means=True)
    assert colour_pull(plain, sr, hr).abs().max() > 1e-3
    assert colour_pull(matched, sr, hr).abs().max() < 1e-6
    assert float(matched(sr + 0.2, hr)) == pytest.approx(float(matched(sr, hr)), abs=1e-5)  # blind to a global shift
    assert matched(sr, hr) > 0  # but not to texture
