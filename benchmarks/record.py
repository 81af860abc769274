"""The JSON record each benchmark writes beside its printed text (``runs/bench/NAME.json``), with what the
machine is, so that numbers quoted in the README can be traced to the run and the hardware they came from."""

import json
from pathlib import Path

import torch

from srlib import hardware

FOLDER = Path("runs/bench")


def write_record(name: str, record: dict, folder: Path = FOLDER) -> Path:
    """Write ``record`` (plus the machine's description and torch's version) to ``folder/name.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"machine": hardware.describe(), "torch": torch.__version__, **record}, indent=2) + "\n")
    print(f"record: {path}")
    return path
