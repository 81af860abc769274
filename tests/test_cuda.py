"""Checks of the CUDA paths. They run on machines with a GPU; CPU-only machines (CI here) skip them."""

import copy

import numpy as np
import pytest
import torch

from srlib.data import imresize, write_image
from srlib.inference import super_resolve
from srlib.models import build_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (these test the GPU paths)")


def test_imresize_on_cuda_matches_cpu():
    x = torch.rand(2, 3, 37, 29, dtype=torch.float64)
    for scale in (1 / 4, 3 / 4, 3):
        assert torch.allclose(imresize(x.cuda(), scale).cpu(), imresize(x, scale), atol=1e-10)
    u8 = (torch.rand(3, 40, 36) * 255).to(torch.uint8)
    assert torch.equal(imresize(u8.cuda(), 0.25).cpu(), imresize(u8, 0.25))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_reduced_precision_inference_is_close_to_fp32(dtype):
    torch.manual_seed(0)
    model = build_model("rrdbnet_small")
    x = torch.rand(1, 3, 48, 40)
    fast = super_resolve(copy.deepcopy(model).cuda(), x, 4, dtype=dtype, tile=32)
    reference = super_resolve(model, x, 4)
    assert fast.device.type == "cuda"
    assert np.abs(fast.cpu().numpy() - reference.numpy()).max() < 0.05


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_training_on_cuda_learns_and_resumes(tmp_path, precision):
    from srlib.training import CHECKPOINT, load_checkpoint, read_log, train
    from tests.runs import tiny_config

    data = tmp_path / "data"
    for split, size in (("train", 64), ("val", 48)):
        (data / split).mkdir(parents=True)
        rng = np.random.default_rng(0)
        for k in range(4):
            write_image(data / split / f"{k}.png", rng.integers(0, 256, (size, size, 3), np.uint8))
    for stage in ("psnr", "gan"):
        config = tiny_config(data, tmp_path / stage, stage, device="cuda", precision=precision, iterations=4,
                             init_from=str(tmp_path / "psnr") if stage == "gan" else None)
        run = train(config, progress=False)
        assert all(np.isfinite(r.get("pixel", 0.0)) for r in read_log(run))
        assert load_checkpoint(run / CHECKPOINT)["iteration"] == 4


def test_upscale_runs_on_cuda_in_fp16_by_default(tmp_path, capsys):
    from srlib.cli import main

    torch.manual_seed(0)
    torch.save(build_model("rrdbnet_small").state_dict(), tmp_path / "g.pth")
    write_image(tmp_path / "a.png", (np.random.default_rng(0).random((24, 20, 3)) * 255).astype(np.uint8))
    args = ["upscale", "-i", str(tmp_path / "a.png"), "--model", str(tmp_path / "g.pth")]
    assert main(args + ["-o", str(tmp_path / "half.png")]) == 0
    assert "on cuda (float16)" in capsys.readouterr().out
    assert main(args + ["-o", str(tmp_path / "full.png"), "--precision", "fp32", "--device", "cuda"]) == 0
    assert "on cuda (float32)" in capsys.readouterr().out
