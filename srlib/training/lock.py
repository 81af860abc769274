"""One run per run directory: a second training started in a folder that a run is using stops at once,
naming the process that holds it, instead of interleaving its logs and overwriting the checkpoint.

Taught in notebook 04.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path


class RunDirectoryBusy(OSError):
    """Another process is training in this run directory."""


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold ``run_dir/.lock`` while the block runs. The kernel drops the lock when its holder dies, kill -9
    included, so a lock left by a crashed run is simply taken over."""
    with open(run_dir / ".lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise RunDirectoryBusy(f"{run_dir} is in use by {holder}: wait for that run to end, "
                                   "or give this one another run_dir") from None
        f.seek(0)
        f.truncate()
        f.write(f"process {os.getpid()} on {socket.gethostname()}")
        f.flush()
        yield
