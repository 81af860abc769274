"""What this machine computes fast, decided at run time (machines change from one day to the next).

A CPU with AVX512-BF16 or AMX multiplies bf16 matrices about twice as fast as fp32; one without
emulates bf16 and runs it tens of times slower. So bf16 on the CPU is worth asking for only where
:func:`native_cpu_bf16` says so, and ``make bench`` measures what it gains on this machine.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

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
