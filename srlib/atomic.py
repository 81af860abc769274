"""Writing a file so that it is either the old one or the whole new one: a temporary file beside it,
flushed to disk, then renamed over it. Used for images and checkpoints alike."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def replace_atomically(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, fsync it and rename it over ``path``; the file gets
    the permissions of any new file (the user's umask), not the temporary file's private ones."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
