"""Training, both stages in one loop: PSNR pre-training, then GAN fine-tuning.

    python -m srlib.train --preset quick --stage psnr --set run_dir=runs/psnr
    python -m torch.distributed.run --standalone --nproc_per_node=2 -m srlib.train --config cfg.json

Each step draws one batch per process, takes a generator step (pixel loss; or perceptual +
adversarial + pixel loss, Eq. 1) and, in the GAN stage, a discriminator step, then updates the EMA
generator. Every ``log_every`` steps a record goes to ``log.jsonl`` / ``log.csv``; every
``val_every`` steps the EMA generator is scored on the validation images (PSNR / SSIM, Y channel,
crop = scale); every ``checkpoint_every`` steps ``checkpoint.pt`` is replaced atomically.

The data order is a pure function of (seed, iteration): a run resumed from a checkpoint draws the
same batches as one that never stopped, and on the CPU it ends with bit-identical weights. Under
torchrun each process takes its share of every global batch (a DistributedSampler per epoch), so
2 processes x batch 4 see the same samples as 1 process x batch 8.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

from .checkpoint import load_checkpoint, rng_states, save_atomic, set_rng_states
from .dataset import PairedImageDataset
from .discriminator import VGGDiscriminator
from .distributed import ProcessGroup, join_process_group, leave_process_group, process_from_env
from .image_io import list_images, tensor_to_image
from .inference import tiled_forward
from .losses import (GeneratorObjective, MixLoss, PerceptualLoss, charbonnier_loss, gan_d_loss, gan_g_loss, l1_loss,
                     l2_loss, ragan_d_loss, ragan_g_loss)
from .metrics import protocol_for, scores
from .models import build_model
from .paths import REPO_ROOT
from .resize import imresize
from .samples import sample_split
from .train_config import PRESETS, STAGES, TrainConfig, parse_override, preset, resolve_path
from .weights import CheckpointError, load_weights

CHECKPOINT = "checkpoint.pt"
GENERATOR = "generator.pt"
# fields that may differ between a checkpoint's run and the run that resumes it
RESUMABLE_CHANGES = {"iterations", "run_dir", "val_every", "log_every", "checkpoint_every", "num_workers", "device",
                     "threads", "ddp_timeout_s", "val_tile", "train_dir", "train_lr_dir", "val_dir", "val_lr_dir"}


def pixel_loss(name: str, mix_alpha: float = 0.84) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The pixel loss called ``name`` in a config."""
    losses = {"l1": l1_loss, "l2": l2_loss, "charbonnier": charbonnier_loss}
    if name == "mix":
        return MixLoss(mix_alpha)
    if name not in losses:
        raise ValueError(f"unknown pixel loss {name!r}: use l1, l2, charbonnier or mix")
    return losses[name]


def learning_rate(base: float, milestones: tuple[int, ...], gamma: float, iteration: int) -> float:
    """The step schedule: ``base * gamma**k`` after ``k`` milestones (a pure function of the iteration)."""
    return base * gamma ** sum(iteration >= m for m in milestones)


