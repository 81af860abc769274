"""The tiny training run the tests share: a one-block RRDBNet on crops of the bundled photos (``tiny_data``,
a fixture in conftest), a few iterations, on one thread."""

from pathlib import Path

from srlib.training import TrainConfig


def tiny_config(data: Path, run_dir: Path, stage: str = "psnr", **overrides) -> TrainConfig:
    """A config that trains in about a second: ``overrides`` change any field."""
    values = dict(stage=stage, run_dir=str(run_dir), model="rrdbnet_small",
                  model_args={"num_feat": 8, "num_block": 1, "num_grow_ch": 8}, patch_size=32, batch_size=4,
                  train_dir=str(data / "train"), val_dir=str(data / "val"), dataset_repeat=2, iterations=4,
                  val_every=2, log_every=1, checkpoint_every=2, threads=1, d_num_feat=8, perceptual="none")
    return TrainConfig(**(values | overrides))
