"""The training loop, both stages in one: PSNR pre-training, then GAN fine-tuning. Taught in notebooks
04 and 05.

    srlib train --preset quick --stage psnr --set run_dir=runs/psnr
    python -m torch.distributed.run --standalone --nproc_per_node=2 -m srlib train --config cfg.json

:func:`train` reads top-down: :func:`build_run` makes the models, optimisers and losses;
:func:`restore` continues from ``checkpoint.pt`` (or :func:`start_afresh`); then every iteration is a
:func:`train_step` — a :func:`generator_step` (pixel loss; or the paper's Eq. 1 in the GAN stage), a
:func:`discriminator_step` in the GAN stage, and the EMA update — followed by :func:`report` (log,
validation) and :func:`save_run` (checkpoint) when they are due.

The data order is a pure function of (seed, iteration): a run resumed from a checkpoint draws the
same batches as one that never stopped, and on the CPU it ends with bit-identical weights. Under
torchrun each process takes its share of every global batch (a DistributedSampler per epoch), so
2 processes x batch 4 see the same samples as 1 process x batch 8.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .. import hardware
from ..data.dataset import PairedImageDataset
from ..data.image_io import check_headers
from ..losses import (
    GeneratorObjective,
    PerceptualLoss,
    gan_d_loss,
    gan_g_loss,
    pixel_loss,
    ragan_d_loss,
    ragan_g_loss,
    with_means_of,
)
from ..models.discriminator import VGGDiscriminator
from ..models.registry import build_model
from ..models.released import COURSE_WEIGHTS, PRETRAINED, load_pretrained
from ..models.trained import GENERATOR
from ..models.weights import CheckpointError, load_weights, read_state_dict
from ..paths import repo_path
from .augment import augment_for_discriminator
from .checkpoint import CHECKPOINT, check_resumable, load_checkpoint, rng_states, save_atomic, set_rng_states
from .config import TrainConfig, listed
from .distributed import ProcessGroup, join_process_group, leave_process_group, process_from_env
from .lock import run_lock
from .log import truncate_log, write_log
from .schedule import EMA, batch_schedule, batches_per_epoch, scheduled_learning_rate
from .validation import ValidationPair, bicubic_scores, image_files, validate, validation_pairs


@dataclass
class Adversary:
    """The GAN stage's extra parts: the discriminator, its optimiser and loss, and the generator's Eq. 1."""

    discriminator: nn.Module
    opt_d: torch.optim.Optimizer
    objective: GeneratorObjective  # Eq. 1: perceptual + adversarial + pixel
    d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class TrainingRun:
    """What one training process holds: the config, where it runs, the networks, their optimisers and losses."""

    config: TrainConfig
    group: ProcessGroup
    device: torch.device
    run_dir: Path
    generator: nn.Module
    ema: EMA | None
    opt_g: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    pixel: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    amp_dtype: torch.dtype  # bf16 autocast (CUDA or CPU), fp16 (CUDA) or fp32 (no autocast)
    adversary: Adversary | None  # the GAN stage's; None in pre-training

    @property
    def discriminator(self) -> nn.Module | None:
        return self.adversary.discriminator if self.adversary else None

    @property
    def eval_model(self) -> nn.Module:
        """The generator that is validated and saved: the EMA average when there is one."""
        return self.ema.model if self.ema is not None else self.generator

    def validate(self, val_pairs: list[ValidationPair]) -> dict[str, float]:
        """PSNR / SSIM of the validated generator; in the GAN stage also NIQE and D on held-out patches."""
        c = self.config
        return validate(self.eval_model, val_pairs, c.scale, self.device, c.val_tile, self.discriminator,
                        c.patch_size)

    def judged(self, images: torch.Tensor, hr: torch.Tensor | None = None) -> torch.Tensor:
        """What the discriminator sees of a batch: a generated batch, given its ``hr`` and with ``adversarial`` in
        ``match_means``, with HR's channel means (D judges texture, not overall colour); then augmented as
        ``d_augment`` says."""
        if hr is not None and "adversarial" in listed(self.config.match_means):
            images = with_means_of(images, hr)
        return augment_for_discriminator(images, self.config.d_augment)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)


def initial_weights(init_from: str) -> dict[str, torch.Tensor]:
    """The weights a run starts from: a named network (``realesrgan-x4plus``, ``course-psnr``, any
    :func:`srlib.load_pretrained` name), a run directory, or a weights file."""
    if init_from in PRETRAINED or init_from in COURSE_WEIGHTS:
        return load_pretrained(init_from).state_dict()
    source = repo_path(init_from)
    return read_state_dict(source / GENERATOR if source.is_dir() else source)


def build_run(config: TrainConfig, group: ProcessGroup, device: torch.device, run_dir: Path,
              resuming: bool) -> TrainingRun:
    """Networks, optimisers, AMP scaler and losses of ``config``, the same in every process."""
    torch.manual_seed(config.seed)  # every process draws the same initial weights: DDP needs identical replicas
    generator = build_model(config.model, scale=config.scale, **config.model_args).to(device)
    adversary = build_adversary(config, device) if config.stage == "gan" else None
    if device.type == "cuda":
        generator = generator.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs
    if config.init_from and not resuming:  # the GAN stage starts from the PSNR model (a resume has its own weights)
        load_weights(generator, initial_weights(config.init_from))
    ema = EMA(generator, config.ema_decay) if config.ema_decay > 0 else None
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.learning_rate, betas=config.betas)
    amp_dtype = hardware.precision_dtype(config.precision, device, training=True)
    # fp16 gradients underflow: the scaler multiplies the loss before backward and divides the gradients
    # before the step (skipping steps whose gradients overflowed). bf16 has fp32's range and needs none.
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    return TrainingRun(config, group, device, run_dir, generator, ema, opt_g, scaler,
                       pixel_loss(config.pixel_loss, config.mix_alpha), amp_dtype, adversary)


def build_adversary(config: TrainConfig, device: torch.device) -> Adversary:
    """The GAN stage's discriminator and optimiser, its loss, and the generator's objective (Eq. 1)."""
    discriminator = VGGDiscriminator(config.patch_size, num_feat=config.d_num_feat).to(device)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.d_learning_rate, betas=config.betas)
    perceptual = None
    if config.perceptual != "none":
        perceptual = PerceptualLoss(config.perceptual, config.perceptual_layer,
                                    match_means="perceptual" in listed(config.match_means))
        perceptual = perceptual.to(device)
    adversarial: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    if config.gan_type == "ragan":
        adversarial, d_loss = ragan_g_loss, ragan_d_loss
    else:  # SRGAN's standard GAN: the generator's loss ignores the real images
        adversarial, d_loss = (lambda real, fake: gan_g_loss(fake)), gan_d_loss
    objective = GeneratorObjective(pixel_loss(config.pixel_loss, config.mix_alpha), perceptual, config.gan_weight,
                                   config.pixel_weight, config.perceptual_weight, adversarial)
    return Adversary(discriminator, opt_d, objective, d_loss)


def restore(run: TrainingRun) -> int:
    """Load every piece of state ``checkpoint.pt`` holds, this process's random generators included;
    returns the iteration it was saved at."""
    path = run.run_dir / CHECKPOINT
    try:
        state = load_checkpoint(path, ("config", "iteration", "generator", "opt_g", "rng", "world_size"))
    except CheckpointError as err:
        raise CheckpointError(f"{err}; to start this run afresh instead, delete {path} or pass --no-resume") from err
    check_resumable(TrainConfig.from_json(state["config"]), run.config, run.group.world_size, state["world_size"],
                    path)
    run.generator.load_state_dict(state["generator"])
    run.opt_g.load_state_dict(state["opt_g"])
    if run.ema is not None:
        run.ema.model.load_state_dict(state["ema"])
        run.ema.updates = state["ema_updates"]
    if run.adversary is not None:
        run.adversary.discriminator.load_state_dict(state["discriminator"])
        run.adversary.opt_d.load_state_dict(state["opt_d"])
    run.scaler.load_state_dict(state["scaler"])
    set_rng_states(state["rng"][run.group.rank])
    if run.group.is_main:  # rows logged after the checkpoint by the run that stopped are logged again now
        truncate_log(run.run_dir, state["iteration"])
    return state["iteration"]


def start_afresh(run: TrainingRun) -> int:
    """Seed this process's own random stream (anything drawn during training) and clear old logs; returns 0."""
    torch.manual_seed(run.config.seed + run.group.rank)
    if run.group.is_main:
        for log in ("log.jsonl", "log.csv"):
            (run.run_dir / log).unlink(missing_ok=True)
    return 0


