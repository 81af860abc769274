"""Inference benchmark: RRDBNet (23 blocks, x4) on the CPU, against the machine's GEMM rate.

Measured side by side in one run, in alternating rounds:
- 2048x2048 fp32 matrix multiplies, back to back for 1.5 s (the practical peak of this machine now);
- a plain fp32 NCHW forward of the model under ``torch.no_grad``;
- srlib's inference path (``srlib.inference.tiles.super_resolve``: inference mode, channels-last).
Printed: achieved GFLOP/s of both forwards, their ratio to the GEMM rate, the speed-up of srlib's
path, and the largest output difference. Then the peak RSS of tiled inference on a 256x256 and a
1024x1024 LR image with the same tile size, each in a fresh process (a 1-block RRDBNet there, so the
large image finishes in seconds; activation memory per tile is what tiling bounds), sampled
every 5 ms.

    python benchmarks/bench_inference.py [--sizes 128 64] [--rounds 3]
"""

import argparse
import copy
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from record import write_record  # noqa: E402

from srlib import hardware  # noqa: E402
from srlib.inference import super_resolve  # noqa: E402
from srlib.models import (
    RRDBNet,  # noqa: E402
    flops_per_pixel,  # noqa: E402
)


def sustained_gemm_rate(a: torch.Tensor, b: torch.Tensor, seconds: float = 1.5) -> float:
    """GFLOP/s of back-to-back 2048^2 matmuls over ``seconds``: a sustained rate, like a forward pass's,
    not the best burst."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b)
        count += 1
    return count * 2 * a.shape[0] ** 3 / (time.perf_counter() - start) / 1e9


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


MEMORY_CHILD = """
import sys, threading, time, psutil, torch
sys.path.insert(0, {root!r})
from srlib.inference.tiles import super_resolve
from srlib.models.rrdbnet import RRDBNet
torch.manual_seed(0)
model = RRDBNet(num_block=1).eval()
x = torch.rand(1, 3, {size}, {size})
me = psutil.Process()
before = peak = me.memory_info().rss
running = True
def sample():
    global peak
    while running:
        peak = max(peak, me.memory_info().rss)
        time.sleep(0.005)
sampler = threading.Thread(target=sample)
sampler.start()
y = super_resolve(model, x, 4, tile={tile})
running = False
sampler.join()
print(before // 1024, peak // 1024, y.numel() * 4 // 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 64])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tile", type=int, default=128)
    args = parser.parse_args()
    torch.manual_seed(0)
    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    print(f"torch {torch.__version__}; {hardware.describe()}")
    record = {"forward": [], "tiled_memory": []}
    for size in args.sizes:
        plain = RRDBNet().eval()
        ours = copy.deepcopy(plain)
        x = torch.rand(1, 3, size, size)
        flops = flops_per_pixel(plain, 4) * size * size
        with torch.no_grad():
            reference = plain(x)
        diff = (super_resolve(ours, x, 4) - reference.clamp(0, 1)).abs().max().item()
        gemm, t_plain, t_ours = [], [], []
        for _ in range(args.rounds):
            gemm.append(sustained_gemm_rate(a, b))
            with torch.no_grad():
                t_plain.append(best_time(lambda plain=plain, x=x: plain(x), 1))
            t_ours.append(best_time(lambda ours=ours, x=x: super_resolve(ours, x, 4), 1))
        peak = statistics.median(gemm)
        p, o = statistics.median(t_plain), statistics.median(t_ours)
        print(f"LR {size}x{size}: {flops / 1e9:.1f} GFLOP per forward; GEMM {peak:.0f} GFLOP/s")
        for label, t in (("plain NCHW forward", p), ("srlib path", o)):
            rate = flops / t / 1e9
            print(f"  {label:<19}: {t:7.2f} s  {rate:6.1f} GFLOP/s  = {rate / peak:4.0%} of GEMM")
        print(f"  speed-up {p / o:.2f}x, max |difference| {diff:.1e}")
        record["forward"].append({"lr_size": size, "gemm_gflops": peak, "plain_seconds": p, "srlib_seconds": o,
                                  "gflop_per_forward": flops / 1e9, "max_difference": diff})
    root = str(Path(__file__).resolve().parent.parent)
    for size in (256, 1024):
        out = subprocess.run([sys.executable, "-c", MEMORY_CHILD.format(root=root, size=size, tile=args.tile)],
                             capture_output=True, text=True, check=True).stdout.split()
        before, peak, output_kib = (int(v) for v in out)
        print(f"tiled x4, LR {size}x{size}, tile {args.tile}: peak RSS {peak / 1024:7.1f} MiB, "
              f"{(peak - before) / 1024:6.1f} MiB above the start, of which the output tensor "
              f"{output_kib / 1024:.1f} MiB: working memory {(peak - before - output_kib) / 1024:.1f} MiB")
        record["tiled_memory"].append({"lr_size": size, "tile": args.tile,
                                       "working_mib": (peak - before - output_kib) / 1024})
    write_record("inference", record)


if __name__ == "__main__":
    main()
