"""The machine a run is on, decided at run time (machines change from one day to the next): which device,
which precision, how much memory.

A CPU with AVX512-BF16 or AMX multiplies bf16 matrices about twice as fast as fp32; one without
emulates bf16 and runs it tens of times slower. So bf16 on the CPU is worth asking for only where
:func:`native_cpu_bf16` says so, and ``make bench`` measures what it gains on this machine.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo names of native bf16 arithmetic


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux ``/proc/cpuinfo``; empty where there is no such file)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


def native_cpu_bf16() -> bool:
    """Whether the CPU does bf16 arithmetic in hardware (AVX512-BF16 or AMX)."""
    return any(flag in cpu_flags() for flag in BF16_FLAGS)


def pick_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto`` is CUDA when there is a GPU, else the CPU. ``cuda`` is the GPU of this process's local rank (one
    GPU per process under torchrun; 0 alone), ``cuda:N`` GPU N; asking for CUDA without one is an error."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name != "cpu" and not name.startswith("cuda"):
        raise ValueError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N")
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(f"device {name}: no CUDA device on this machine (use cpu or auto)")
    device = torch.device("cuda", local_rank) if name == "cuda" else torch.device(name)
    torch.cuda.set_device(device)
    return device


def precision_dtype(precision: str, device: torch.device | str, training: bool = False) -> torch.dtype:
    """The dtype a network computes in for ``precision`` (one of :data:`PRECISIONS`) on ``device``.

    ``auto`` differs between the two uses, on purpose:
    - training (autocast): bf16 on CUDA and on a CPU with native bf16, fp32 elsewhere. bf16 keeps fp32's range,
      so gradients need no loss scaling; emulated bf16 would be tens of times slower.
    - inference: fp16 on CUDA (no gradients to underflow, and the fastest kind there) and fp32 on the CPU, so that
      a CPU user's output is exact; bf16 on the CPU only when asked for (``make bench`` says what it gains).
    fp16 is for CUDA only."""
    device = torch.device(device)
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("fp16 is for CUDA only; on the CPU use bf16 (fast where the CPU has native bf16) or fp32")
    if precision == "auto" and training:
        precision = "bf16" if device.type == "cuda" or native_cpu_bf16() else "fp32"
    elif precision == "auto":
        precision = "fp16" if device.type == "cuda" else "fp32"
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def available_memory() -> int | None:
    """Bytes of memory the system can give a process now without swapping (Linux ``MemAvailable``); None
    where the system does not say."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def describe() -> str:
    """One line for logs and benchmarks: torch's CPU capability, native bf16 or not, threads, GPU."""
    found = [flag for flag in BF16_FLAGS if flag in cpu_flags()]
    bf16 = f"native bf16 ({', '.join(found)})" if found else "no native bf16 (bf16 would be emulated, slow)"
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no CUDA device"
    return (f"CPU capability {torch.backends.cpu.get_cpu_capability()}, {bf16}, "
            f"{torch.get_num_threads()} torch threads; {gpu}")
