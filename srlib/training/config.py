"""What a training run does, as one dataclass, and the named presets of the course. Taught in
notebooks 04 and 05.

A stage is ``"psnr"`` (pre-training with a pixel loss) or ``"gan"`` (fine-tuning with the perceptual
+ adversarial + pixel objective, initialised from the PSNR generator). Presets:

- ``quick``: a small RRDBNet on the bundled photos; each stage takes a minute or two on 2 CPU cores
  (pre-training at 1e-3 rather than 2e-4, to get somewhere in 300 steps).
- ``course``: the course's own checkpoints (``make weights``): the same small RRDBNet trained on the
  bundled photos long enough to learn something: 12k pre-training steps (about 1 h 40 on 2 CPU cores),
  then 1k GAN steps (about 15 min) with a discriminator that sees augmented images (``d_augment``, Zhao
  et al. 2020), as few photos require.
- ``esrgan``: ESRGAN (Wang et al. 2018): 23 RRDBs, HR patch 128, batch 16, L1 pre-training at 2e-4
  halved every 200k of 1M iterations, then 400k GAN iterations at 1e-4 halved at 50k/100k/200k/300k.
- ``paper``: ESRGAN-Pro: as ``esrgan`` but HR patch 192 in both stages (so the discriminator takes
  192), DF2K sub-images, and the Mix loss (alpha 0.84) for pre-training.
- ``srgan``: SRGAN (Ledig et al. 2017) for comparison: SRResNet, MSE pre-training, standard GAN.

Every field can be overridden (``preset("paper", "gan", batch_size=8)``, papermill parameters, or
``--set batch_size=8`` on the command line); the effective config is saved with the run.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field

from ..paths import DATASETS

STAGES = ("psnr", "gan")
AUGMENTATIONS = ("colour", "translation", "cutout")  # srlib.training.augment, in the order applied
MATCHED_TERMS = ("perceptual", "adversarial")  # the terms match_means can blind to SR's overall colour
# fields that hold paths (relative ones start from the repository; `srlib train --set` reads them from the shell's
# working directory, srlib.paths.typed_path)
PATH_FIELDS = ("run_dir", "train_dir", "train_lr_dir", "val_dir", "val_lr_dir", "init_from")
# fields renamed since the first release: older config.json files are read with the new names
RENAMED = {"lr": "learning_rate", "d_lr": "d_learning_rate"}


@dataclass
class TrainConfig:
    stage: str = "psnr"
    run_dir: str = "runs/train"
    # generator and data
    model: str = "rrdbnet_small"
    model_args: dict = field(default_factory=dict)  # overrides of the model preset, e.g. {"num_block": 10}
    scale: int = 4
    patch_size: int = 64  # HR side; LR side = patch_size // scale
    batch_size: int = 8  # per process; the effective batch is batch_size x world size
    train_dir: str | None = None  # HR folder; None = the bundled photos' train split
    train_lr_dir: str | None = None  # LR folder with the same file names; None = made on the fly
    val_dir: str | None = None  # None = the bundled photos' validation split
    val_lr_dir: str | None = None
    dataset_repeat: int = 1
    num_workers: int = 0
    # optimisation
    iterations: int = 300
    learning_rate: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.99)
    milestones: tuple[int, ...] = ()
    gamma: float = 0.5
    pixel_loss: str = "l1"  # l1, l2, charbonnier or mix
    mix_alpha: float = 0.84  # the MS-SSIM share of the Mix loss
    ema_decay: float = 0.999  # 0 disables the EMA generator
    # GAN stage
    init_from: str | None = None  # a run directory, a weights file or a load_pretrained name
    gan_type: str = "ragan"  # ragan (ESRGAN) or gan (SRGAN)
    perceptual: str = "auto"  # auto, vgg19, efficientnet-lite0 or none
    perceptual_layer: str = "conv5_4"
    perceptual_weight: float = 1.0
    # which GAN-stage terms see SR with HR's channel means (perceptual, adversarial: D too), comma-separated;
    # true = both, so that the pixel term alone sets the overall colour (notebook 05, 4f: the other two pull on
    # it far harder than the pixel term and keep changing direction)
    match_means: str = ""
    gan_weight: float = 5e-3
    pixel_weight: float = 1e-2
    d_num_feat: int = 64
    d_learning_rate: float = 1e-4
    # what D sees every image through (few photos): any of colour, translation, cutout, comma-separated;
    # true = all three (older configs), "" or false = none
    d_augment: str = ""
    d_warmup: int = 0  # the first d_warmup GAN iterations train D alone, G waits
    # bookkeeping
    val_every: int = 100
    log_every: int = 10
    checkpoint_every: int = 100
    val_tile: int | None = None  # tile size for validation forwards (LR pixels); None = whole images
    seed: int = 0
    device: str = "auto"  # auto, cpu or cuda
    precision: str = "fp32"  # fp32, bf16 (CUDA, or a CPU with native bf16), fp16 (CUDA only) or auto (bf16 where fast)
    threads: int | None = None  # torch CPU threads per process
    ddp_timeout_s: int = 300  # a collective waiting longer than this ends the run
    # generator.pt: "fp32" keeps the raw and the EMA weights; "ema-fp16" the EMA weights alone in fp16, a quarter
    # of the size (how the course commits its 23-block networks: 33 MB instead of 134)
    generator_file: str = "fp32"

    def __post_init__(self) -> None:
        for name in ("betas", "milestones"):  # JSON gives lists; a string would become a tuple of characters
            if not isinstance(getattr(self, name), (list, tuple)):
                raise ValueError(f"config field {name} must be a list of numbers, got {getattr(self, name)!r}")
        self.betas = tuple(self.betas)  # type: ignore[assignment]  # _check_types names a wrong length or kind
        if isinstance(self.d_augment, bool):
            self.d_augment = ",".join(AUGMENTATIONS) if self.d_augment else ""
        if isinstance(self.match_means, bool):
            self.match_means = ",".join(MATCHED_TERMS) if self.match_means else ""
        self.milestones = tuple(self.milestones)
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {self.stage!r}")
        if self.stage == "gan" and self.patch_size % 32:
            raise ValueError(f"GAN stage: patch_size {self.patch_size} must be a multiple of 32 (discriminator)")
        if self.patch_size % self.scale:
            raise ValueError(f"patch_size {self.patch_size} must be a multiple of scale {self.scale}")
        if self.precision not in ("fp32", "bf16", "fp16", "auto"):
            raise ValueError(f"precision must be fp32, bf16, fp16 or auto, got {self.precision!r}")
        self._check_types()
        for name, allowed in (("d_augment", AUGMENTATIONS), ("match_means", MATCHED_TERMS)):
            unknown = set(listed(getattr(self, name))) - set(allowed)
            if unknown:
                raise ValueError(f"{name}: unknown {', '.join(sorted(unknown))}; choose from {', '.join(allowed)}")
        for name in ("iterations", "batch_size", "val_every", "log_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.generator_file not in ("fp32", "ema-fp16"):
            raise ValueError(f"generator_file must be fp32 or ema-fp16, got {self.generator_file!r}")
        if self.generator_file == "ema-fp16" and self.ema_decay <= 0:
            raise ValueError("generator_file ema-fp16 keeps the EMA weights alone: it needs ema_decay > 0")
        if self.d_warmup < 0:
            raise ValueError(f"d_warmup must be >= 0, got {self.d_warmup}")

    def _check_types(self) -> None:
        """A value of the wrong kind (``--set batch_size=eight``) is named here, not deep inside a run."""
        for name, hint in typing.get_type_hints(TrainConfig).items():
            value = getattr(self, name)
            allowed = _kinds(hint) + ((int,) if float in _kinds(hint) else ())
            if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
                kinds = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
                raise ValueError(f"config field {name} must be {kinds}, got {value!r}")
            if isinstance(value, tuple) and not all(_admits(_element_kinds(hint), v) for v in value):
                kinds = " or ".join(t.__name__ for t in _element_kinds(hint))
                raise ValueError(f"config field {name} must be a list of {kinds}, got {list(value)!r}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        values = json.loads(text)
        for old, new in RENAMED.items():  # config files written before the rename
            if old in values:
                values[new] = values.pop(old)
        check_field_names(values)
        return cls(**values)


def listed(text: str) -> list[str]:
    """The names of a comma-separated config field (``d_augment``, ``match_means``): "" is none."""
    return [name for name in text.split(",") if name]


def _element_kinds(hint) -> tuple[type, ...]:
    """What the elements of a tuple hint admit: ``tuple[int, ...]`` -> (int,)."""
    return tuple(dict.fromkeys(arg for arg in typing.get_args(hint) if arg is not Ellipsis))


def _admits(kinds: tuple[type, ...], value: object) -> bool:
    """Whether ``value`` is of one of ``kinds`` (an int where a float is asked for; never a bool for a number)."""
    allowed = kinds + ((int,) if float in kinds else ())
    return isinstance(value, allowed) and (bool in allowed or not isinstance(value, bool))


def _kinds(hint) -> tuple[type, ...]:
    """The classes a type hint admits: ``str | None`` -> (str, NoneType), ``tuple[int, ...]`` -> (tuple,)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(kind for arg in typing.get_args(hint) for kind in _kinds(arg))
    return (typing.get_origin(hint) or hint,)


