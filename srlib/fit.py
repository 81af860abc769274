"""A short, deterministic pixel-loss training run: what the loss-function comparison needs.

Adam (beta 0.9 / 0.99, as ESRGAN), seeded shuffling and crops, one optimiser step per batch, a
progress bar with the running loss. A loss that turns NaN or infinite stops the run with the
iteration named. (Checkpoints, resume, GAN stage and DDP belong to the full trainer.)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .dataset import PairedImageDataset


def fit(model: nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        dataset: PairedImageDataset, iterations: int, *, batch_size: int = 4, lr: float = 2e-4, seed: int = 0,
        progress: bool = True, desc: str = "training") -> list[float]:
    """Train ``model`` for ``iterations`` steps on LR -> HR patches; returns the loss of every step.

    The same ``seed`` gives the same initial batches and crops whatever the model, so runs that
    differ only in the loss are comparable.
    """
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=min(batch_size, len(dataset)), shuffle=True, drop_last=True,
                        generator=generator)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99))
    model.train()
    history: list[float] = []
    with tqdm(total=iterations, desc=desc, disable=not progress) as bar:
        epoch = 0
        while len(history) < iterations:
            dataset.set_epoch(epoch)
            for batch in loader:
                loss = loss_fn(model(batch["lr"]), batch["hr"])
                if not math.isfinite(loss.item()):
                    raise FloatingPointError(f"{desc}: loss became {loss.item()} at iteration {len(history) + 1}")
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                history.append(loss.item())
                bar.update()
                bar.set_postfix(loss=f"{history[-1]:.4f}")
                if len(history) == iterations:
                    break
            epoch += 1
    return history
