"""Where the course keeps its files: the files the package reads (inside it, so that an installed wheel has
them too) and the folder that relative run and data paths start from."""

import os
from importlib.resources import files
from pathlib import Path
from typing import overload


def _project_root() -> Path:
    """The checkout srlib runs from (notebooks and configs give paths relative to it); when srlib is installed
    outside a checkout, the working directory."""
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "pyproject.toml").is_file() and (checkout / "notebooks").is_dir() else Path.cwd()


REPO_ROOT = _project_root()
# network outputs the notebooks share within one `make course` (srlib.inference.cached_upscaler): keyed by the
# weights and the image, so a changed network is never served an old output; `make clean` empties it
SR_CACHE = REPO_ROOT / "runs" / "sr-cache"


def shown(path: Path) -> str:
    """``path`` as printed for a reader: relative to the repository when inside it (no machine paths in
    committed notebooks), as given otherwise."""
    path = Path(path)
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


@overload
def repo_path(path: None) -> None: ...
@overload
def repo_path(path: str | Path) -> Path: ...
def repo_path(path: str | Path | None) -> Path | None:
    """A path of a config or a notebook: absolute as given, a relative one from the repository root (so a config
    means the same files from any working directory); None stays None."""
    if path is None:
        return None
    full = Path(path).expanduser()
    return full if full.is_absolute() else REPO_ROOT / full


def typed_path(path: str | Path) -> str:
    """A path typed in a shell (relative to the working directory, as the shell means it) in the form config
    paths take: relative to the repository when inside it (a config then reads the same on every machine),
    absolute otherwise."""
    full = Path(os.path.abspath(Path(path).expanduser()))  # `..` folded as the shell would, links kept
    return str(full.relative_to(REPO_ROOT)) if full.is_relative_to(REPO_ROOT) else str(full)


# where `srlib prepare` and `srlib download` put the real datasets and the presets read them (relative to
# REPO_ROOT unless absolute)
DATASETS = os.environ.get("SRLIB_DATASETS", "datasets")
DATASET_ROOT = Path(DATASETS) if Path(DATASETS).is_absolute() else REPO_ROOT / DATASETS
# Installed packages are unpacked on disk (wheels and editable installs alike), so the resources are a real
# folder that OpenCV can read files from.
RESOURCES = Path(str(files("srlib.resources")))
SAMPLE_DIR = RESOURCES / "samples"