# the folders `srlib prepare df2k` / `srlib prepare benchmarks` build (SRLIB_DATASETS moves them)
_PAPER_DATA = {"train_dir": f"{DATASETS}/DF2K/HR_sub", "train_lr_dir": f"{DATASETS}/DF2K/LR_sub_x4",
               "val_dir": f"{DATASETS}/benchmarks/Set14/x4/HR", "val_lr_dir": f"{DATASETS}/benchmarks/Set14/x4/LR"}
_PRESETS: dict[str, dict[str, dict]] = {
    "quick": {
        "common": {"model": "rrdbnet_small", "patch_size": 64, "batch_size": 8, "dataset_repeat": 40,
                   "val_every": 100, "checkpoint_every": 100, "log_every": 10},
        # 5x the paper's rate: 300 steps, not 1M
        "psnr": {"iterations": 300, "learning_rate": 1e-3, "milestones": (200,)},
        "gan": {"iterations": 100, "learning_rate": 1e-4, "d_learning_rate": 1e-4, "milestones": (), "d_num_feat": 32,
                "val_every": 50,
                "checkpoint_every": 50, "ema_decay": 0.999},
    },
    "course": {
        "common": {"model": "rrdbnet_small", "patch_size": 64, "batch_size": 8, "dataset_repeat": 40,
                   "val_every": 500, "checkpoint_every": 500, "log_every": 50},
        "psnr": {"iterations": 12_000, "learning_rate": 5e-4, "milestones": (6_000, 9_000)},
        # a smaller, slower discriminator that sees augmented images: on seven photos a full one memorises
        # them within ~100 steps (d loss 0.015 at step 125 without augmentation). Even so it wins by ~1,000
        # steps, and from there validation NIQE climbs back (7.25 at 1,000, 8.44 at 2,250): stop at 1,000
        "gan": {"iterations": 1_000, "learning_rate": 1e-4, "d_learning_rate": 5e-5, "d_num_feat": 32,
                "d_augment": "colour,translation,cutout", "milestones": (), "val_every": 250, "checkpoint_every": 250,
                "log_every": 25},
    },
    # ESRGAN's full RRDBNet-23 fine-tuned on the bundled photos from Real-ESRGAN's released GAN network (a CPU
    # cannot pre-train 16.7M parameters from scratch): bf16 where the CPU has it natively, whole-run schedules
    # of a few hundred steps at the fine-tuning rate 1e-4
    "course-rrdb": {
        "common": {"model": "rrdbnet", "init_from": "realesrgan-x4plus", "batch_size": 4, "dataset_repeat": 40,
                   "precision": "auto", "val_tile": 64, "log_every": 10, "checkpoint_every": 50,
                   "generator_file": "ema-fp16"},
        # the PSNR endpoint: L1 alone at patch 128 (ESRGAN's pre-training loss), which undoes the released
        # network's training on blurred, noisy, JPEG inputs in favour of bicubic ones
        "psnr": {"patch_size": 128, "iterations": 1_200, "learning_rate": 1e-4, "milestones": (800,),
                 "val_every": 200},
        # Eq. 1 with the paper's Mix pixel term at patch 192 (so the Mix term's MS-SSIM fits and D takes 192, as
        # in the paper); D warms up for 100 steps before G moves and sees translated and cut-out images (not
        # recoloured); the texture terms see the output with HR's channel means (match_means)
        "gan": {"patch_size": 192, "iterations": 500, "d_warmup": 100, "learning_rate": 1e-4,
                "d_learning_rate": 1e-4, "pixel_loss": "mix", "d_augment": "translation,cutout",
                "match_means": "perceptual,adversarial", "milestones": (), "val_every": 100},
    },
    "esrgan": {
        "common": {"model": "rrdbnet", "patch_size": 128, "batch_size": 16, "num_workers": 6,
                   "val_every": 5000, "checkpoint_every": 5000, "log_every": 100, "val_tile": 128,
                   **_PAPER_DATA, "precision": "auto"},
        "psnr": {"iterations": 1_000_000, "learning_rate": 2e-4, "milestones": (200_000, 400_000, 600_000, 800_000)},
        "gan": {"iterations": 400_000, "learning_rate": 1e-4, "d_learning_rate": 1e-4,
                "milestones": (50_000, 100_000, 200_000, 300_000),
                "perceptual": "vgg19"},
    },
    "paper": {
        "common": {"model": "rrdbnet", "patch_size": 192, "batch_size": 16, "num_workers": 6,
                   "val_every": 5000, "checkpoint_every": 5000, "log_every": 100, "val_tile": 128,
                   **_PAPER_DATA, "precision": "auto"},
        "psnr": {"iterations": 1_000_000, "learning_rate": 2e-4, "milestones": (200_000, 400_000, 600_000, 800_000),
                 "pixel_loss": "mix"},
        "gan": {"iterations": 400_000, "learning_rate": 1e-4, "d_learning_rate": 1e-4,
                "milestones": (50_000, 100_000, 200_000, 300_000),
                "perceptual": "vgg19"},
    },
    "srgan": {
        "common": {"model": "srresnet", "patch_size": 96, "batch_size": 16, "num_workers": 6, "ema_decay": 0.0,
                   "val_every": 5000, "checkpoint_every": 5000, "log_every": 100, "val_tile": 128,
                   **_PAPER_DATA},
        "psnr": {"iterations": 1_000_000, "learning_rate": 1e-4, "pixel_loss": "l2"},
        "gan": {"iterations": 200_000, "learning_rate": 1e-4, "d_learning_rate": 1e-4, "milestones": (100_000,),
                "gamma": 0.1,
                "gan_type": "gan", "perceptual": "vgg19", "gan_weight": 1e-3, "pixel_weight": 0.0},
    },
}
PRESETS = tuple(_PRESETS)


def preset(name: str, stage: str, **overrides) -> TrainConfig:
    """The config of preset ``name`` for ``stage`` with ``overrides`` applied (unknown names raise)."""
    if name not in _PRESETS:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    check_field_names(overrides)
    values = {**_PRESETS[name]["common"], **_PRESETS[name][stage], **overrides, "stage": stage}
    return TrainConfig(**values)


def overridden(config: TrainConfig, overrides: dict) -> TrainConfig:
    """``config`` with ``overrides`` applied (unknown names raise, naming the known ones)."""
    check_field_names(overrides)
    return dataclasses.replace(config, **overrides)


def check_field_names(values: dict) -> None:
    """Raise a ValueError that lists the known fields when ``values`` names an unknown one."""
    known = [f.name for f in dataclasses.fields(TrainConfig)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown config fields: {', '.join(unknown)} (known fields: {', '.join(known)})")


def parse_override(text: str) -> tuple[str, object]:
    """``"batch_size=8"`` -> ("batch_size", 8); values are JSON (strings may be bare)."""
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"--set expects name=value, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value
