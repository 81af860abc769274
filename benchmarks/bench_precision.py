"""Precision benchmark: does bf16 pay on this CPU, and does it keep the picture?

Measured side by side in one run:
- what the machine is (torch's CPU capability, native bf16 or not: :mod:`srlib.hardware`);
- the fp32 and bf16 GEMM yardsticks (1024^2 matrix multiplies, back to back, alternating rounds);
- RRDBNet-23 (x4) through ``super_resolve`` on a 64^2 LR input in fp32 and in bf16, channels-last both
  (only where the CPU has native bf16: emulated bf16 runs tens of times slower, as the GEMM ratio shows);
- quality: bf16 output against fp32 output (PSNR, RGB) and the PSNR-Y change against HR, for the course's
  PSNR model and Real-ESRGAN x4plus, on the bundled test photos (on the most detailed 48^2 LR crop of each
  where bf16 is emulated, to finish in minutes).
The verdict says whether ``--precision bf16`` pays here: >= 1.8x the fp32 throughput, >= 50 dB from the
fp32 output and within 0.02 dB of its PSNR-Y. A JSON record goes beside the text (``runs/bench/precision.json``).

    python benchmarks/bench_precision.py [--rounds 3]
"""

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from record import write_record  # noqa: E402

from srlib import hardware  # noqa: E402
from srlib.data import make_lr, modcrop, read_image, sample_split  # noqa: E402
from srlib.evaluation import protocol_for, psnr  # noqa: E402
from srlib.inference import super_resolve, upscale  # noqa: E402
from srlib.models import CheckpointError, RRDBNet, flops_per_pixel, load_pretrained  # noqa: E402
from srlib.notebook import detail_window  # noqa: E402

SPEED_TARGET, FIDELITY_DB, PSNR_DRIFT_DB = 1.8, 50.0, 0.02


def gemm_rate(dtype: torch.dtype, size: int = 1024, seconds: float = 1.0) -> float:
    """GFLOP/s of back-to-back ``size``^2 matmuls in ``dtype`` over at least ``seconds`` (one at least)."""
    a, b = torch.rand(size, size).to(dtype), torch.rand(size, size).to(dtype)
    count, start = 0, time.perf_counter()
    while count == 0 or time.perf_counter() - start < seconds:
        torch.mm(a, b)
        count += 1
    return count * 2 * size**3 / (time.perf_counter() - start) / 1e9


def forward_seconds(model: torch.nn.Module, x: torch.Tensor, dtype: torch.dtype) -> float:
    start = time.perf_counter()
    super_resolve(model, x, 4, dtype=dtype)
    return time.perf_counter() - start


def quality(name: str, model: torch.nn.Module, crop: int | None) -> list[dict]:
    """bf16 against fp32 output of ``model`` on the test photos (the most detailed LR ``crop`` of each when given)."""
    rows, protocol = [], protocol_for(4)
    for path in sample_split()["test"]:
        hr = modcrop(read_image(path), 4)
        if crop:  # the most detailed window: a flat one would make tiny differences look large in dB
            top, left = (4 * (v // 4) for v in detail_window(hr, 4 * crop))
            hr = hr[top:top + 4 * crop, left:left + 4 * crop]
        lr = make_lr(hr, 4)
        exact = upscale(copy.deepcopy(model), lr, 4, tile=128)
        reduced = upscale(copy.deepcopy(model), lr, 4, tile=128, dtype=torch.bfloat16)
        rows.append({"network": name, "image": path.stem, "lr_size": list(lr.shape[:2]),
                     "bf16_vs_fp32_db": psnr(reduced, exact, protocol_for(4, "rgb")),
                     "psnr_y_change_db": psnr(reduced, hr, protocol) - psnr(exact, hr, protocol)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    native = hardware.native_cpu_bf16()
    record = {"native_cpu_bf16": native}
    print(hardware.describe())

    rates = {"fp32": [], "bf16": []}
    for _ in range(args.rounds):
        for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            rates[name].append(gemm_rate(dtype))
    gemm = {name: statistics.median(values) for name, values in rates.items()}
    record["gemm_gflops"] = gemm
    print(f"GEMM 1024^2: fp32 {gemm['fp32']:.0f} GFLOP/s, bf16 {gemm['bf16']:.1f} GFLOP/s "
          f"= {gemm['bf16'] / gemm['fp32']:.2f}x fp32")

    torch.manual_seed(0)
    model, x = RRDBNet().eval(), torch.rand(1, 3, 64, 64)
    flops = flops_per_pixel(model, 4) * 64 * 64
    if native:
        times = {"fp32": [], "bf16": []}
        for dtype in (torch.float32, torch.bfloat16):
            forward_seconds(copy.deepcopy(model), x, dtype)  # warm-up: weights converted, kernels chosen
        for _ in range(args.rounds):
            for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
                times[name].append(forward_seconds(copy.deepcopy(model), x, dtype))
        median = {name: statistics.median(values) for name, values in times.items()}
        speedup = median["fp32"] / median["bf16"]
        for name, t in median.items():
            print(f"  RRDBNet-23 x4, LR 64^2, {name}, channels-last: {t:6.2f} s  {flops / t / 1e9:6.1f} GFLOP/s")
        record |= {"rrdbnet23_lr64_seconds": median, "bf16_speedup": speedup}
    else:
        speedup = gemm["bf16"] / gemm["fp32"]
        print(f"  RRDBNet-23 in bf16 not timed: no native bf16 here, its GEMM runs at {speedup:.2f}x fp32")
        record["bf16_speedup_from_gemm"] = speedup

    networks = {"RRDBNet-23 random weights": model}
    for name in ("course-psnr", "realesrgan-x4plus"):
        try:
            networks[name] = load_pretrained(name)
        except CheckpointError as err:
            print(f"  {name} left out: {err}")
    crop = None if native else 48
    rows = [row for name, network in networks.items() if name != "RRDBNet-23 random weights"
            for row in quality(name, network, crop)]
    record["quality"] = rows
    where = "whole test photos" if crop is None else f"a {crop}^2 LR crop of each test photo (bf16 emulated here)"
    print(f"quality of bf16 against fp32, {where}:")
    for row in rows:
        print(f"  {row['network']:<19} {row['image']:<8} bf16 vs fp32 {row['bf16_vs_fp32_db']:6.2f} dB, "
              f"PSNR-Y change {row['psnr_y_change_db']:+.3f} dB")
    keeps = bool(rows) and all(r["bf16_vs_fp32_db"] >= FIDELITY_DB and abs(r["psnr_y_change_db"]) <= PSNR_DRIFT_DB
                               for r in rows)
    pays = native and speedup >= SPEED_TARGET
    record |= {"bf16_keeps_quality": keeps, "bf16_pays": pays and keeps}
    reasons = [f"speed {speedup:.2f}x fp32 (target {SPEED_TARGET}x)" + ("" if native else ", no native bf16"),
               f"quality {'kept' if keeps else 'NOT kept'} (>= {FIDELITY_DB:.0f} dB, PSNR-Y within {PSNR_DRIFT_DB} dB)"]
    verdict = "bf16 pays here: --precision bf16" if pays and keeps else "fp32 stays (the default)"
    print(f"verdict: {verdict}; {'; '.join(reasons)}")
    write_record("precision", record)


if __name__ == "__main__":
    main()
