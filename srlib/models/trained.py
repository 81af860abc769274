"""The network a training run saved, rebuilt from its folder: ``generator.pt`` records the architecture, its
arguments and the scale beside the weights; a run written before it did so is read through its ``config.json``.
Taught in notebook 04.
"""

from __future__ import annotations

import json
from pathlib import Path

from torch import nn

from ..paths import repo_path
from ..safe_load import CheckpointError, safe_load
from .registry import build_model
from .weights import load_weights

GENERATOR = "generator.pt"  # in a run folder: the generator's raw and EMA weights (BasicSR's params / params_ema)


def trained_generator(run_dir: str | Path, ema: bool = True) -> nn.Module:
    """The generator a run saved (its EMA weights unless ``ema=False``, or the only ones it kept), in eval mode.
    A relative ``run_dir`` starts from the repository, as config paths do."""
    run_dir = repo_path(run_dir)
    if not (run_dir / GENERATOR).is_file() and not (run_dir / "config.json").is_file():
        raise CheckpointError(f"{run_dir} is not a training run (no {GENERATOR}, no config.json)")
    state = safe_load(run_dir / GENERATOR)
    if not isinstance(state, dict):
        raise CheckpointError(f"{run_dir / GENERATOR} holds a {type(state).__name__}, not a run's weights")
    model = build_model(**_architecture(state, run_dir))
    kept = [key for key in (("params_ema", "params") if ema else ("params", "params_ema")) if key in state]
    if not kept:
        raise CheckpointError(f"{run_dir / GENERATOR} holds no generator weights (params or params_ema)")
    # an ema-fp16 file keeps the EMA weights alone, in fp16: they load into the fp32 network (load_state_dict casts)
    load_weights(model, state[kept[0]])
    return model.eval()


def _architecture(state: dict, run_dir: Path) -> dict:
    """``build_model`` arguments: the weights file's own record, else the run's config.json."""
    record = state if "model" in state else _config(run_dir)
    return {"name": record["model"], "scale": record.get("scale", 4), **record.get("model_args", {})}


def _config(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{run_dir}: its {GENERATOR} does not say its architecture and its config.json "
                              f"cannot be read ({err})") from err
