"""Writing a file so that it is either the old one or the whole new one: a temporary file beside it,
flushed to disk, then renamed over it. Used for images and checkpoints alike.

Ctrl-C waits while a file is being written: interrupting ``torch.save`` midway surfaces as a RuntimeError from
deep inside its zip writer (not as an interrupt) and leaves the temporary file behind; held back until the
rename, it ends the program a moment later with the new file whole.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


def replace_atomically(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, fsync it and rename it over ``path``; the file gets
    the permissions of any new file (the user's umask), not the temporary file's private ones."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with ctrl_c_deferred():
        return _replace(path, write)


def _replace(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            try:
                write(f)
            except RuntimeError as err:  # torch.save reports a failed write (a full disk) as a RuntimeError
                cause = err.__cause__ or err.__context__
                if isinstance(cause, OSError):
                    raise OSError(cause.errno, f"cannot write {path}: {cause.strerror or cause}") from err
                raise
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """Run the block with Ctrl-C (SIGINT) held back, then raise the KeyboardInterrupt it would have raised.
    Only the main thread can set signal handlers; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        yield  # no handler can be set here, or Ctrl-C is ignored anyway (a background job): nothing to hold back
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
    if caught:
        raise KeyboardInterrupt
