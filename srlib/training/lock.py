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
    """Hold a lock on ``run_dir`` while the block runs. The lock is the kernel's, on the folder itself: it cannot
    be deleted away (a lock file can, and a second run would then lock a new file), and the kernel drops it
    when its holder dies, kill -9 included, so a lock left by a crashed run is simply taken over.
    ``run_dir/.lock`` only names the holder, for the message a second run gets."""
    folder = os.open(run_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirectoryBusy(f"{run_dir} is in use by {_holder(run_dir)}: wait for that run to end, "
                                   "or give this one another run_dir") from None
        (run_dir / ".lock").write_text(f"process {os.getpid()} on {socket.gethostname()}")
        yield
    finally:
        os.close(folder)  # closing the descriptor releases the lock


def _holder(run_dir: Path) -> str:
    try:
        return (run_dir / ".lock").read_text().strip() or "another process"
    except OSError:  # the name file was deleted: the lock holds all the same
        return "another process"
