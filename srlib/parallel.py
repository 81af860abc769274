"""One helper: map a function over items in worker processes, with a progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

import torch
from tqdm.auto import tqdm

T = TypeVar("T")
R = TypeVar("R")


def _single_thread() -> None:
    torch.set_num_threads(1)  # one thread per worker process: the workers are the parallelism


def progress_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int, desc: str, progress: bool = True) -> list[R]:
    """``[fn(x) for x in items]`` in ``workers`` processes (in this process if ``workers <= 1``)."""
    items = list(items)
    with tqdm(total=len(items), desc=desc, disable=not progress) as bar:
        if workers <= 1:
            results = []
            for item in items:
                results.append(fn(item))
                bar.update()
            return results
        with ProcessPoolExecutor(workers, initializer=_single_thread) as pool:
            results = []
            for result in pool.map(fn, items):
                results.append(result)
                bar.update()
            return results
