"""Peak memory of ``srlib upscale --model realesrgan-x4plus`` on a 2000x2000 photo (8000x8000 out), with the
default tile and with ``--tile 128``, each in a fresh process (its peak resident set, from the kernel).
The photo is the bundled astronaut enlarged to 2000x2000 (MATLAB bicubic), so the run needs no download.
What the README quotes; memory does not depend on the CPU's speed, so these are absolute numbers.

    python benchmarks/bench_memory.py [--size 2000] [--tiles 256 128]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from record import write_record  # noqa: E402

from srlib.data import imresize, read_image, write_image  # noqa: E402
from srlib.inference import DEFAULT_TILE  # noqa: E402
from srlib.paths import SAMPLE_DIR  # noqa: E402

CHILD = """
import resource, sys
from srlib.cli import main
status = main(sys.argv[1:])
print("peak_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "status", status)
"""


def photo(size: int, folder: Path) -> Path:
    """The astronaut enlarged to ``size`` x ``size``, as a PNG in ``folder``."""
    image = read_image(SAMPLE_DIR / "astronaut.png")
    big = imresize(image, size / image.shape[0])
    return write_image(folder / f"photo{size}.png", big[:size, :size])


def peak_of_upscale(source: Path, tile: int, folder: Path) -> tuple[float, float]:
    """(peak resident MiB, seconds) of one ``srlib upscale`` of ``source`` in a fresh process."""
    args = ["upscale", "-i", str(source), "-o", str(folder / f"out{tile}.png"), "--model", "realesrgan-x4plus",
            "--tile", str(tile), "--overwrite"]
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True).stdout
    seconds = time.perf_counter() - start
    fields = out.split()
    if fields[fields.index("status") + 1] != "0":
        raise RuntimeError(f"srlib upscale failed: {out}")
    return int(fields[fields.index("peak_kib") + 1]) / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--tiles", type=int, nargs="+", default=[DEFAULT_TILE, 128])
    args = parser.parse_args()
    record = {"lr_size": args.size, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        source = photo(args.size, Path(tmp))
        for tile in args.tiles:
            peak, seconds = peak_of_upscale(source, tile, Path(tmp))
            default = " (the default)" if tile == DEFAULT_TILE else ""
            side = f"{args.size}x{args.size} -> {4 * args.size}x{4 * args.size}"
            print(f"srlib upscale --model realesrgan-x4plus, {side}, --tile {tile}{default}: "
                  f"peak resident memory {peak / 1024:.2f} GiB ({seconds / 60:.1f} min)")
            record["runs"].append({"tile": tile, "peak_mib": peak, "seconds": seconds})
    print(f"the float output alone is {(4 * args.size) ** 2 * 3 * 4 / 2**30:.2f} GiB")
    write_record("memory", record)


if __name__ == "__main__":
    main()
