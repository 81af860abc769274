"""What changes with the iteration: the learning rate, the order of the batches and the averaged
(EMA) generator. Each is a pure function of the iteration and the seed, which is what makes a
resumed run identical to one that never stopped. Taught in notebook 04."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import torch
from torch import nn
from torch.utils.data import DistributedSampler

from .distributed import ProcessGroup


def scheduled_learning_rate(base: float, milestones: tuple[int, ...], gamma: float, iteration: int) -> float:
    """The step schedule: ``base * gamma**k`` after ``k`` milestones (a pure function of the iteration)."""
    return base * gamma ** sum(iteration >= m for m in milestones)


def batches_per_epoch(num_samples: int, batch_size: int, world_size: int) -> int:
    """Whole global batches in one pass over the data (the remainder is dropped, as BasicSR does)."""
    per_epoch = num_samples // (batch_size * world_size)
    if per_epoch == 0:
        raise ValueError(f"{num_samples} training samples are fewer than one global batch "
                         f"({batch_size} x {world_size} processes); raise dataset_repeat")
    return per_epoch


def batch_schedule(num_samples: int, batch_size: int, group: ProcessGroup, seed: int,
                   start_iteration: int) -> Iterator[list[tuple[int, int]]]:
    """This process's batches of ``(epoch, index)`` from ``start_iteration`` on, forever.

    Epoch ``e`` is a DistributedSampler permutation seeded with ``seed + e``; a global batch is
    ``batch_size x world_size`` consecutive samples of it, dealt round-robin to the processes.
    """
    per_epoch = batches_per_epoch(num_samples, batch_size, group.world_size)
    epoch, first = divmod(start_iteration, per_epoch)
    while True:
        # the sampler only needs len() of what it samples: the indices stand in for a dataset
        sampler: DistributedSampler = DistributedSampler(range(num_samples),  # type: ignore[arg-type]
                                                         num_replicas=group.world_size, rank=group.rank,
                                                         shuffle=True, seed=seed, drop_last=True)
        sampler.set_epoch(epoch)
        mine = list(sampler)
        for b in range(first, per_epoch):
            yield [(epoch, i) for i in mine[b * batch_size:(b + 1) * batch_size]]
        epoch, first = epoch + 1, 0


class EMA:
    """Exponential moving average of a model's weights, the generator that is validated and saved.

    Averaging smooths out the last steps' noise (ESRGAN's releases are EMA weights). The decay is warmed
    up as ``(1 + n) / (10 + n)`` so that a short run is not dominated by its initial weights.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay, self.updates = decay, 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        self.updates += 1
        for mine, theirs in zip(self.model.parameters(), model.parameters(), strict=True):
            mine.lerp_(theirs, 1 - decay)
        for mine_buffer, their_buffer in zip(self.model.buffers(), model.buffers(), strict=True):
            mine_buffer.copy_(their_buffer)
