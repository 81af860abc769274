"""Training checkpoints: written atomically, read back with ``weights_only=True``. Taught in notebook 04.

A run directory holds ``checkpoint.pt`` (everything needed to resume) and ``generator.pt`` (the
generator's raw and EMA weights in BasicSR's ``params`` / ``params_ema`` layout).

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts (no pickled objects), so
``torch.load(weights_only=True)`` can read it. It is first written to a temporary file in the same
folder, flushed to disk, then renamed over the old one: a run killed while saving leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import dataclasses
import random
import typing
from pathlib import Path

import numpy as np
import torch

from ..atomic import replace_atomically
from ..models.weights import CheckpointError, safe_load
from .config import TrainConfig

CHECKPOINT = "checkpoint.pt"
# fields that may differ between a checkpoint's run and the run that resumes it
RESUMABLE_CHANGES = {"iterations", "run_dir", "val_every", "log_every", "checkpoint_every", "num_workers", "device",
                     "threads", "ddp_timeout_s", "val_tile", "train_dir", "train_lr_dir", "val_dir", "val_lr_dir",
                     "generator_file"}


def save_atomic(obj: dict, path: str | Path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, fsync, then rename over ``path``."""
    return replace_atomically(path, lambda f: torch.save(obj, f))


def load_checkpoint(path: str | Path, required: tuple[str, ...] = ()) -> dict:
    """Read a checkpoint saved by :func:`save_atomic`; a missing or truncated file, or one that lacks
    any of the ``required`` keys, raises :class:`CheckpointError` naming the file and the problem."""
    path = Path(path)
    state = safe_load(path)
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} is not a training checkpoint (holds a {type(state).__name__})")
    missing = [key for key in required if key not in state]
    if missing:
        raise CheckpointError(f"{path} is not a training checkpoint of this kind: it lacks {', '.join(missing)}")
    return state


def rng_states() -> dict:
    """The state of every random generator a training step may draw from (torch CPU and CUDA,
    numpy's and Python's global generators), in a ``weights_only``-loadable form."""
    np_state = typing.cast(tuple, np.random.get_state(legacy=True))  # (name, keys, pos, has_gauss, cached_gauss)
    version, internal, gauss = random.getstate()
    states: dict[str, object] = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gauss": float(np_state[4])},
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    """Restore what :func:`rng_states` returned."""
    torch.set_rng_state(states["torch"])
    n = states["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gauss"]))
    p = states["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss"]))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def check_resumable(saved: TrainConfig, config: TrainConfig, world_size: int, saved_world: int, path: Path) -> None:
    """Refuse to resume a checkpoint written with other settings (a silently mixed run), naming the fields."""
    differ = [f.name for f in dataclasses.fields(TrainConfig)
              if f.name not in RESUMABLE_CHANGES and getattr(saved, f.name) != getattr(config, f.name)]
    if world_size != saved_world:
        differ.append(f"world size ({saved_world} -> {world_size})")
    if differ:
        raise CheckpointError(f"{path} was written by a different run: {', '.join(differ)} differ; "
                              "use another run_dir or the same settings")
