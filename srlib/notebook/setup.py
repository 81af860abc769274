"""What every notebook does first, and the trained models notebooks 06 and 07 build on."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib_inline.backend_inline import set_matplotlib_formats

from ..paths import REPO_ROOT
from ..training import GENERATOR, launch, preset, train


def setup(threads: int = 2) -> None:
    """PNG figures at 80 dpi (lossless, so compression never sits on compared detail; 80 dpi keeps a
    notebook small enough for GitHub) and torch on ``threads`` CPU threads."""
    set_matplotlib_formats("png")
    plt.rcParams["figure.dpi"] = 80
    torch.set_num_threads(threads)


NOTEBOOK_RUNS = ("runs/04_psnr_pretraining", "runs/05_gan_finetuning")  # where notebooks 04 and 05 train


def ensure_course_runs(psnr_run: str, gan_run: str, seed: int = 0) -> None:
    """Make sure both models exist. Notebook 04's PSNR model and notebook 05's GAN model are trained here
    with those notebooks' default settings when their folders (:data:`NOTEBOOK_RUNS`) are empty, so a later
    notebook can run on its own; any other folder, such as the committed ``weights/course-*``, must
    already hold a trained generator."""
    for run, own in zip((psnr_run, gan_run), NOTEBOOK_RUNS, strict=True):
        if run != own and not (REPO_ROOT / run / GENERATOR).exists():
            raise FileNotFoundError(f"{run} holds no {GENERATOR}: `make weights` trains the course's models into "
                                    f"weights/, or pass {own!r} to use notebooks 04 and 05's")
    common = dict(model_args={"num_block": 3}, seed=seed)
    if not (REPO_ROOT / psnr_run / GENERATOR).exists():
        train(preset("quick", "psnr", run_dir=psnr_run, **common))
    if not (REPO_ROOT / gan_run / GENERATOR).exists():
        launch(preset("quick", "gan", run_dir=gan_run, init_from=psnr_run, batch_size=4, **common), nproc_per_node=2)
