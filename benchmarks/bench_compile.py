"""Compiled inference: ``torch.compile`` of RRDBNet-23 against the plain fp32 forward, on the CPU.

A compiled graph is a fast path only if it computes the same function: its outputs are compared with the
plain forward's, and it counts only within 1e-5. With freezing (weights folded in as constants), Inductor's
CPU weight prepacking drifts with depth (up to 4e-2 at 23 blocks on a development machine), so freezing is
measured with prepacking on and off. Each variant compiles in its own process: variants in one process
silently share a graph. Printed: the compile time, the speed-up over the plain forward measured in
alternating rounds in the same process, and the largest output difference.

    python benchmarks/bench_compile.py [--size 64] [--rounds 3]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from record import write_record  # noqa: E402

TOLERANCE = 1e-5
VARIANTS = {  # name -> inductor settings
    "compile (default)": {},
    "compile + freezing": {"freezing": True},
    "compile + freezing, no prepacking": {"freezing": True, "cpp.weight_prepack": False},
}

CHILD = """
import json, statistics, sys, time
import torch, torch._inductor.config as inductor
sys.path.insert(0, {root!r})
from srlib.models.rrdbnet import RRDBNet
for key, value in {settings!r}.items():
    *sections, name = key.split(".")
    target = inductor
    for section in sections:
        target = getattr(target, section)
    setattr(target, name, value)
torch.manual_seed(0)
model = RRDBNet().eval()
x = torch.rand(1, 3, {size}, {size})
with torch.no_grad():
    reference = model(x)
    compiled = torch.compile(model)
    start = time.perf_counter()
    out = compiled(x)
    compile_s = time.perf_counter() - start
    plain_t, compiled_t = [], []
    for _ in range({rounds}):
        for fn, times in ((model, plain_t), (compiled, compiled_t)):
            start = time.perf_counter(); fn(x); times.append(time.perf_counter() - start)
print(json.dumps({{"compile_s": compile_s, "speedup": statistics.median(plain_t) / statistics.median(compiled_t),
                  "max_difference": (out - reference).abs().max().item()}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = str(Path(__file__).resolve().parent.parent)
    print(f"RRDBNet-23 x4, LR {args.size}x{args.size}, fp32; each variant in a fresh process")
    record = {}
    for name, settings in VARIANTS.items():
        child = CHILD.format(root=root, settings=settings, size=args.size, rounds=args.rounds)
        run = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True)
        if run.returncode:
            print(f"  {name:<34}: failed to compile: {run.stderr.strip().splitlines()[-1]}")
            record[name] = {"error": run.stderr.strip().splitlines()[-1]}
            continue
        result = json.loads(run.stdout.strip().splitlines()[-1])
        exact = result["max_difference"] <= TOLERANCE
        verdict = "usable" if exact else f"NOT usable: output off by more than {TOLERANCE:g}"
        print(f"  {name:<34}: compile {result['compile_s']:5.1f} s, {result['speedup']:.2f}x the plain forward, "
              f"max |difference| {result['max_difference']:.1e} ({verdict})")
        record[name] = {**result, "within_tolerance": exact}
    write_record("compile", record)


if __name__ == "__main__":
    main()
