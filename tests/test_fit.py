import math

import pytest
import torch

from srlib.baseline import evaluate_upscaler
from srlib.dataset import PairedImageDataset
from srlib.fit import fit
from srlib.inference import upscale
from srlib.losses import l1_loss
from srlib.models import build_model
from srlib.samples import sample_split


@pytest.fixture(scope="module")
def train_set():
    return PairedImageDataset(sample_split()["train"], 4, 64, seed=0)


def test_training_lowers_the_loss_and_is_reproducible(train_set):
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = build_model("edsr_small", num_block=1)
        runs.append(fit(model, l1_loss, train_set, 30, batch_size=4, lr=1e-3, seed=3, progress=False))
    assert runs[0] == runs[1]
    assert sum(runs[0][-5:]) / 5 < sum(runs[0][:5]) / 5


def test_a_diverging_loss_stops_with_the_iteration_named(train_set):
    model = build_model("edsr_small", num_block=1)
    with pytest.raises(FloatingPointError, match="at iteration 1"):
        fit(model, lambda sr, hr: (sr - hr).abs().mean() * math.inf, train_set, 5, progress=False)


def test_evaluate_upscaler_scores_a_model():
    model = build_model("bicubic", scale=4)
    table = evaluate_upscaler(lambda lr: upscale(model, lr, 4), sample_split()["test"], 4)
    assert [r["image"] for r in table.rows] == [p.stem for p in sample_split()["test"]]
    assert 20 < table.mean["psnr"] < 40
