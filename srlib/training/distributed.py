"""Several training processes: the process group inside the training loop, and ``launch`` outside it.
Taught in notebook 05.

``launch(config, nproc_per_node=2)`` starts ``python -m torch.distributed.run --standalone`` on
``python -m srlib train`` as a subprocess, streams its output (rank 0's progress bar included) into
the notebook or terminal, and returns the run directory. Each process reads ``RANK``, ``LOCAL_RANK``
and ``WORLD_SIZE`` from the environment torchrun gives it. Backend: NCCL on CUDA, gloo on the CPU.

A rank that dies ends the run: torchrun stops the other ranks when one exits with an error, the
process group's timeout bounds any collective left waiting, and ``launch`` raises
:class:`TrainingFailed` with the tail of the log.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist

from ..paths import REPO_ROOT, repo_path
from .config import TrainConfig


class TrainingFailed(RuntimeError):
    """A launched training run exited with an error or ran past its time limit."""


@dataclass(frozen=True)
class ProcessGroup:
    """This process's place among the training processes (rank 0 of 1 when run alone)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """The average of ``values`` over all processes (itself when alone)."""
        if self.distributed:
            values = values.clone()
            dist.all_reduce(values)
            values /= self.world_size
        return values

    def gather(self, obj) -> list:
        """``obj`` from every process, in rank order."""
        if not self.distributed:
            return [obj]
        out = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out


def process_from_env() -> ProcessGroup:
    """This process's rank, local rank and world size, as torchrun sets them (0, 0, 1 when absent)."""
    return ProcessGroup(int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)),
                        int(os.environ.get("WORLD_SIZE", 1)))


def join_process_group(group: ProcessGroup, device: torch.device, timeout_s: int) -> None:
    """With more than one process, join the process group (NCCL on CUDA, gloo on the CPU); a
    collective that waits longer than ``timeout_s`` fails instead of hanging."""
    if group.distributed and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s),
                                device_id=device if device.type == "cuda" else None)


def leave_process_group(wait_for_all: bool = False) -> None:
    """Destroy the process group (if any). ``wait_for_all`` first waits at a barrier, for the end of a run: a
    rank that tears gloo down while rank 0 still saves can die in its exit handlers (SIGABRT, "terminate called
    without an active exception") and turn a finished run into a failed one."""
    if dist.is_initialized():
        if wait_for_all:
            dist.barrier()
        dist.destroy_process_group()


def torchrun_command(config_file: Path, nproc_per_node: int) -> list[str]:
    """The command that runs ``srlib train`` on ``config_file`` in ``nproc_per_node`` processes."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc_per_node}",
            "-m", "srlib", "train", "--config", str(config_file)]


ECHO_INTERVAL_S = 3.0  # how often streamed output is passed on (a notebook keeps every write as an output)


def collapse_progress(text: str) -> str:
    """Keep only the latest state of each progress bar line: within a line, text before the last
    carriage return is an overwritten update."""
    lines = text.split("\n")
    kept = []
    for line in lines:
        updates = [u for u in line.split("\r") if u]
        kept.append(("\r" + updates[-1] if "\r" in line else updates[-1]) if updates else "")
    return "\n".join(kept)


def launch(config: TrainConfig, nproc_per_node: int = 2, *, timeout_s: float | None = None,
           env: dict[str, str] | None = None, echo: bool = True) -> Path:
    """Train ``config`` in ``nproc_per_node`` processes under torchrun; returns the run directory.

    Output is streamed as it arrives (``echo``) and kept in ``launch.log`` in the run directory. On
    the CPU each process gets ``config.threads`` threads (default: the cores shared out). A non-zero
    exit, or a run longer than ``timeout_s``, raises :class:`TrainingFailed`.
    """
    run_dir = repo_path(config.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    config_file = run_dir / "launch_config.json"  # the children read the run from a file, not from --set
    config_file.write_text(config.to_json())
    log_path = run_dir / "launch.log"
    # a session of its own: on a timeout the whole group (torchrun and every rank) is stopped at once
    with subprocess.Popen(torchrun_command(config_file, nproc_per_node), cwd=REPO_ROOT,
                          env=_child_environment(config, nproc_per_node, env), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, start_new_session=True) as proc:
        finished = _pump_output(proc, log_path, echo, timeout_s)
    if not finished:
        raise TrainingFailed(f"training ran past {timeout_s:.0f} s and was stopped; log: {log_path}")
    if proc.returncode != 0:
        raise TrainingFailed(f"training failed (torchrun exit code {proc.returncode}): "
                             f"{_first_error(log_path.read_text(errors='replace'))}; full log: {log_path}")
    return run_dir


def _child_environment(config: TrainConfig, nproc_per_node: int, extra: dict[str, str] | None) -> dict[str, str]:
    """What every rank runs with: its share of the CPU threads (ranks would otherwise each take every core and
    slow one another down), unbuffered output (lines arrive as they are printed) and this checkout importable."""
    threads = config.threads or max(1, (os.cpu_count() or 1) // nproc_per_node)
    child_env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONUNBUFFERED": "1", **(extra or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), child_env.get("PYTHONPATH")]))
    return child_env


def _pump_output(proc: subprocess.Popen, log_path: Path, echo: bool, timeout_s: float | None) -> bool:
    """Copy ``proc``'s output into ``log_path`` as it comes (and to stdout every few seconds when ``echo``) until
    it exits; returns False, with the process group killed, if it runs past ``timeout_s``."""
    assert proc.stdout is not None  # stdout=PIPE
    # non-blocking reads: a rank that hangs silently must not stop the timeout from being checked
    os.set_blocking(proc.stdout.fileno(), False)
    start, pending, last_echo = time.monotonic(), b"", 0.0
    with open(log_path, "wb") as log:
        while True:
            chunk = proc.stdout.read()
            if chunk:
                log.write(chunk)
                log.flush()
                pending += chunk
            finished = proc.poll() is not None and not chunk
            if echo and pending and (finished or time.monotonic() - last_echo > ECHO_INTERVAL_S):
                sys.stdout.write(collapse_progress(pending.decode(errors="replace")))
                sys.stdout.flush()
                pending, last_echo = b"", time.monotonic()
            if finished:
                return True
            if timeout_s is not None and time.monotonic() - start > timeout_s:
                os.killpg(proc.pid, signal.SIGKILL)  # torchrun and its ranks alike (one session)
                proc.wait()
                return False
            if not chunk:
                time.sleep(0.1)


# a traceback's last line, or the one-line error of the `srlib` command
_ERROR_LINE = re.compile(r"^(?:\[rank(\d+)\]: )?((?:\w+\.)*\w*(?:Error|Exception)\w*: .*|srlib [\w-]+: error: .*)$")
_ROOT_CAUSE = re.compile(r"Root Cause.*?rank\s*: (\d+).*?exitcode\s*: (-?\d+)[^\n]*?(\(SIG\w+\))?\s*\n", re.S)


def _first_error(log: str) -> str:
    """Which rank failed first (torchrun's root cause) and the first exception a rank printed."""
    found = []
    root = _ROOT_CAUSE.search(log)
    if root:
        found.append(f"rank {root[1]} exited first, with code {root[2]}" + (f" {root[3]}" if root[3] else ""))
    for line in log.replace("\r", "\n").splitlines():
        match = _ERROR_LINE.match(line.strip())
        if match and "ChildFailedError" not in match[2]:
            found.append(f"rank {match[1]}: {match[2]}" if match[1] else match[2])
            break
    return "; ".join(found) or "no error message in the log"
