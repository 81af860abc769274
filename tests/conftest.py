import numpy as np
import pytest
import torch

from srlib.data import read_image, write_image
from srlib.paths import SAMPLE_DIR

torch.set_num_threads(1)  # two threads on a loaded 2-core machine can be many times slower


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A real RGB uint8 photo crop (odd size on purpose): 97 x 123."""
    return read_image(SAMPLE_DIR / "coffee.png")[100:197, 200:323].copy()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """Six 64x64 training crops and two 48x48 validation crops of the bundled photos."""
    root = tmp_path_factory.mktemp("data")
    for split, names, size in (("train", ["coffee", "chelsea", "astronaut"], 64), ("val", ["camera"], 48)):
        (root / split).mkdir()
        for name in names:
            image = read_image(SAMPLE_DIR / f"{name}.png")
            for k, (top, left) in enumerate([(40, 60), (150, 200)]):
                crop = image[top:top + size, left:left + size]
                write_image(root / split / f"{name}_{k}.png", crop if crop.ndim == 3 else crop[..., None].repeat(3, 2))
    return root
