"""One helper: map a function over items in worker processes, with a progress bar.

Taught in notebook 01.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from typing import TypeVar

import torch
from tqdm.auto import tqdm

T = TypeVar("T")
R = TypeVar("R")


def _single_thread() -> None:
    torch.set_num_threads(1)  # one thread per worker process: the workers are the parallelism


def progress_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int, desc: str,
                 progress: bool = True) -> list[R]:
    """``[fn(x) for x in items]`` in ``workers`` processes (in this process if ``workers <= 1``)."""
    items = list(items)
    pool = ProcessPoolExecutor(workers, initializer=_single_thread) if workers > 1 else nullcontext()
    with pool, tqdm(total=len(items), desc=desc, disable=not progress) as bar:
        results = []
        for result in (pool.map(fn, items) if isinstance(pool, ProcessPoolExecutor) else map(fn, items)):
            results.append(result)
            bar.update()
        return results
