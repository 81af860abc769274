"""The course's committed checkpoints (weights/, made by `make weights`): they load, they are the preset they
say, and they beat bicubic on a held-out photo."""

import json

import torch

from srlib.data import imresize, make_lr, modcrop, read_image, sample_split
from srlib.evaluation import protocol_for, psnr
from srlib.inference import upscale
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
