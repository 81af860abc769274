"""The discriminator's differentiable augmentation (srlib.training.augment)."""

import torch

from srlib.training.augment import augment_for_discriminator, color_jitter, cutout, translate


def ramp_batch(n: int = 6, size: int = 32) -> torch.Tensor:
    """Images whose every pixel is distinct and non-zero, so a shift or a hole is unambiguous."""
    values = torch.arange(1, n * 3 * size * size + 1, dtype=torch.float32)
    return (values / values.max()).view(n, 3, size, size)


def test_translate_shifts_each_image_within_an_eighth_and_fills_with_zeros():
    torch.manual_seed(0)
    images = ramp_batch()
    moved = translate(images)
    shifts = set()
    for original, result in zip(images, moved, strict=True):
        found = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)
                 if torch.equal(result, _shifted(original, dy, dx))]
        assert len(found) == 1
        shifts.add(found[0])
    assert len(shifts) > 1  # drawn per image


def _shifted(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    out = torch.zeros_like(image)
    h, w = image.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = image[:, max(-dy, 0):h - max(dy, 0),
                                                                         max(-dx, 0):w - max(dx, 0)]
    return out


def test_cutout_zeroes_one_square_of_half_the_side_and_keeps_the_rest():
    torch.manual_seed(1)
    images = ramp_batch()
    holed = cutout(images)
    for original, result in zip(images, holed, strict=True):
        zero = (result == 0).all(dim=0)
        assert torch.equal(result[:, ~zero], original[:, ~zero])
        rows, cols = zero.any(dim=1).nonzero(), zero.any(dim=0).nonzero()
        height, width = len(rows), len(cols)
        assert 0 < zero.sum() == height * width <= 16 * 16  # one rectangle, clipped at the border
        assert rows.max() - rows.min() + 1 == height and cols.max() - cols.min() + 1 == width


def test_color_jitter_is_drawn_per_image():
    torch.manual_seed(2)
    same = ramp_batch(1).repeat(4, 1, 1, 1)
    jittered = color_jitter(same)
    assert not torch.allclose(jittered[0], jittered[1])


def test_gradients_flow_through_the_augmentation_to_the_generator_output():
    torch.manual_seed(3)
    generated = ramp_batch(4).requires_grad_()
    augment_for_discriminator(generated).square().sum().backward()
    assert torch.isfinite(generated.grad).all() and generated.grad.abs().sum() > 0


def test_the_same_seed_draws_the_same_augmentation():
    images = ramp_batch()
    torch.manual_seed(4)
    first = augment_for_discriminator(images)
    torch.manual_seed(4)
    assert torch.equal(first, augment_for_discriminator(images))


def test_a_policy_applies_only_the_steps_it_names():
    images = ramp_batch()
    assert torch.equal(augment_for_discriminator(images, ""), images)
    torch.manual_seed(0)
    geometric = augment_for_discriminator(images, "translation,cutout")
    torch.manual_seed(0)
    assert torch.equal(geometric, cutout(translate(images)))
    # without the colour step every pixel D sees is one of the image's own values, or a zero of the padding / hole
    assert set(geometric.unique().tolist()) <= set(images.unique().tolist()) | {0.0}
