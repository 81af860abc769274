"""The ``srlib`` command: everything a user runs, one subcommand each (``srlib --help`` lists them).

The parser imports nothing heavy: each subcommand imports what it needs when it runs, so ``srlib --help``
answers at once. The names it offers without importing torch (architectures, presets) are checked
against the real tables by the tests.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from . import __version__
from .paths import DATASET_ROOT, REPO_ROOT, shown

# srlib.models.ARCHITECTURES, srlib.training.PRESETS / STAGES, srlib.inference.PRECISIONS / DEFAULT_TILE, written out so
# that --help needs no torch
ARCHITECTURES = ("bicubic", "edsr", "edsr_baseline", "edsr_small", "rdn", "rdn_small", "rrdbnet", "rrdbnet_small",
                 "srn_deblur", "srn_deblur_small", "srresnet", "srresnet_nobn", "wdsr_a", "wdsr_a_small")
PRESETS = ("quick", "course", "course-rrdb", "esrgan", "paper", "srgan")
STAGES = ("psnr", "gan")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEFAULT_TILE = 256


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Shows the default of every option that has one and keeps the descriptions' line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, [], argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def _command(sub, name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=description or help, formatter_class=_Formatter)


def _add_data_commands(sub) -> None:
    p = _command(sub, "download", "fetch a dataset (omit the name to list them)")
    p.add_argument("name", nargs="?", help="dataset name")
    p.add_argument("--root", default=str(DATASET_ROOT), help="folder the dataset goes into (SRLIB_DATASETS)")
    p.add_argument("--archive", help="an archive you downloaded yourself (for sets behind a sign-in page)")

    p = _command(sub, "prepare", "build the paper's data: DF2K sub-images, or the x4 test sets",
                 "df2k: download (or take the archives of) DIV2K train HR and Flickr2K, merge the 3,450 photos,\n"
                 "make their MATLAB-bicubic x4 LR versions and cut both into sub-images (480/240, 120/60), with a\n"
                 "manifest.\n"
                 "benchmarks: Set5, Set14, B100, Urban100 mod-cropped to x4 with their LR images.\n"
                 "The training presets read exactly these folders. Rerun to resume.")
    p.add_argument("what", choices=("df2k", "benchmarks"), help="df2k or benchmarks")
    p.add_argument("--root", default=str(DATASET_ROOT), help="where the data goes (SRLIB_DATASETS)")
    p.add_argument("--archive", action="append", default=[], metavar="NAME=FILE",
                   help="an archive you downloaded yourself, e.g. div2k_train_hr=DIV2K_train_HR.zip (repeatable)")
    p.add_argument("--workers", type=int, default=2, help="worker processes")

    p = _command(sub, "prepare-pairs", "HR folder -> x2/x3/x4 HR/LR pairs (MATLAB bicubic)")
    p.add_argument("hr_dir", help="folder of HR images")
    p.add_argument("out_dir", help="gets x{scale}/HR and x{scale}/LR folders")
    p.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4], help="scale factors")
    p.add_argument("--no-crop", action="store_true", help="refuse HR sizes that are not multiples of the scale")
    p.add_argument("--workers", type=int, default=2, help="worker processes")

    p = _command(sub, "extract-subimages", "crop a folder into overlapping sub-images (BasicSR's rule)")
    p.add_argument("src_dir", help="folder of images")
    p.add_argument("dst_dir", help="folder for the sub-images")
    p.add_argument("--crop", type=int, default=480, help="sub-image side (pixels)")
    p.add_argument("--step", type=int, default=240, help="distance between sub-images (pixels)")
    p.add_argument("--thresh", type=int, default=0, help="a last sub-image closer than this to the border is dropped")
    p.add_argument("--workers", type=int, default=2, help="worker processes")


def _add_training_commands(sub) -> None:
    p = _command(sub, "train", "train a generator (PSNR pre-training or GAN fine-tuning); rerun to resume",
                 "Train one stage of a preset, or a saved config.json. Running the same command again resumes\n"
                 "from the run directory's checkpoint. Under torchrun every process runs this command.")
    p.add_argument("--preset", choices=PRESETS, default="quick", help="named configuration")
    p.add_argument("--stage", choices=STAGES, default="psnr", help="psnr (pre-training) or gan (fine-tuning)")
    p.add_argument("--config", help="a config JSON file (saved with every run as config.json)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a config field, e.g. --set run_dir=runs/psnr (repeatable)")
    p.add_argument("--no-resume", action="store_true", help="start afresh even if run_dir has a checkpoint")

    p = _command(sub, "course", "run every notebook headless (papermill) and write runs/summary.txt")
    p.add_argument("--out", default=str(REPO_ROOT / "runs"), help="folder for the executed notebooks and the summary")
    p.add_argument("--only", nargs="*", type=int, help="notebook numbers to run (default: all)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter for every notebook that declares it (repeatable)")


def _blend(text: str) -> tuple[str, float]:
    """``--blend OTHER:ALPHA`` -> (OTHER, ALPHA), ALPHA between 0 and 1."""
    other, sep, alpha = text.rpartition(":")
    try:
        value = float(alpha)
    except ValueError:
        value = None
    if not sep or not other or value is None or not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected OTHER:ALPHA with ALPHA between 0 and 1, got {text!r}")
    return other, value


def _add_use_commands(sub) -> None:
    p = _command(sub, "upscale", "super-resolve an image or a folder with a trained generator",
                 "Super-resolve an image or a folder. --model is a training run directory, a weights file with\n"
                 "the run's config.json beside it, or any weights file: its architecture and scale are read\n"
                 "from its names and shapes (RRDBNet in every ESRGAN / BasicSR / Real-ESRGAN layout, and the\n"
                 "course's other families).")
    p.add_argument("-i", "--input", required=True, help="an image file or a folder of images")
    p.add_argument("-o", "--output", required=True, help="output file (for a file) or folder (for a folder)")
    p.add_argument("--model", required=True,
                   help="run directory, weights file (.pth / generator.pt), one of the course's networks "
                        "(course-psnr, course-gan, course-rrdb-psnr, course-rrdb-gan, course-edsr, ...) or a "
                        "released one "
                        "(realesrgan-x4plus, realesrgan-x4plus-anime)")
    p.add_argument("--blend", metavar="OTHER:ALPHA", type=_blend,
                   help="network interpolation: run the weights ALPHA (0-1) of the way from --model to OTHER, "
                        "a network of the same architecture (e.g. --model course-psnr --blend course-gan:0.3)")
    p.add_argument("-s", "--scale", type=int, help="scale factor, checked against the model (default: the model's)")
    p.add_argument("--arch", metavar="ARCH",
                   help=f"override the architecture read from the weights: {', '.join(ARCHITECTURES)}")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    p.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="auto: fp16 on CUDA, fp32 on the CPU; bf16 pays on CPUs with native bf16 (make bench says)")
    p.add_argument("--suffix", default="", help="appended to each output name in a folder run, e.g. _x4")
    p.add_argument("--tile", type=int, default=DEFAULT_TILE,
                   help="LR tile size: larger images run in overlapping tiles, so the network's memory no longer grows "
                        "with the image (smaller ones run whole)")
    p.add_argument("--self-ensemble", action="store_true", help="average the 8 flips/rotations (8x slower)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--skip-existing", action="store_true", help="leave existing outputs, do the rest (resume)")

    p = _command(sub, "evaluate", "PSNR / SSIM / MS-SSIM / RMSE / NIQE (/ Ma / PI) of SR images against HR")
    p.add_argument("--sr", required=True, help="folder of super-resolved images")
    p.add_argument("--hr", required=True, help="folder of HR images with the same names")
    p.add_argument("--sr-suffix", default="", help="what SR names add to the HR name, e.g. _out (Real-ESRGAN)")
    p.add_argument("--scale", type=int, required=True, help="scale factor (pixels shaved at the border)")
    p.add_argument("--csv", help="also write the table as CSV")
    p.add_argument("--json", help="also write the table as JSON")
    p.add_argument("--no-niqe", action="store_true", help="skip NIQE (NaN for images under 96 px after shaving)")
    p.add_argument("--ma-model", help="Ma et al.'s model.mat: adds the Ma and Perceptual Index columns (README)")

    p = _command(sub, "bicubic-baseline", "score bicubic x s upscaling of MATLAB-bicubic LR images")
    p.add_argument("--hr", required=True, help="folder of HR images")
    p.add_argument("--scale", type=int, required=True, help="scale factor")


def build_parser() -> argparse.ArgumentParser:
    """The ``srlib`` parser and its subcommands."""
    parser = argparse.ArgumentParser(prog="srlib", formatter_class=_Formatter,
                                     description="ESRGAN-Pro course: data, training, upscaling and evaluation")
    parser.add_argument("--version", action="version", version=f"srlib {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_data_commands(sub)
    _add_training_commands(sub)
    _add_use_commands(sub)
    return parser


def _download(args) -> int:
    from .data import fetch_dataset, load_manifest

    manifest = load_manifest()
    if args.name is None:
        for entry in manifest.values():
            print(f"{entry.name:<22} {entry.description}\n{'':<22} licence: {entry.licence}")
        return 0
    if args.name in manifest:  # the terms come before the bytes
        print(f"{args.name}: licence: {manifest[args.name].licence} ({manifest[args.name].homepage})")
    print(fetch_dataset(args.name, args.root, manifest=manifest, archive=args.archive))
    return 0


def _prepare(args) -> int:
    from .data.prepare import prepare_benchmarks, prepare_df2k

    archives = dict(text.split("=", 1) for text in args.archive)
    if args.what == "df2k":
        folder = prepare_df2k(args.root, archives.get("div2k_train_hr"), archives.get("flickr2k"), workers=args.workers)
    else:
        folder = prepare_benchmarks(args.root, archives, workers=args.workers)
    print(f"ready: {folder} ({folder / 'manifest.json'})")
    return 0


def _prepare_pairs(args) -> int:
    from .data import prepare_pairs

    report = prepare_pairs(args.hr_dir, args.out_dir, tuple(args.scales), crop=not args.no_crop, workers=args.workers)
    print(f"written {report.written}, already there {report.skipped}")
    return 0


def _extract_subimages(args) -> int:
    from .data import extract_subimages

    n = extract_subimages(args.src_dir, args.dst_dir, args.crop, args.step, args.thresh, workers=args.workers)
    print(f"written {n} sub-images")
    return 0


def _train(args) -> int:
    from .training import TrainConfig, preset, train
    from .training.config import overridden, parse_override
    from .training.distributed import process_from_env

    overrides = _from_the_shell(dict(parse_override(text) for text in args.set))
    if args.config:
        config = overridden(TrainConfig.from_json(Path(args.config).read_text()), overrides)
    else:
        config = preset(args.preset, args.stage, **overrides)
    run_dir = train(config, resume=not args.no_resume)
    if process_from_env().is_main:
        print(f"run directory: {shown(run_dir)}")
    return 0


def _from_the_shell(overrides: dict) -> dict:
    """``--set`` paths as the user's shell means them (its working directory), not from the repository; an
    ``init_from`` that names a network (and no folder here) stays a name."""
    from .models.released import COURSE_WEIGHTS, PRETRAINED
    from .paths import typed_path
    from .training.config import PATH_FIELDS

    def is_name(key: str, value: str) -> bool:
        return key == "init_from" and value in (*PRETRAINED, *COURSE_WEIGHTS) and not Path(value).exists()

    return {key: typed_path(value) if key in PATH_FIELDS and isinstance(value, str) and not is_name(key, value)
            else value for key, value in overrides.items()}


def _course(args) -> int:
    from .notebook.course import main as course_main

    return course_main(args.out, args.only, args.set)


def _upscale(args) -> int:
    from .inference import upscale_files

    written = upscale_files(args.input, args.output, args.model, args.scale, arch=args.arch, tile=args.tile,
                            self_ensemble=args.self_ensemble, device=args.device, precision=args.precision,
                            suffix=args.suffix, overwrite=args.overwrite, skip_existing=args.skip_existing,
                            blend=args.blend)
    print(f"written {len(written)} image(s)")
    return 0


def _evaluate(args) -> int:
    from .evaluation import evaluate, load_ma_model

    ma_model = load_ma_model(args.ma_model) if args.ma_model else None
    table = evaluate(args.sr, args.hr, args.scale, with_niqe=not args.no_niqe, ma_model=ma_model,
                     sr_suffix=args.sr_suffix)
    print(table.format())
    if args.csv:
        table.to_csv(args.csv)
    if args.json:
        table.to_json(args.json)
    return 0


def _bicubic_baseline(args) -> int:
    from .evaluation import bicubic_baseline

    print(bicubic_baseline(args.hr, args.scale).format())
    return 0


COMMANDS = {"download": _download, "prepare": _prepare, "prepare-pairs": _prepare_pairs,
            "extract-subimages": _extract_subimages, "train": _train, "course": _course, "upscale": _upscale,
            "evaluate": _evaluate, "bicubic-baseline": _bicubic_baseline}


def main(argv: list[str] | None = None) -> int:
    """Run ``srlib`` with ``argv``; returns the exit status: 2 with a one-line message for bad input or a
    failed run (``--debug`` shows the traceback), 130 after Ctrl-C."""
    args = build_parser().parse_args(argv)
    # a warning (an animated GIF's first frame, 16 bits written as 8) is one line for a user, not a source excerpt
    plain_format, warnings.formatwarning = warnings.formatwarning, lambda message, *_, **__: (
        f"srlib {args.command}: warning: {message}\n")
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        # files are written whole or not at all (srlib.atomic), so an interrupt never leaves half a file
        after = "; the last checkpoint is intact and the run resumes from it" if args.command == "train" else ""
        print(f"srlib {args.command}: interrupted{after}", file=sys.stderr)
        return 130
    except (OSError, ValueError, KeyError, FloatingPointError, RuntimeError) as err:
        # ImageReadError and CheckpointError are ValueErrors, DownloadError an OSError; FloatingPointError is
        # a network gone non-finite; RuntimeError what torch raises for a run that cannot go on
        if args.debug:
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"srlib {args.command}: error: {message}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = plain_format


if __name__ == "__main__":
    sys.exit(main())
