"""Resize benchmark: srlib's MATLAB-exact imresize vs the simple oracle and OpenCV, side by side.

A 2040x1356 RGB float32 image shrunk by 4, as when making DIV2K LR images. The three resizers run
in alternating rounds in one process so that machine load hits them alike; the medians are
printed with their ratios. Each round times a short burst of one resizer: switching on every call
between torch's OpenMP pool, NumPy's BLAS pool and OpenCV's pool makes each wait for the other's
spinning threads, which would measure the switching rather than the resizers. Targets: >= 20x faster
than the per-line oracle; within 3x of OpenCV's INTER_AREA (inexact, but it marks the memory-bound
speed limit) while staying exact.

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from record import write_record  # noqa: E402

from srlib.data import imresize  # noqa: E402
from tests.matlab_oracle import oracle_imresize  # noqa: E402


def clock(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--burst", type=int, default=5)
    args = parser.parse_args()
    image = np.random.default_rng(0).random((1356, 2040, 3)).astype(np.float32)
    size = (339, 510)
    exact = oracle_imresize(image.astype(np.float64), 0.25)
    error = float(np.abs(imresize(image, 0.25) - exact).max())
    candidates = {
        "srlib imresize": lambda: imresize(image, 0.25),
        "oracle (per line)": lambda: oracle_imresize(image, 0.25),
        "OpenCV INTER_AREA": lambda: cv2.resize(image, size[::-1], interpolation=cv2.INTER_AREA),
    }
    times = {name: [] for name in candidates}
    for name, fn in candidates.items():
        fn()  # warm-up (weights cached, threads started)
    for _ in range(args.rounds):
        for name, fn in candidates.items():
            burst = [clock(fn) for _ in range(1 if name.startswith("oracle") else args.burst)]
            times[name].extend(burst[1:] if len(burst) > 1 else burst)  # first call of a burst pays the switch
    median = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"2040x1356x3 float32 -> 510x339 (x1/4), torch threads {torch.get_num_threads()}, "
          f"OpenCV threads {cv2.getNumThreads()}")
    for name, t in median.items():
        print(f"  {name:<20} {t * 1e3:8.2f} ms  (median of {len(times[name])})")
    print(f"  max |srlib - oracle| = {error:.2e}  (exactness target <= 1e-5)")
    speedup = median["oracle (per line)"] / median["srlib imresize"]
    vs_cv = median["srlib imresize"] / median["OpenCV INTER_AREA"]
    print(f"ratio oracle / srlib      = {speedup:6.1f}x   (target >= 20x: {'met' if speedup >= 20 else 'NOT met'})")
    print(f"ratio srlib / OpenCV area = {vs_cv:6.2f}x   (target <= 3x: {'met' if vs_cv <= 3 else 'NOT met'})")
    write_record("resize", {"median_ms": {k: v * 1e3 for k, v in median.items()}, "max_error_vs_oracle": error,
                            "oracle_over_srlib": speedup, "srlib_over_opencv_area": vs_cv})


if __name__ == "__main__":
    main()