def set_learning_rates(run: TrainingRun, iteration: int) -> None:
    """Both optimisers follow the step schedule, computed from the iteration (so a resume needs no scheduler state)."""
    c = run.config
    optimisers = [(run.opt_g, c.learning_rate)]
    if run.adversary is not None:
        optimisers.append((run.adversary.opt_d, c.d_learning_rate))
    for opt, base in optimisers:
        for param_group in opt.param_groups:
            param_group["lr"] = scheduled_learning_rate(base, c.milestones, c.gamma, iteration)


def generator_step(run: TrainingRun, g_train: nn.Module, lr_img: torch.Tensor,
                   hr_img: torch.Tensor) -> tuple[torch.Tensor, dict]:
    """One update of the generator; returns its output (for the discriminator step) and the loss terms."""
    adversary = run.adversary
    if adversary is not None:
        # D judges G's output but must not learn from this backward pass: freezing it saves computing its gradients.
        adversary.discriminator.requires_grad_(False)
    parts: dict[str, torch.Tensor]
    with run.autocast():
        sr = g_train(lr_img)
        if adversary is not None:
            # The bare discriminator, not its DDP wrapper: this step must not synchronise D's gradients.
            # RaGAN asks "is the fake more real than the average real?": the real logits are constants here.
            real_logits = adversary.discriminator(run.judged(hr_img)).detach()
            fake_logits = adversary.discriminator(run.judged(sr, hr_img))
            # Eq. 1: L_G = L_percep + lambda L_G^Ra + eta L_pix, computed in fp32 whatever the autocast
            loss, parts = adversary.objective(sr.float(), hr_img, real_logits.float(), fake_logits.float())
        else:
            loss = run.pixel(sr.float(), hr_img)
            parts = {"pixel": loss.detach()}
    run.opt_g.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    run.scaler.step(run.opt_g)
    return sr, parts


