"""Reading torch files without running code: ``torch.load(weights_only=True)`` (tensors and plain containers
only), and one-line errors that say what a file that is no checkpoint really is. Checkpoints, downloaded weights
and course networks are all read here. Taught in notebook 02.
"""

from __future__ import annotations

from pathlib import Path

import torch


class CheckpointError(ValueError):
    """A weights file is missing, truncated, unreadable, or does not fit the model."""


def safe_load(path: str | Path) -> object:
    """``torch.load(path, weights_only=True)`` on the CPU: tensors and plain containers only, never code. A
    missing, truncated or foreign file raises :class:`CheckpointError` in one line that says what the file is."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, pickle with code, not a torch file at all
        raise CheckpointError(f"cannot read checkpoint {path}: {_what_it_is(path, err)}") from err


def _what_it_is(path: Path, err: Exception) -> str:
    # torch's own message runs to a dozen lines and suggests weights_only=False, which would run any code the
    # file holds: the first bytes say more about a file that is not a checkpoint
    with open(path, "rb") as f:
        head = f.read(512).lstrip()
    if head[:1] == b"<":
        return "it is an HTML or XML page, not weights (a sign-in or error page saved in their place?)"
    if "Unsupported global" in str(err) or "Weights only load failed" in str(err) and "GLOBAL" in str(err):
        return "it holds Python objects beyond tensors, which srlib does not load (they could run code)"
    if head[:2] == b"PK":
        return "truncated or damaged: a zip archive that is not a whole torch file (download it again)"
    return f"not a weights file ({str(err).strip().splitlines()[0][:200]})"
