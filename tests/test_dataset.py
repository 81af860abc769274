import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

from srlib.data import (
    ImageReadError,
    PairedImageDataset,
    aligned_crop,
    d4,
    image_to_tensor,
    make_lr,
    modcrop,
    write_image,
)

SCALE = 4


@pytest.fixture
def replicated_pairs(tmp_path, rng):
    """HR = each LR pixel repeated 4x4, so a well-aligned pair satisfies HR.block_mean == LR."""
    for name, (h, w) in {"a.png": (20, 24), "b.png": (17, 30)}.items():
        lr = (rng.random((h, w, 3)) * 255).astype(np.uint8)
        write_image(tmp_path / "lr" / name, lr)
        write_image(tmp_path / "hr" / name, np.kron(lr, np.ones((SCALE, SCALE, 1), np.uint8)))
    return sorted((tmp_path / "hr").iterdir()), tmp_path / "lr"


def block_mean(hr: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.avg_pool2d(hr[None], SCALE)[0]


def test_d4_gives_eight_distinct_symmetries(rng):
    image = rng.random((5, 5, 3))
    variants = [d4(image, k) for k in range(8)]
    assert len({v.tobytes() for v in variants}) == 8
    np.testing.assert_array_equal(d4(d4(image, 4), 4), image)  # a flip is its own inverse
    with pytest.raises(ValueError):
        d4(image, 8)


def test_lr_hr_stay_aligned_after_crop_and_augmentation(replicated_pairs):
    hr_files, lr_dir = replicated_pairs
    ds = PairedImageDataset(hr_files, SCALE, patch_size=32, lr_dir=lr_dir, augment=True, seed=7)
    seen = set()
    for epoch in range(6):
        ds.set_epoch(epoch)
        for item in ds:
            assert item["lr"].shape == (3, 8, 8) and item["hr"].shape == (3, 32, 32)
            assert torch.allclose(block_mean(item["hr"]), item["lr"], atol=1e-6)
            seen.add(item["hr"].numpy().tobytes())
    assert len(seen) == 12  # crops and symmetries do change


def test_on_the_fly_degradation_is_make_lr_of_the_modcropped_image(tmp_path, photo):
    write_image(tmp_path / "p.png", photo)
    item = PairedImageDataset([tmp_path / "p.png"], SCALE, patch_size=None, augment=False)[0]
    hr = modcrop(photo, SCALE)
    assert torch.equal(item["hr"], image_to_tensor(hr)[0])
    assert torch.equal(item["lr"], image_to_tensor(make_lr(hr, SCALE))[0])


def test_deterministic_and_independent_of_workers(replicated_pairs):
    hr_files, lr_dir = replicated_pairs
    ds = PairedImageDataset(hr_files * 4, SCALE, patch_size=32, lr_dir=lr_dir, seed=1)
    ds.set_epoch(2)
    direct = [ds[i]["hr"] for i in range(len(ds))]
    loaded = [b["hr"][0] for b in DataLoader(ds, batch_size=1, num_workers=2)]
    assert all(torch.equal(a, b) for a, b in zip(direct, loaded, strict=True))
    ds.set_epoch(3)
    assert not all(torch.equal(a, ds[i]["hr"]) for i, a in enumerate(direct))


def test_distributed_sampler_partitions_the_data(replicated_pairs):
    hr_files, lr_dir = replicated_pairs
    ds = PairedImageDataset(hr_files * 3, SCALE, patch_size=16, lr_dir=lr_dir)
    ranks = [list(DistributedSampler(ds, num_replicas=2, rank=r, shuffle=True, seed=0)) for r in range(2)]
    assert sorted(ranks[0] + ranks[1]) == list(range(len(ds)))


def test_errors_name_the_files(tmp_path, rng, replicated_pairs):
    hr_files, lr_dir = replicated_pairs
    write_image(lr_dir / "a.png", np.zeros((19, 24, 3), np.uint8))  # now one LR row short
    with pytest.raises(ValueError, match=r"scale mismatch.*a\.png"):
        PairedImageDataset(hr_files, SCALE, 32, lr_dir=lr_dir)[0]
    with pytest.raises(ValueError, match=r"smaller than the patch.*b\.png"):
        PairedImageDataset(hr_files, SCALE, 96, lr_dir=lr_dir)[1]
    (tmp_path / "broken.png").write_bytes(b"not an image at all")
    with pytest.raises(ImageReadError, match="broken.png"):
        PairedImageDataset([tmp_path / "broken.png"], SCALE, 32)[0]
    with pytest.raises(ValueError, match="multiple of scale"):
        PairedImageDataset(hr_files, SCALE, 30)


def test_gray_images_become_rgb(tmp_path):
    write_image(tmp_path / "g.png", np.full((64, 64), 90, np.uint8))
    item = PairedImageDataset([tmp_path / "g.png"], SCALE, 32)[0]
    assert item["hr"].shape == (3, 32, 32) and item["lr"].shape == (3, 8, 8)


def test_aligned_crop_offsets(rng):
    lr = np.arange(100).reshape(10, 10)
    hr = np.kron(lr, np.ones((2, 2), int))
    a, b = aligned_crop(lr, hr, 2, 4, rng)
    np.testing.assert_array_equal(b[::2, ::2], a)


def test_one_d4_for_numpy_images_and_tensors_and_its_inverse():
    import torch

    from srlib.data.dataset import d4

    image = np.arange(2 * 3 * 3).reshape(2, 3, 3)  # HxWxC, not square: turns change the shape
    tensor = torch.from_numpy(image.transpose(2, 0, 1).copy())[None]  # the same image as NCHW
    seen = set()
    for k in range(8):
        turned = d4(image, k)
        assert np.array_equal(d4(tensor, k)[0].permute(1, 2, 0).numpy(), turned)  # one rule for both
        assert np.array_equal(d4(turned, k, inverse=True), image)
        assert torch.equal(d4(d4(tensor, k), k, inverse=True), tensor)
        seen.add(turned.tobytes() + bytes(turned.shape))
    assert len(seen) == 8  # eight different symmetries