def discriminator_step(run: TrainingRun, adversary: Adversary, d_train: nn.Module, hr_img: torch.Tensor,
                       sr: torch.Tensor) -> dict:
    """One update of the discriminator on real HR patches and the generator's (detached) output."""
    adversary.discriminator.requires_grad_(True)
    with run.autocast():
        real_logits = d_train(run.judged(hr_img)).float()
        fake_logits = d_train(run.judged(sr.detach(), hr_img)).float()  # detached: D's loss must not reach G
        loss = adversary.d_loss(real_logits, fake_logits)
    adversary.opt_d.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    run.scaler.step(adversary.opt_d)
    with torch.no_grad():  # how sure D is, relativistically: 0.5 = cannot tell, 1 = always right
        return {"d": loss.detach(),
                "d_real": torch.sigmoid(real_logits - fake_logits.mean()).mean(),
                "d_fake": torch.sigmoid(fake_logits - real_logits.mean()).mean()}


def train_step(run: TrainingRun, g_train: nn.Module, d_train: nn.Module | None, batch: dict,
               iteration: int) -> dict[str, float]:
    """Iteration ``iteration`` (from 1): G step, D step (GAN stage), EMA; returns the losses averaged over processes."""
    lr_img = batch["lr"].to(run.device, non_blocking=True)
    hr_img = batch["hr"].to(run.device, non_blocking=True)
    set_learning_rates(run, iteration - 1)
    # A fresh discriminator's first verdicts are noise; the generator learns from D only once D has seen
    # the real photos beside G's output for d_warmup steps (the EMA waits too: G does not move meanwhile).
    warming_up = run.adversary is not None and iteration <= run.config.d_warmup
    parts: dict[str, torch.Tensor]
    if warming_up:
        with torch.no_grad(), run.autocast():
            sr, parts = g_train(lr_img), {}
    else:
        sr, parts = generator_step(run, g_train, lr_img, hr_img)
    if run.adversary is not None:
        parts |= discriminator_step(run, run.adversary, d_train or run.adversary.discriminator, hr_img, sr)
    run.scaler.update()
    if run.ema is not None and not warming_up:
        run.ema.update(run.generator)
    names = list(parts)
    values = run.group.mean(torch.stack([torch.as_tensor(parts[k], dtype=torch.float32, device=run.device)
                                         for k in names]))
    losses = dict(zip(names, values.tolist(), strict=True))
    bad = [k for k, v in losses.items() if not math.isfinite(v)]
    if bad:  # every process sees the same averaged losses, so all of them stop here together
        leave_process_group()
        path = run.run_dir / CHECKPOINT
        raise FloatingPointError(f"{run.config.stage} stage: loss {bad[0]!r} became {losses[bad[0]]} at iteration "
                                 f"{iteration}; the last good checkpoint is {path if path.exists() else 'none'}")
    return losses


