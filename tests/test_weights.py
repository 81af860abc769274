"""The course's committed checkpoints (weights/, made by `make weights`): they load, they are the preset they
say, and they beat bicubic on a held-out photo."""

import json

import pytest
import torch

import srlib.models.released
from srlib.data import imresize, make_lr, modcrop, read_image, sample_split
from srlib.evaluation import protocol_for, psnr
from srlib.evaluation.metrics import pirm_niqe
from srlib.inference import upscale
from srlib.inference.files import load_generator
from srlib.models import CheckpointError, load_pretrained
from srlib.paths import REPO_ROOT
from srlib.training import TrainConfig, preset, trained_generator

RUN = REPO_ROOT / "weights" / "course-psnr"


def test_the_committed_psnr_model_is_the_course_preset_and_beats_bicubic():
    torch.set_num_threads(1)
    config = TrainConfig.from_json((RUN / "config.json").read_text())
    assert config == preset("course", "psnr", run_dir="weights/course-psnr")
    assert json.loads((RUN / "log.jsonl").read_text().splitlines()[-1])["iteration"] == config.iterations
    model = trained_generator(RUN)
    hr = modcrop(read_image(sample_split()["test"][0]), 4)  # never seen in training
    lr = make_lr(hr, 4)
    protocol = protocol_for(4)
    assert psnr(upscale(model, lr, 4), hr, protocol) > psnr(imresize(lr, 4), hr, protocol) + 0.5


def test_the_committed_gan_model_is_its_preset_and_more_natural_than_the_psnr_model():
    torch.set_num_threads(1)
    run = REPO_ROOT / "weights" / "course-gan"
    config = TrainConfig.from_json((run / "config.json").read_text())
    assert config == preset("course", "gan", run_dir="weights/course-gan", init_from="weights/course-psnr")
    assert json.loads((run / "log.jsonl").read_text().splitlines()[-1])["iteration"] == config.iterations
    hr = modcrop(read_image(sample_split()["test"][0]), 4)  # never seen in training
    lr = make_lr(hr, 4)
    psnr_model, gan_model = load_pretrained("course-psnr"), load_pretrained("course-gan")
    assert pirm_niqe(upscale(gan_model, lr, 4), 4) < pirm_niqe(upscale(psnr_model, lr, 4), 4) - 0.2


def test_the_course_networks_load_by_name_and_a_missing_one_is_named(monkeypatch, tmp_path):
    network, scale, description = load_generator("course-psnr")
    assert scale == 4 and "course-psnr" in description
    monkeypatch.setattr(srlib.models.released, "REPO_ROOT", tmp_path)
    with pytest.raises(CheckpointError, match="make weights"):
        load_pretrained("course-gan")
