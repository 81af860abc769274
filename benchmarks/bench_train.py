"""Training throughput: RRDBNet (23 blocks, x4) PSNR-stage steps through srlib's trainer, on the CPU.

For each HR patch size (128 and 192) the real training loop (``srlib.training.loop.train``: data loading, D4
crops, forward, L1, backward, Adam, EMA) runs a few steps; its log gives samples/s with validation
excluded. In the same run, just before and after, 2048^2 fp32 matrix multiplies give the machine's
sustained rate, and the achieved fraction is printed like an MFU: training FLOPs per sample are
3x the forward's convolution FLOPs (forward + backward for inputs and weights). Each patch size runs in
fp32 and, where the CPU has native bf16 (:mod:`srlib.hardware`), with bf16 autocast too (target: >= 1.6x
fp32's samples/s); without it bf16 is emulated, tens of times slower, and is not run.

    python benchmarks/bench_train.py [--patches 128 192] [--batch 4] [--steps 6]
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_inference import sustained_gemm_rate  # noqa: E402
from record import write_record  # noqa: E402

from srlib import hardware  # noqa: E402
from srlib.data import read_image, write_image  # noqa: E402
from srlib.models import build_model, flops_per_pixel  # noqa: E402
from srlib.paths import SAMPLE_DIR  # noqa: E402
from srlib.training import (  # noqa: E402
    preset,  # noqa: E402
    read_log,
    train,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patches", type=int, nargs="+", default=[128, 192])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    forward_flops = flops_per_pixel(build_model("rrdbnet"), 4)
    print(f"RRDBNet-23 x4, batch {args.batch}, {args.threads} threads; "
          f"{forward_flops / 1e6:.1f} MFLOP per LR pixel (forward); {hardware.describe()}")
    precisions = ("fp32", "bf16") if hardware.native_cpu_bf16() else ("fp32",)
    if len(precisions) == 1:
        print("bf16 not run: this CPU has no native bf16")
    record = {"batch": args.batch, "threads": args.threads, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        val = Path(tmp) / "val"  # one small validation image: the run validates once at the start
        val.mkdir()
        write_image(val / "crop.png", read_image(SAMPLE_DIR / "coffee.png")[:64, :64])
        for patch in args.patches:
            for precision in precisions:
                before = sustained_gemm_rate(a, b)
                config = preset("quick", "psnr", model="rrdbnet", model_args={}, patch_size=patch,
                                batch_size=args.batch, iterations=args.steps, log_every=args.steps // 2,
                                val_every=10**9, checkpoint_every=10**9, val_dir=str(val), threads=args.threads,
                                run_dir=str(Path(tmp) / f"run{patch}{precision}"), precision=precision)
                rate = read_log(train(config, progress=False))[-1]["samples_per_s"]  # the second half: warmed up
                gemm = statistics.mean([before, sustained_gemm_rate(a, b)])
                achieved = rate * 3 * forward_flops * (patch // 4) ** 2 / 1e9
                print(f"patch {patch}, {precision}: {rate:6.2f} samples/s, {achieved:6.1f} GFLOP/s = "
                      f"{achieved / gemm:5.1%} of the fp32 GEMM rate ({gemm:.1f} GFLOP/s)")
                record["runs"].append({"patch": patch, "precision": precision, "samples_per_s": rate,
                                       "fp32_gemm_gflops": gemm})
    write_record("train", record)


if __name__ == "__main__":
    main()