def report(run: TrainingRun, record: dict, val_pairs: list[ValidationPair], validating: bool,
           callback: Callable[[dict], None] | None) -> None:
    """Rank 0 alone validates and writes the log: the other ranks hold the same weights (DDP keeps them equal)."""
    if not run.group.is_main:
        return
    if validating:
        record |= run.validate(val_pairs)
    write_log(run.run_dir, record)
    if callback is not None:
        callback(record)


@torch.no_grad()
def check_healthy(run: TrainingRun, lr_patch: torch.Tensor, iteration: int) -> None:
    """Refuse to checkpoint weights that are no longer finite, or that turn a training patch into NaN or inf
    (a finite loss does not prove it: the step after it may have blown the weights up)."""
    lr_patch = lr_patch.to(run.device)
    for name, model in (("generator", run.generator), ("EMA generator", run.eval_model)):
        finite = all(torch.isfinite(p).all() for p in model.parameters())
        if not finite or not torch.isfinite(model(lr_patch)).all():
            leave_process_group()
            path = run.run_dir / CHECKPOINT
            kept = f"{path} keeps its last good state" if path.exists() else "no checkpoint was written"
            raise FloatingPointError(f"{run.config.stage} stage: the {name}'s weights went bad at iteration "
                                     f"{iteration} (not finite, or NaN / inf output); {kept}")


def generator_file(run: TrainingRun) -> dict:
    """What ``generator.pt`` holds: the weights (raw and EMA; or, for ``ema-fp16``, the EMA ones alone in fp16) and
    what they are, so that `srlib upscale` builds the right network from this file alone."""
    weights = {"model": run.config.model, "model_args": run.config.model_args, "scale": run.config.scale}
    if run.config.generator_file == "ema-fp16":
        assert run.ema is not None  # TrainConfig refuses ema-fp16 without an EMA
        return weights | {"params_ema": {k: v.half() if v.is_floating_point() else v
                                         for k, v in run.ema.model.state_dict().items()}}
    weights["params"] = run.generator.state_dict()
    if run.ema is not None:
        weights["params_ema"] = run.ema.model.state_dict()
    return weights


def save_run(run: TrainingRun, iteration: int, per_epoch: int) -> None:
    """Write ``checkpoint.pt`` (all state, every process's random generators) and ``generator.pt``, atomically."""
    rngs = run.group.gather(rng_states())
    if run.group.is_main:
        epoch, batch = divmod(iteration, per_epoch)
        state = {"config": run.config.to_json(), "iteration": iteration, "world_size": run.group.world_size,
                 "data": {"epoch": epoch, "batch": batch, "batches_per_epoch": per_epoch},
                 "generator": run.generator.state_dict(), "opt_g": run.opt_g.state_dict(),
                 "scaler": run.scaler.state_dict(), "rng": rngs}
        if run.ema is not None:
            state |= {"ema": run.ema.model.state_dict(), "ema_updates": run.ema.updates}
        if run.adversary is not None:
            state |= {"discriminator": run.adversary.discriminator.state_dict(),
                      "opt_d": run.adversary.opt_d.state_dict()}
        save_atomic(state, run.run_dir / CHECKPOINT)
        # what the weights are, so that `srlib upscale` builds the right network from this file alone
        save_atomic(generator_file(run), run.run_dir / GENERATOR)
    run.group.barrier()  # no process runs ahead of a checkpoint that may be the one a resume starts from


