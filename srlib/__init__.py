"""srlib: the code behind the ESRGAN-Pro course, one subpackage per stage of the pipeline it teaches.

- ``srlib.data``: images, MATLAB bicubic, LR images, splits, sub-images, augmentation (notebook 01)
- ``srlib.models``: the generators and the discriminator (notebook 02)
- ``srlib.losses``: pixel, structural, perceptual and adversarial losses, Eq. 1 (notebooks 03 and 05)
- ``srlib.training``: configs and presets, the loop, checkpoints, several processes (notebooks 04 and 05)
- ``srlib.inference``: upscaling whole images, back-projection (notebooks 02 and 06)
- ``srlib.evaluation``: PSNR / SSIM / MS-SSIM / RMSE, NIQE, Ma / PI, baselines (notebook 07)
- ``srlib.notebook``: the notebooks' setup, figures, widgets and the course runner

The ``srlib`` command (:mod:`srlib.cli`) runs each stage from a shell.

Imports only point down these layers (``tests/test_project.py`` checks it), so each chapter's code can be read
knowing only the chapters before it:

    paths, atomic, hardware, safe_load < data < evaluation < models < losses < training < inference < notebook < cli
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``srlib.load_pretrained`` without importing torch for ``import srlib`` alone (the command stays fast)."""
    if name == "load_pretrained":
        from .models.released import load_pretrained

        return load_pretrained
    raise AttributeError(f"module 'srlib' has no attribute {name!r}")