class EMA:
    """Exponential moving average of a model's weights (decay warmed up as ``(1 + n) / (10 + n)``,
    so short runs are not dominated by the initial weights)."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay, self.updates = decay, 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        self.updates += 1
        for mine, theirs in zip(self.model.parameters(), model.parameters()):
            mine.lerp_(theirs, 1 - decay)
        for mine, theirs in zip(self.model.buffers(), model.buffers()):
            mine.copy_(theirs)


def batch_schedule(num_samples: int, batch_size: int, group: ProcessGroup, seed: int,
                   start_iteration: int) -> Iterator[list[tuple[int, int]]]:
    """This process's batches of ``(epoch, index)`` from ``start_iteration`` on, forever.

    Epoch ``e`` is a DistributedSampler permutation seeded with ``seed + e``; a global batch is
    ``batch_size x world_size`` consecutive samples of it, dealt round-robin to the processes.
    """
    per_epoch = batches_per_epoch(num_samples, batch_size, group.world_size)
    epoch, first = divmod(start_iteration, per_epoch)
    while True:
        sampler = DistributedSampler(range(num_samples), num_replicas=group.world_size, rank=group.rank,
                                     shuffle=True, seed=seed, drop_last=True)
        sampler.set_epoch(epoch)
        mine = list(sampler)
        for b in range(first, per_epoch):
            yield [(epoch, i) for i in mine[b * batch_size:(b + 1) * batch_size]]
        epoch, first = epoch + 1, 0


def batches_per_epoch(num_samples: int, batch_size: int, world_size: int) -> int:
    per_epoch = num_samples // (batch_size * world_size)
    if per_epoch == 0:
        raise ValueError(f"{num_samples} training samples are fewer than one global batch "
                         f"({batch_size} x {world_size} processes); raise dataset_repeat")
    return per_epoch


def image_files(folder: str | None, split: str) -> list[Path]:
    """HR images of a config folder (relative to the repository), or the bundled photos' ``split`` when None."""
    if folder is None:
        return sample_split()[split]
    path = resolve_path(folder, REPO_ROOT)
    if not path.is_dir():
        raise FileNotFoundError(f"{split} folder not found: {path} (see notebook 01 / `python -m srlib download`)")
    return list_images(path)


def validation_pairs(config: TrainConfig) -> list[tuple[str, torch.Tensor, np.ndarray]]:
    """(name, LR tensor (1, 3, h, w), HR uint8 image) for every validation image."""
    data = PairedImageDataset(image_files(config.val_dir, "val"), config.scale, None, lr_dir=resolve_path(config.val_lr_dir, REPO_ROOT),
                              augment=False)
    items = (data[i] for i in range(len(data)))
    return [(item["name"], item["lr"][None], tensor_to_image(item["hr"])) for item in items]


@torch.no_grad()
def validate(model: nn.Module, pairs, scale: int, device: torch.device, tile: int | None = None) -> dict[str, float]:
    """Mean PSNR and SSIM (Y channel, crop = scale) of ``model`` on the validation pairs."""
    was_training = model.training
    model.eval()
    protocol = protocol_for(scale)
    rows = []
    for _, lr, hr in pairs:
        lr = lr.to(device)
        sr = tiled_forward(model, lr, scale, tile) if tile else model(lr)
        rows.append(scores(tensor_to_image(sr.float().clamp(0, 1).cpu()), hr, protocol))
    model.train(was_training)
    return _mean_psnr_ssim(rows, "val")


def bicubic_scores(pairs, scale: int) -> dict[str, float]:
    """What MATLAB bicubic scores on the validation pairs (the line to beat)."""
    protocol = protocol_for(scale)
    return _mean_psnr_ssim([scores(tensor_to_image(imresize(lr, scale).clamp(0, 1)), hr, protocol)
                            for _, lr, hr in pairs], "bicubic")


def _mean_psnr_ssim(rows: list[dict], prefix: str) -> dict[str, float]:
    return {f"{prefix}_{k}_y": float(np.mean([r[k] for r in rows])) for k in ("psnr", "ssim")}


def _pick_device(name: str, local_rank: int) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' asked for, but no CUDA device is available")
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device(name)


def _write_log(run_dir: Path, record: dict) -> None:
    """Append ``record`` to ``log.jsonl`` and ``log.csv``; the CSV is rewritten only when a new column appears."""
    with open(run_dir / "log.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")
    csv_path = run_dir / "log.csv"
    columns = []
    if csv_path.exists():
        with open(csv_path) as f:
            columns = f.readline().rstrip("\n").split(",")
    if set(record) <= set(columns):
        with open(csv_path, "a") as f:
            f.write(_csv_row(record, columns))
        return
    records = read_log(run_dir)
    columns = list(dict.fromkeys(k for r in records for k in r))
    csv_path.write_text(",".join(columns) + "\n" + "".join(_csv_row(r, columns) for r in records))


