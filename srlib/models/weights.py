"""Loading generator weights: our own checkpoints and the official ESRGAN / BasicSR files.

Three RRDBNet key layouts are recognised and converted to ours (which is BasicSR's):
- BasicSR / Real-ESRGAN: ``conv_first``, ``body.N.rdb1.conv1``, ... possibly under ``params`` or
  ``params_ema`` (the EMA weights are preferred);
- ESRGAN (2020 repository): ``conv_first``, ``RRDB_trunk.N.RDB1.conv1``, ``trunk_conv``,
  ``upconv1``, ``upconv2``, ``HRconv``, ``conv_last``;
- ESRGAN (original release, ``RRDB_ESRGAN_x4.pth``): ``model.0``, ``model.1.sub.N.RDB1.conv1.0``,
  ``model.1.sub.23``, ``model.3``, ``model.6``, ``model.8``, ``model.10``.
Files are always read with ``torch.load(weights_only=True)``: no pickled code runs.

Taught in notebook 02.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from ..safe_load import CheckpointError, safe_load
from .rrdbnet import RRDBNet

__all__ = ["CheckpointError", "safe_load", "read_state_dict", "read_weights", "load_weights", "to_rrdbnet_layout"]


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint file (unwrapping ``params_ema`` / ``params`` / ``state_dict`` / ``generator``)."""
    return read_weights(path)[0]


def read_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """The tensors of a weights file and what it records beside them: the ``generator.pt`` of a course run
    says its ``model``, ``model_args`` and ``scale``; other files record nothing (an empty dict)."""
    path = Path(path)
    state = safe_load(path)
    record = {k: state[k] for k in ("model", "model_args", "scale") if isinstance(state, dict) and k in state}
    for key in ("params_ema", "params", "state_dict", "generator"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a state dict of tensors")
    return state, record


_ESRGAN_2020 = [
    (r"^RRDB_trunk\.(\d+)\.RDB(\d)\.", lambda m: f"body.{m[1]}.rdb{m[2]}."),
    (r"^trunk_conv\.", lambda m: "conv_body."),
    (r"^upconv(\d)\.", lambda m: f"conv_up{m[1]}."),
    (r"^HRconv\.", lambda m: "conv_hr."),
]
_ESRGAN_ORIGINAL = [
    (r"^model\.0\.", lambda m: "conv_first."),
    (r"^model\.1\.sub\.(\d+)\.RDB(\d)\.(conv\d)\.0\.", lambda m: f"body.{m[1]}.rdb{m[2]}.{m[3]}."),
    (r"^model\.1\.sub\.\d+\.", lambda m: "conv_body."),  # the conv after the last RRDB
    (r"^model\.3\.", lambda m: "conv_up1."),
    (r"^model\.6\.", lambda m: "conv_up2."),
    (r"^model\.8\.", lambda m: "conv_hr."),
    (r"^model\.10\.", lambda m: "conv_last."),
]


def _rename(state: dict[str, torch.Tensor], rules) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        for pattern, repl in rules:
            match = re.match(pattern, key)
            if match:
                key = repl(match) + key[match.end():]
                break
        out[key] = value
    return out


def to_rrdbnet_layout(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], str]:
    """Convert an RRDBNet state dict of any known layout to ours; returns it and the layout's name."""
    if any(k.startswith("model.1.sub.") for k in state):
        return _rename(state, _ESRGAN_ORIGINAL), "ESRGAN (original release)"
    if any(k.startswith("RRDB_trunk.") for k in state):
        return _rename(state, _ESRGAN_2020), "ESRGAN (2020)"
    return dict(state), "BasicSR"


def load_weights(model: nn.Module, source: str | Path | dict[str, torch.Tensor]) -> str:
    """Load ``source`` (a file or a state dict) into ``model`` strictly; returns the layout found.

    Anything that does not fit raises ``CheckpointError`` listing missing and unexpected keys and
    shape mismatches.
    """
    state = read_state_dict(source) if isinstance(source, (str, Path)) else source
    layout = "srlib"
    if isinstance(model, RRDBNet):
        state, layout = to_rrdbnet_layout(state)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or mismatched:
        def listing(keys):
            return ", ".join(keys[:8]) + (f" ... ({len(keys)} in all)" if len(keys) > 8 else "") or "none"
        raise CheckpointError(
            f"weights ({layout} layout) do not fit {type(model).__name__}: missing {listing(missing)}; "
            f"unexpected {listing(unexpected)}; shape mismatch {listing(mismatched)}"
        )
    model.load_state_dict(state)
    return layout
