"""Where the course keeps its files: the files the package reads (inside it, so that an installed wheel has
them too) and the folder that relative run and data paths start from."""

from importlib.resources import files
from pathlib import Path


def _project_root() -> Path:
    """The checkout srlib runs from (notebooks and configs give paths relative to it); when srlib is installed
    outside a checkout, the working directory."""
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "pyproject.toml").is_file() and (checkout / "notebooks").is_dir() else Path.cwd()


REPO_ROOT = _project_root()
# Installed packages are unpacked on disk (wheels and editable installs alike), so the resources are a real
# folder that OpenCV can read files from.
RESOURCES = Path(str(files("srlib.resources")))
SAMPLE_DIR = RESOURCES / "samples"