def _csv_row(record: dict, columns: list[str]) -> str:
    return ",".join("" if record.get(c) is None else str(record[c]) for c in columns) + "\n"


def read_log(run_dir: str | Path) -> list[dict]:
    """The records of a run's ``log.jsonl`` (empty before the first)."""
    path = Path(run_dir) / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line] if path.exists() else []


def _check_resumable(saved: TrainConfig, config: TrainConfig, world_size: int, saved_world: int, path: Path) -> None:
    differ = [f.name for f in dataclasses.fields(TrainConfig)
              if f.name not in RESUMABLE_CHANGES and getattr(saved, f.name) != getattr(config, f.name)]
    if world_size != saved_world:
        differ.append(f"world size ({saved_world} -> {world_size})")
    if differ:
        raise CheckpointError(f"{path} was written by a different run: {', '.join(differ)} differ; "
                              "use another run_dir or the same settings")


def train(config: TrainConfig, callback: Callable[[dict], None] | None = None, resume: bool = True,
          progress: bool = True) -> Path:
    """Run ``config`` (continuing from ``run_dir/checkpoint.pt`` if ``resume``); returns the run directory.

    ``callback`` gets every log and validation record on rank 0 (e.g. :class:`srlib.plots.LivePlot`).
    A finished run returns at once, so "train unless already trained" is one call.
    """
    group = process_from_env()
    device = _pick_device(config.device, group.local_rank)
    join_process_group(group, device, config.ddp_timeout_s)
    if config.threads:
        torch.set_num_threads(config.threads)
    run_dir = resolve_path(config.run_dir, REPO_ROOT)
    run_dir.mkdir(parents=True, exist_ok=True)
    gan = config.stage == "gan"
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(config.precision) if device.type == "cuda" else None

    # models, identical on every process
    torch.manual_seed(config.seed)
    generator = build_model(config.model, scale=config.scale, **config.model_args).to(device)
    discriminator = VGGDiscriminator(config.patch_size, num_feat=config.d_num_feat).to(device) if gan else None
    if device.type == "cuda":
        generator = generator.to(memory_format=torch.channels_last)
    resuming = resume and (run_dir / CHECKPOINT).exists()
    if config.init_from and not resuming:
        source = resolve_path(config.init_from, REPO_ROOT)
        load_weights(generator, source / GENERATOR if source.is_dir() else source)
    ema = EMA(generator, config.ema_decay) if config.ema_decay > 0 else None
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=config.betas)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.d_lr, betas=config.betas) if gan else None
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)

    # losses
    pixel = pixel_loss(config.pixel_loss, config.mix_alpha)
    if gan:
        perceptual = None if config.perceptual == "none" else PerceptualLoss(config.perceptual, config.perceptual_layer).to(device)
        adversarial = ragan_g_loss if config.gan_type == "ragan" else (lambda real, fake: gan_g_loss(fake))
        d_loss_fn = ragan_d_loss if config.gan_type == "ragan" else gan_d_loss
        objective = GeneratorObjective(pixel, perceptual, config.gan_weight, config.pixel_weight,
                                       config.perceptual_weight, adversarial)

    # data
    train_set = PairedImageDataset(image_files(config.train_dir, "train"), config.scale, config.patch_size,
                                   lr_dir=resolve_path(config.train_lr_dir, REPO_ROOT), seed=config.seed, repeat=config.dataset_repeat)
    per_epoch = batches_per_epoch(len(train_set), config.batch_size, group.world_size)

    # resume
    start, path = 0, run_dir / CHECKPOINT
    if resuming:
        state = load_checkpoint(path, ("config", "iteration", "generator", "opt_g", "rng", "world_size"))
        _check_resumable(TrainConfig.from_json(state["config"]), config, group.world_size, state["world_size"], path)
        generator.load_state_dict(state["generator"])
        opt_g.load_state_dict(state["opt_g"])
        if ema is not None:
            ema.model.load_state_dict(state["ema"])
            ema.updates = state["ema_updates"]
        if gan:
            discriminator.load_state_dict(state["discriminator"])
            opt_d.load_state_dict(state["opt_d"])
        scaler.load_state_dict(state["scaler"])
        set_rng_states(state["rng"][group.rank])
        start = state["iteration"]
    else:
        torch.manual_seed(config.seed + group.rank)  # per-process streams for anything drawn during training
        if group.is_main:
            for log in ("log.jsonl", "log.csv"):
                (run_dir / log).unlink(missing_ok=True)
    if group.is_main:
        (run_dir / "config.json").write_text(config.to_json())

    val_pairs = validation_pairs(config) if group.is_main else []
    if group.is_main and start == 0:
        _write_log(run_dir, {"iteration": 0, **bicubic_scores(val_pairs, config.scale),
                             **validate(_eval_model(generator, ema), val_pairs, config.scale, device, config.val_tile)})
    if start >= config.iterations:
        leave_process_group()
        return run_dir

    g_train = DistributedDataParallel(generator) if group.distributed else generator
    d_train = DistributedDataParallel(discriminator) if gan and group.distributed else discriminator
    loader = DataLoader(train_set, batch_sampler=batch_schedule(len(train_set), config.batch_size, group, config.seed,
                                                                start),
                        num_workers=config.num_workers, pin_memory=device.type == "cuda",
                        generator=torch.Generator().manual_seed(config.seed))  # not the global stream
    def autocast():  # mixed precision on CUDA when asked for; fp32 on the CPU
        return torch.autocast(device.type, dtype=amp_dtype) if amp_dtype else contextlib.nullcontext()

    generator.train()

    bar = tqdm(total=config.iterations, initial=start, desc=f"{config.stage} stage", disable=not (progress and group.is_main),
               mininterval=1.0, dynamic_ncols=True)
    tick, samples = time.perf_counter(), 0
    batches = iter(loader)
    for iteration in range(start + 1, config.iterations + 1):
        batch = next(batches)
        lr_img = batch["lr"].to(device, non_blocking=True)
        hr_img = batch["hr"].to(device, non_blocking=True)
        for opt, base in ((opt_g, config.lr), (opt_d, config.d_lr)):
            for group_ in opt.param_groups if opt else ():
                group_["lr"] = learning_rate(base, config.milestones, config.gamma, iteration - 1)

        # generator step
        if gan:
            discriminator.requires_grad_(False)
        with autocast():
            sr = g_train(lr_img)
            if gan:  # the bare discriminator: its gradients are not synchronised in the generator step
                real_logits = discriminator(hr_img).detach()
                fake_logits = discriminator(sr)
                loss_g, parts = objective(sr.float(), hr_img, real_logits.float(), fake_logits.float())
            else:
                loss_g = pixel(sr.float(), hr_img)
                parts = {"pixel": loss_g.detach()}
        opt_g.zero_grad(set_to_none=True)
        scaler.scale(loss_g).backward()
        scaler.step(opt_g)

        # discriminator step
        if gan:
            discriminator.requires_grad_(True)
            with autocast():
                real_logits = d_train(hr_img).float()
                fake_logits = d_train(sr.detach()).float()
                loss_d = d_loss_fn(real_logits, fake_logits)
            opt_d.zero_grad(set_to_none=True)
            scaler.scale(loss_d).backward()
            scaler.step(opt_d)
            with torch.no_grad():
                parts |= {"d": loss_d.detach(),
                          "d_real": torch.sigmoid(real_logits - fake_logits.mean()).mean(),
                          "d_fake": torch.sigmoid(fake_logits - real_logits.mean()).mean()}
        scaler.update()
        if ema is not None:
            ema.update(generator)

        names = list(parts)
        values = group.mean(torch.stack([torch.as_tensor(parts[k], dtype=torch.float32, device=device) for k in names]))
        losses = dict(zip(names, values.tolist()))
        bad = [k for k, v in losses.items() if not math.isfinite(v)]
        if bad:
            leave_process_group()
            raise FloatingPointError(f"{config.stage} stage: loss {bad[0]!r} became {losses[bad[0]]} at iteration "
                                     f"{iteration}; the last good checkpoint is {path if path.exists() else 'none'}")
        samples += len(lr_img) * group.world_size
        bar.update()
        bar.set_postfix({k: f"{v:.4g}" for k, v in losses.items() if k in ("pixel", "perceptual", "gan", "d")})

        validating = iteration % config.val_every == 0 or iteration == config.iterations
        if validating or iteration % config.log_every == 0:
            elapsed = time.perf_counter() - tick
            record = {"iteration": iteration, "epoch": (iteration - 1) // per_epoch, "lr": opt_g.param_groups[0]["lr"],
                      **losses, "samples_per_s": samples / elapsed}
            if group.is_main and validating:
                record |= validate(_eval_model(generator, ema), val_pairs, config.scale, device, config.val_tile)
            if group.is_main:
                _write_log(run_dir, record)
                if callback is not None:
                    callback(record)
            tick, samples = time.perf_counter(), 0
        if iteration % config.checkpoint_every == 0 or iteration == config.iterations:
            _save(run_dir, config, group, iteration, per_epoch, generator, ema, discriminator, opt_g, opt_d, scaler)
    bar.close()
    leave_process_group()
    return run_dir


