"""Resize benchmark: srlib's MATLAB-exact imresize vs the simple oracle and OpenCV, side by side.

A 2040x1356 RGB float32 image shrunk by 4, as when making DIV2K LR images; its LR size enlarged by 4 (the
bicubic baseline), against OpenCV's INTER_CUBIC; and a batch of 16 RGB 192x192 float tensors shrunk by 4
(training patches), against torch's antialiased bicubic ``interpolate``. The resizers of each case run
in alternating rounds in one process so that machine load hits them alike; the medians are
printed with their ratios. Each round times a short burst of one resizer: switching on every call
between torch's OpenMP pool, NumPy's BLAS pool and OpenCV's pool makes each wait for the other's
spinning threads, which would measure the switching rather than the resizers. Targets: >= 20x faster
than the per-line oracle; within 1.5x of OpenCV's INTER_AREA (inexact, but it marks the memory-bound
speed limit) while staying exact. The upscale and the batch have no target: their ratios say where srlib
stands against the inexact fast paths.

    python benchmarks/bench_resize.py [--rounds N]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from record import write_record  # noqa: E402

from srlib.data import imresize  # noqa: E402
from tests.matlab_oracle import oracle_imresize  # noqa: E402


def clock(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def medians(candidates: dict, rounds: int, burst: int) -> dict[str, float]:
    """Median seconds of each candidate, timed in alternating bursts (the oracle once per round: it is slow)."""
    times = {name: [] for name in candidates}
    for fn in candidates.values():
        fn()  # warm-up (weights cached, threads started)
    for _ in range(rounds):
        for name, fn in candidates.items():
            calls = [clock(fn) for _ in range(1 if name.startswith("oracle") else burst)]
            times[name].extend(calls[1:] if len(calls) > 1 else calls)  # first call of a burst pays the switch
    return {name: statistics.median(ts) for name, ts in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--burst", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    image = rng.random((1356, 2040, 3)).astype(np.float32)
    size = (339, 510)
    exact = oracle_imresize(image.astype(np.float64), 0.25)
    error = float(np.abs(imresize(image, 0.25) - exact).max())
    median = medians({
        "srlib imresize": lambda: imresize(image, 0.25),
        "oracle (per line)": lambda: oracle_imresize(image, 0.25),
        "OpenCV INTER_AREA": lambda: cv2.resize(image, size[::-1], interpolation=cv2.INTER_AREA),
    }, args.rounds, args.burst)
    print(f"2040x1356x3 float32 -> 510x339 (x1/4), torch threads {torch.get_num_threads()}, "
          f"OpenCV threads {cv2.getNumThreads()}")
    for name, t in median.items():
        print(f"  {name:<20} {t * 1e3:8.2f} ms  (median)")
    print(f"  max |srlib - oracle| = {error:.2e}  (exactness target <= 1e-5)")
    speedup = median["oracle (per line)"] / median["srlib imresize"]
    vs_cv = median["srlib imresize"] / median["OpenCV INTER_AREA"]
    print(f"ratio oracle / srlib      = {speedup:6.1f}x   (target >= 20x: {'met' if speedup >= 20 else 'NOT met'})")
    print(f"ratio srlib / OpenCV area = {vs_cv:6.2f}x   (target <= 1.5x: {'met' if vs_cv <= 1.5 else 'NOT met'})")

    small = exact.astype(np.float32)  # the LR image: 510x339
    up_error = float(np.abs(imresize(small, 4) - oracle_imresize(small.astype(np.float64), 4)).max())
    up = medians({
        "srlib imresize x4": lambda: imresize(small, 4),
        "OpenCV INTER_CUBIC": lambda: cv2.resize(small, (2040, 1356), interpolation=cv2.INTER_CUBIC),
    }, args.rounds, args.burst)
    up_ratio = up["srlib imresize x4"] / up["OpenCV INTER_CUBIC"]
    print(f"510x339x3 float32 -> 2040x1356 (x4): srlib {up['srlib imresize x4'] * 1e3:.2f} ms, OpenCV INTER_CUBIC "
          f"{up['OpenCV INTER_CUBIC'] * 1e3:.2f} ms (ratio {up_ratio:.2f}x; OpenCV's cubic is not MATLAB's: "
          f"max |srlib - oracle| {up_error:.1e})")

    batch = torch.rand(16, 3, 192, 192, generator=torch.Generator().manual_seed(0))
    batched = medians({
        "srlib imresize (tensor)": lambda: imresize(batch, 0.25),
        "torch interpolate": lambda: F.interpolate(batch, scale_factor=0.25, mode="bicubic", antialias=True),
    }, args.rounds, args.burst)
    batch_ratio = batched["srlib imresize (tensor)"] / batched["torch interpolate"]
    print(f"16x3x192x192 tensor -> 48x48 (x1/4): srlib {batched['srlib imresize (tensor)'] * 1e3:.2f} ms, torch "
          f"antialiased bicubic interpolate {batched['torch interpolate'] * 1e3:.2f} ms (ratio {batch_ratio:.2f}x)")
    write_record("resize", {"median_ms": {k: v * 1e3 for k, v in {**median, **up, **batched}.items()},
                            "max_error_vs_oracle": error, "upscale_max_error_vs_oracle": up_error,
                            "oracle_over_srlib": speedup, "srlib_over_opencv_area": vs_cv,
                            "srlib_over_opencv_cubic_x4": up_ratio, "srlib_over_torch_interpolate_batch": batch_ratio})


if __name__ == "__main__":
    main()
