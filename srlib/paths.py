"""Where the course keeps its files: the repository's ``data/`` folder (override: SRLIB_DATA)."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SRLIB_DATA", REPO_ROOT / "data"))
SAMPLE_DIR = DATA_DIR / "samples"