def trained_generator(run_dir: str | Path, ema: bool = True) -> nn.Module:
    """The generator a run saved (its EMA weights unless ``ema=False``), built from the run's config, in eval mode."""
    run_dir = resolve_path(str(run_dir), REPO_ROOT)
    if not (run_dir / "config.json").is_file():
        raise CheckpointError(f"{run_dir} is not a training run (no config.json)")
    config = TrainConfig.from_json((run_dir / "config.json").read_text())
    model = build_model(config.model, scale=config.scale, **config.model_args)
    state = load_checkpoint(run_dir / GENERATOR, ("params",))
    load_weights(model, state["params_ema"] if ema and "params_ema" in state else state["params"])
    return model.eval()


def _eval_model(generator: nn.Module, ema: EMA | None) -> nn.Module:
    return ema.model if ema is not None else generator


def _save(run_dir: Path, config: TrainConfig, group: ProcessGroup, iteration: int, per_epoch: int, generator, ema,
          discriminator, opt_g, opt_d, scaler) -> None:
    rngs = group.gather(rng_states())
    if group.is_main:
        epoch, batch = divmod(iteration, per_epoch)
        state = {"config": config.to_json(), "iteration": iteration, "world_size": group.world_size,
                 "data": {"epoch": epoch, "batch": batch, "batches_per_epoch": per_epoch},
                 "generator": generator.state_dict(), "opt_g": opt_g.state_dict(), "scaler": scaler.state_dict(),
                 "rng": rngs}
        if ema is not None:
            state |= {"ema": ema.model.state_dict(), "ema_updates": ema.updates}
        if discriminator is not None:
            state |= {"discriminator": discriminator.state_dict(), "opt_d": opt_d.state_dict()}
        save_atomic(state, run_dir / CHECKPOINT)
        weights = {"params": generator.state_dict()} | ({"params_ema": ema.model.state_dict()} if ema else {})
        save_atomic(weights, run_dir / GENERATOR)
    group.barrier()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m srlib.train", description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=PRESETS, default="quick")
    parser.add_argument("--stage", choices=STAGES, default="psnr")
    parser.add_argument("--config", type=Path, help="a config JSON file (written by launch or saved with a run)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a config field")
    parser.add_argument("--no-resume", action="store_true", help="start afresh even if run_dir has a checkpoint")
    args = parser.parse_args(argv)
    overrides = dict(parse_override(text) for text in args.set)
    if args.config:
        config = dataclasses.replace(TrainConfig.from_json(args.config.read_text()), **overrides)
    else:
        config = preset(args.preset, args.stage, **overrides)
    run_dir = train(config, resume=not args.no_resume)
    if process_from_env().is_main:
        print(f"run directory: {run_dir.relative_to(REPO_ROOT) if run_dir.is_relative_to(REPO_ROOT) else run_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
