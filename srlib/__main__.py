"""Command line: ``python -m srlib {prepare-pairs, extract-subimages, evaluate, bicubic-baseline, upscale, download}``."""

from __future__ import annotations

import argparse
import sys

from .baseline import bicubic_baseline
from .degrade import prepare_pairs
from .download import DownloadError, fetch_dataset, load_manifest
from .image_io import ImageReadError
from .ma_score import load_ma_model
from .metrics import evaluate
from .subimages import extract_subimages
from .upscale_files import upscale_files
from .weights import CheckpointError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m srlib", description="ESRGAN-Pro course tools")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("prepare-pairs", help="HR folder -> x2/x3/x4 HR/LR pairs (MATLAB bicubic)")
    p.add_argument("hr_dir")
    p.add_argument("out_dir")
    p.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--no-crop", action="store_true", help="refuse HR sizes that are not multiples of the scale")
    p.add_argument("--workers", type=int, default=2)

    p = sub.add_parser("extract-subimages", help="crop a folder into overlapping sub-images (BasicSR rule)")
    p.add_argument("src_dir")
    p.add_argument("dst_dir")
    p.add_argument("--crop", type=int, default=480)
    p.add_argument("--step", type=int, default=240)
    p.add_argument("--thresh", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)

    p = sub.add_parser("evaluate", help="PSNR / SSIM / MS-SSIM / RMSE / NIQE (/ Ma / PI) of SR images against HR")
    p.add_argument("--sr", required=True)
    p.add_argument("--hr", required=True)
    p.add_argument("--scale", type=int, required=True)
    p.add_argument("--csv")
    p.add_argument("--json")
    p.add_argument("--no-niqe", action="store_true", help="skip NIQE (NaN for images under 96 px after shaving)")
    p.add_argument("--ma-model", help="Ma et al.'s model.mat: adds the Ma and Perceptual Index columns (see README)")

    p = sub.add_parser("bicubic-baseline", help="evaluate bicubic x s upscaling of MATLAB-bicubic LR images")
    p.add_argument("--hr", required=True)
    p.add_argument("--scale", type=int, required=True)

    p = sub.add_parser("upscale", help="super-resolve an image or a folder with a trained generator")
    p.add_argument("-i", "--input", required=True, help="an image file or a folder of images")
    p.add_argument("-o", "--output", required=True, help="output file (for a file) or folder (for a folder)")
    p.add_argument("-s", "--scale", type=int, default=4)
    p.add_argument("--model", required=True, help="generator checkpoint (.pth)")
    p.add_argument("--arch", default="rrdbnet", help="architecture name for srlib.models.build_model")
    p.add_argument("--tile", type=int, help="LR tile size (memory then no longer grows with the image)")
    p.add_argument("--self-ensemble", action="store_true", help="average the 8 flips/rotations (8x slower)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")

    p = sub.add_parser("download", help="fetch a dataset listed in data/datasets.json")
    p.add_argument("name", nargs="?", help="dataset name (omit to list them)")
    p.add_argument("--root", default="datasets")
    p.add_argument("--archive", help="an archive you downloaded yourself (for sets behind a sign-in page)")

    args = parser.parse_args(argv)
    try:
        if args.command == "prepare-pairs":
            report = prepare_pairs(args.hr_dir, args.out_dir, tuple(args.scales), crop=not args.no_crop,
                                   workers=args.workers)
            print(f"written {report.written}, already there {report.skipped}")
        elif args.command == "extract-subimages":
            n = extract_subimages(args.src_dir, args.dst_dir, args.crop, args.step, args.thresh, workers=args.workers)
            print(f"written {n} sub-images")
        elif args.command == "evaluate":
            ma_model = load_ma_model(args.ma_model) if args.ma_model else None
            table = evaluate(args.sr, args.hr, args.scale, with_niqe=not args.no_niqe, ma_model=ma_model)
            print(table.format())
            if args.csv:
                table.to_csv(args.csv)
            if args.json:
                table.to_json(args.json)
        elif args.command == "upscale":
            written = upscale_files(args.input, args.output, args.scale, args.model, arch=args.arch, tile=args.tile,
                                    self_ensemble=args.self_ensemble, overwrite=args.overwrite)
            print(f"written {len(written)} image(s)")
        elif args.command == "bicubic-baseline":
            print(bicubic_baseline(args.hr, args.scale).format())
        elif args.command == "download":
            if args.name is None:
                for entry in load_manifest().values():
                    print(f"{entry.name:<16} {entry.description}")
            else:
                print(fetch_dataset(args.name, args.root, archive=args.archive))
    except (ImageReadError, DownloadError, CheckpointError, FileNotFoundError, FileExistsError, PermissionError,
            ValueError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
