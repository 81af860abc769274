import numpy as np
import pytest
import torch

from srlib.data import read_image
from srlib.paths import SAMPLE_DIR

torch.set_num_threads(1)  # two threads on a loaded 2-core machine can be many times slower


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real RGB uint8 photo crop (odd size on purpose): 97 x 123."""
    return read_image(SAMPLE_DIR / "coffee.png")[100:197, 200:323].copy()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