def train(config: TrainConfig, callback: Callable[[dict], None] | None = None, resume: bool = True,
          progress: bool = True) -> Path:
    """Run ``config`` (continuing from ``run_dir/checkpoint.pt`` if ``resume``); returns the run directory.

    ``callback`` gets every log and validation record on rank 0 (e.g. :class:`srlib.notebook.LivePlot`).
    A finished run returns at once, so "train unless already trained" is one call.
    """
    group = process_from_env()
    device = hardware.pick_device(config.device, group.local_rank)
    join_process_group(group, device, config.ddp_timeout_s)
    if config.threads:
        torch.set_num_threads(config.threads)
    run_dir = repo_path(config.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    # rank 0 holds the folder for the whole run (it alone writes there); the other ranks follow it
    with run_lock(run_dir) if group.is_main else contextlib.nullcontext():
        if group.is_main:  # half-written checkpoints of a run killed while saving: nobody else writes here now
            for stale in run_dir.glob(".*.tmp"):
                stale.unlink()
        run_training(config, group, device, run_dir, resume, callback, progress)
    leave_process_group(wait_for_all=True)
    return run_dir


def run_training(config: TrainConfig, group: ProcessGroup, device: torch.device, run_dir: Path, resume: bool,
                 callback: Callable[[dict], None] | None, progress: bool) -> None:
    """Build or restore the run in ``run_dir``, log its starting point, then train to ``config.iterations``."""
    resuming = resume and (run_dir / CHECKPOINT).exists()
    train_files = image_files(config.train_dir, "train")
    check_headers(train_files)  # a corrupt file is found now, not hours in when it is first drawn
    run = build_run(config, group, device, run_dir, resuming)
    train_set = PairedImageDataset(train_files, config.scale, config.patch_size,
                                   lr_dir=repo_path(config.train_lr_dir), seed=config.seed,
                                   repeat=config.dataset_repeat)
    per_epoch = batches_per_epoch(len(train_set), config.batch_size, group.world_size)
    start = restore(run) if resuming else start_afresh(run)
    if group.is_main:
        (run_dir / "config.json").write_text(config.to_json())
    val_pairs = validation_pairs(config) if group.is_main else []
    if group.is_main and progress:
        precision = {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(run.amp_dtype, "fp32")
        print(f"{config.stage} stage on {device}, {precision} (asked: {config.precision}): {hardware.describe()}",
              flush=True)
        if run.amp_dtype == torch.bfloat16 and device.type == "cpu" and not hardware.native_cpu_bf16():
            print("note: this CPU has no native bf16: bf16 is emulated and far slower than fp32 here", flush=True)
    if group.is_main and start == 0:  # the starting point: bicubic and the untrained (or init_from) generator
        gan = run.adversary is not None
        write_log(run_dir, {"iteration": 0, **bicubic_scores(val_pairs, config.scale, with_niqe=gan),
                            **run.validate(val_pairs)})
    if start < config.iterations:
        run_iterations(run, train_set, per_epoch, start, val_pairs, callback, progress)


def run_iterations(run: TrainingRun, train_set: PairedImageDataset, per_epoch: int, start: int,
                   val_pairs: list[ValidationPair], callback: Callable[[dict], None] | None, progress: bool) -> None:
    """Iterations ``start + 1`` to ``config.iterations``, logging, validating and checkpointing as configured."""
    config, group = run.config, run.group
    # DDP averages the gradients of its wrapped module across processes during backward
    g_train = DistributedDataParallel(run.generator) if group.distributed else run.generator
    d_train = run.discriminator
    if d_train is not None and group.distributed:
        d_train = DistributedDataParallel(d_train)
    loader = DataLoader(train_set, batch_sampler=batch_schedule(len(train_set), config.batch_size, group,
                                                                config.seed, start),
                        num_workers=config.num_workers, pin_memory=run.device.type == "cuda",
                        generator=torch.Generator().manual_seed(config.seed))  # not the global stream
    batches = iter(loader)
    run.generator.train()
    bar = tqdm(total=config.iterations, initial=start, desc=f"{config.stage} stage",
               disable=not (progress and group.is_main), mininterval=1.0, dynamic_ncols=True)
    tick, samples = time.perf_counter(), 0
    for iteration in range(start + 1, config.iterations + 1):
        batch = next(batches)
        batch_probe = batch["lr"][:1]
        losses = train_step(run, g_train, d_train, batch, iteration)
        samples += config.batch_size * group.world_size
        bar.update()
        bar.set_postfix({k: f"{v:.4g}" for k, v in losses.items() if k in ("pixel", "perceptual", "gan", "d")})
        validating = iteration % config.val_every == 0 or iteration == config.iterations
        if validating or iteration % config.log_every == 0:
            record = {"iteration": iteration, "epoch": (iteration - 1) // per_epoch,
                      "learning_rate": run.opt_g.param_groups[0]["lr"], **losses,
                      "samples_per_s": samples / (time.perf_counter() - tick)}
            report(run, record, val_pairs, validating, callback)
            tick, samples = time.perf_counter(), 0
        if iteration % config.checkpoint_every == 0 or iteration == config.iterations:
            check_healthy(run, batch_probe, iteration)
            save_run(run, iteration, per_epoch)
    bar.close()
