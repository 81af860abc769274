"""Training, taught in notebooks 04 and 05: the run's configuration and presets, the loop for both
stages, checkpoints, logs and several processes under torchrun."""

from ..models.trained import GENERATOR, trained_generator  # what a run leaves, read back (notebooks 04-07)
from .checkpoint import CHECKPOINT, load_checkpoint, save_atomic
from .config import PRESETS, STAGES, TrainConfig, preset
from .distributed import TrainingFailed, launch
from .log import read_log, training_minutes
from .loop import train
from .validation import image_files

__all__ = [
    "CHECKPOINT", "GENERATOR", "load_checkpoint", "save_atomic", "trained_generator", "PRESETS", "STAGES",
    "TrainConfig", "preset", "TrainingFailed", "launch", "read_log", "training_minutes", "train", "image_files",
]
