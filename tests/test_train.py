import dataclasses
import json
import math
import os
import signal
import subprocess
import sys

import pytest
import torch

import srlib.hardware
import srlib.training.checkpoint
import srlib.training.loop
from srlib.atomic import replace_atomically
from srlib.data import ImageReadError, read_image
from srlib.data.resize import imresize
from srlib.evaluation.metrics import pirm_niqe
from srlib.models import CheckpointError, read_state_dict
from srlib.paths import SAMPLE_DIR
from srlib.training import (
    CHECKPOINT,
    GENERATOR,
    PRESETS,
    TrainConfig,
    load_checkpoint,
    preset,
    read_log,
    save_atomic,
    train,
    trained_generator,
)
from srlib.training.config import parse_override
from srlib.training.distributed import ProcessGroup
from srlib.training.schedule import batch_schedule, scheduled_learning_rate
from srlib.training.validation import mean_niqe, naturalness
from tests.runs import tiny_config


def all_state(run_dir) -> dict[str, torch.Tensor]:
    state = load_checkpoint(run_dir / CHECKPOINT)
    flat = {}

    def walk(prefix, value):
        if isinstance(value, torch.Tensor):
            flat[prefix] = value
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}", v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{prefix}.{i}", v)

    for key in ("generator", "ema", "discriminator", "opt_g", "opt_d", "rng"):
        walk(key, state.get(key))
    return flat


def test_learning_rate_halves_at_each_milestone():
    assert [scheduled_learning_rate(1e-4, (2, 4), 0.5, i) for i in range(6)] == [1e-4, 1e-4, 5e-5, 5e-5, 2.5e-5, 2.5e-5]


def test_two_processes_share_out_the_single_process_batches():
    single = batch_schedule(24, 8, ProcessGroup(), seed=3, start_iteration=0)
    ranks = [batch_schedule(24, 4, ProcessGroup(r, r, 2), seed=3, start_iteration=0) for r in (0, 1)]
    for _ in range(7):  # across an epoch boundary (3 batches per epoch)
        whole = next(single)
        parts = [next(r) for r in ranks]
        assert sorted(parts[0] + parts[1]) == sorted(whole)
        assert not set(parts[0]) & set(parts[1])


def test_schedule_resumed_mid_epoch_continues_the_same_order():
    straight = batch_schedule(20, 3, ProcessGroup(), seed=0, start_iteration=0)
    expected = [next(straight) for _ in range(14)][5:]
    resumed = batch_schedule(20, 3, ProcessGroup(), seed=0, start_iteration=5)
    assert [next(resumed) for _ in range(9)] == expected


def test_too_few_samples_for_a_batch_is_a_clear_error():
    with pytest.raises(ValueError, match="dataset_repeat"):
        next(batch_schedule(6, 4, ProcessGroup(0, 0, 2), seed=0, start_iteration=0))


@pytest.mark.parametrize(("stage", "precision"), [("psnr", "fp32"), ("gan", "fp32"), ("psnr", "bf16"), ("gan", "bf16")])
def test_resume_is_bit_identical_to_an_uninterrupted_run(tiny_data, tmp_path, stage, precision):
    # the GAN stage with the discriminator's augmentation: its random draws must resume too; bf16 autocast
    # on the CPU as on a CPU with native bf16 (where it is fast; here it may be emulated, the result is the same)
    extra = {"perceptual": "efficientnet-lite0", "d_augment": True} if stage == "gan" else {}
    extra["precision"] = precision
    train(tiny_config(tiny_data, tmp_path / "straight", stage, iterations=6, **extra), progress=False)
    train(tiny_config(tiny_data, tmp_path / "resumed", stage, iterations=3, **extra), progress=False)
    assert load_checkpoint(tmp_path / "resumed" / CHECKPOINT)["iteration"] == 3
    train(tiny_config(tiny_data, tmp_path / "resumed", stage, iterations=6, **extra), progress=False)
    straight, resumed = all_state(tmp_path / "straight"), all_state(tmp_path / "resumed")
    assert straight.keys() == resumed.keys()
    assert any(k.startswith("discriminator") for k in straight) == (stage == "gan")
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key
    losses = [r for r in read_log(tmp_path / "straight") if "pixel" in r]
    assert [r["iteration"] for r in losses] == [1, 2, 3, 4, 5, 6]
    assert [r["pixel"] for r in read_log(tmp_path / "resumed") if "pixel" in r] == [r["pixel"] for r in losses]


def test_pretraining_learns_and_logs_validation_against_bicubic(tiny_data, tmp_path):
    run = train(tiny_config(tiny_data, tmp_path, iterations=30, val_every=30, checkpoint_every=30,
                            model_args={"num_feat": 16, "num_block": 1, "num_grow_ch": 8}, learning_rate=1e-3),
                progress=False)
    log = read_log(run)
    first, last = log[0], log[-1]
    assert first["iteration"] == 0 and "bicubic_psnr_y" in first
    assert last["val_psnr_y"] > first["val_psnr_y"] + 3  # a random network starts far below bicubic
    assert (run / "log.csv").read_text().splitlines()[0].startswith("iteration,")
    assert TrainConfig.from_json((run / "config.json").read_text()).iterations == 30
    weights = read_state_dict(run / GENERATOR)  # the EMA weights, as BasicSR's params_ema
    assert weights.keys() == load_checkpoint(run / CHECKPOINT)["ema"].keys()


def test_gan_stage_starts_from_the_pretrained_generator(tiny_data, tmp_path):
    pre = train(tiny_config(tiny_data, tmp_path / "psnr", iterations=2), progress=False)
    gan = tiny_config(tiny_data, tmp_path / "gan", "gan", iterations=1, init_from=str(pre))
    run = train(gan, progress=False)
    log = read_log(run)
    assert log[0]["val_psnr_y"] == pytest.approx(read_log(pre)[-1]["val_psnr_y"])  # same weights at iteration 0
    assert {"pixel", "gan", "d", "d_real", "d_fake", "total"} <= set(log[-1])
    assert 0 < log[-1]["d_real"] < 1 and 0 < log[-1]["d_fake"] < 1
    assert {"bicubic_niqe", "val_niqe", "val_d_real", "val_d_fake"} <= set(log[0])  # 48 px: NIQE is NaN here
    assert 0 < log[-1]["val_d_real"] < 1 and 0 < log[-1]["val_d_fake"] < 1
    rerun = read_log(train(gan, resume=False, progress=False))  # afresh in the same folder: from the PSNR model again
    assert rerun[0]["val_psnr_y"] == pytest.approx(log[0]["val_psnr_y"]) and len(rerun) == len(log)


class SharpnessJudge(torch.nn.Module):
    """A discriminator that calls sharper patches more real (its logit is the Laplacian energy)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        laplacian = x[..., 1:-1, 1:-1] * 4 - x[..., :-2, 1:-1] - x[..., 2:, 1:-1] - x[..., 1:-1, :-2] - x[..., 1:-1, 2:]
        return laplacian.square().mean(dim=(1, 2, 3))[:, None] * 1e4


def test_gan_validation_scores_naturalness_and_the_discriminator_on_held_out_patches():
    hr = read_image(SAMPLE_DIR / "astronaut.png")[:256, :200]
    bicubic = imresize(imresize(hr, 1 / 4), 4)
    scores = naturalness([bicubic], [hr], 4, SharpnessJudge(), 32, torch.device("cpu"))
    assert scores["val_niqe"] == pytest.approx(pirm_niqe(bicubic, 4))
    assert scores["val_d_real"] > 0.9 and scores["val_d_fake"] < 0.1  # real = HR, fake = the output
    assert mean_niqe([bicubic, hr[:64, :64]], 4) == scores["val_niqe"]  # too small for NIQE: left out
    assert math.isnan(mean_niqe([hr[:64, :64]], 4))
    small = naturalness([bicubic[:24, :24]], [hr[:24, :24]], 4, SharpnessJudge(), 32, torch.device("cpu"))
    assert math.isnan(small["val_d_real"]) and math.isnan(small["val_d_fake"])  # no 32 px patch: no D scores


def test_a_finished_run_returns_without_training(tiny_data, tmp_path):
    config = tiny_config(tiny_data, tmp_path, iterations=2)
    train(config, progress=False)
    before = (tmp_path / CHECKPOINT).stat().st_mtime_ns
    train(config, progress=False)
    assert (tmp_path / CHECKPOINT).stat().st_mtime_ns == before


def test_resuming_with_other_settings_names_them(tiny_data, tmp_path):
    train(tiny_config(tiny_data, tmp_path, iterations=2), progress=False)
    with pytest.raises(CheckpointError, match="batch_size"):
        train(tiny_config(tiny_data, tmp_path, iterations=4, batch_size=2), progress=False)


def test_truncated_checkpoint_is_a_clear_error(tiny_data, tmp_path):
    train(tiny_config(tiny_data, tmp_path, iterations=2), progress=False)
    data = (tmp_path / CHECKPOINT).read_bytes()
    (tmp_path / CHECKPOINT).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated.*start this run afresh.*--no-resume"):
        train(tiny_config(tiny_data, tmp_path, iterations=4), progress=False)


def test_missing_init_checkpoint_is_a_clear_error(tiny_data, tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        train(tiny_config(tiny_data, tmp_path, "gan", init_from=str(tmp_path / "nowhere.pt")), progress=False)


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tiny_data, tmp_path, monkeypatch):
    calls = 0

    def poisoned(name, alpha):
        def loss(sr, hr):
            nonlocal calls
            calls += 1
            value = (sr - hr).abs().mean()
            return value * math.nan if calls == 3 else value
        return loss

    monkeypatch.setattr(srlib.training.loop, "pixel_loss", poisoned)
    with pytest.raises(FloatingPointError, match=r"'pixel' became nan at iteration 3"):
        train(tiny_config(tiny_data, tmp_path, iterations=4), progress=False)
    assert load_checkpoint(tmp_path / CHECKPOINT)["iteration"] == 2


def test_a_kill_while_saving_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_atomic({"iteration": 1, "w": torch.ones(3)}, tmp_path / "c.pt")

    def dies_half_way(obj, f):
        f.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(srlib.training.checkpoint.torch, "save", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        save_atomic({"iteration": 2, "w": torch.zeros(3)}, path)
    assert load_checkpoint(path)["iteration"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


@pytest.fixture
def ctrl_c_raises():
    """Ctrl-C as in a terminal (raises KeyboardInterrupt), even where the tests run as a background job."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_torch_save_writes_waits_for_the_whole_file(tmp_path, ctrl_c_raises):
    import threading

    state = {f"w{i}": torch.randn(500, 1000) for i in range(40)}  # 80 MB: long enough to be caught writing
    writing = threading.Event()
    sender = threading.Thread(target=lambda: writing.wait() and os.kill(os.getpid(), signal.SIGINT))
    sender.start()

    def save(f):
        writing.set()
        torch.save(state, f)  # SIGINT lands in here (torch's writer would fail with "unexpected pos")

    with pytest.raises(KeyboardInterrupt):  # raised once the file is whole and in place
        replace_atomically(tmp_path / "c.pt", save)
    sender.join()
    assert torch.equal(load_checkpoint(tmp_path / "c.pt")["w39"], state["w39"])
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_checkpoint_without_training_state_is_refused(tmp_path):
    torch.save({"params": {"w": torch.ones(1)}}, tmp_path / "weights.pt")
    with pytest.raises(CheckpointError, match="lacks iteration"):
        load_checkpoint(tmp_path / "weights.pt", ("iteration",))


def test_presets():
    assert set(PRESETS) == {"quick", "course", "course-rrdb", "esrgan", "paper", "srgan"}
    paper = preset("paper", "gan")
    assert (paper.model, paper.patch_size, paper.batch_size, paper.gan_type) == ("rrdbnet", 192, 16, "ragan")
    assert preset("paper", "psnr").pixel_loss == "mix"
    esrgan = preset("esrgan", "gan")
    assert (esrgan.patch_size, esrgan.milestones) == (128, (50_000, 100_000, 200_000, 300_000))
    assert esrgan.learning_rate == 1e-4
    assert (esrgan.gan_weight, esrgan.pixel_weight, esrgan.perceptual) == (5e-3, 1e-2, "vgg19")
    srgan = preset("srgan", "gan")
    assert (srgan.model, srgan.gan_type) == ("srresnet", "gan")
    assert preset("quick", "psnr", iterations=7).iterations == 7
    with pytest.raises(ValueError, match="unknown config fields: itrations"):
        preset("quick", "psnr", itrations=7)
    with pytest.raises(ValueError, match="multiple of 32"):
        preset("quick", "gan", patch_size=48)


def test_config_round_trips_through_json_and_overrides_parse():
    config = preset("paper", "gan", model_args={"num_block": 10})
    assert TrainConfig.from_json(config.to_json()) == config
    assert parse_override("batch_size=8") == ("batch_size", 8)
    assert parse_override("model=srresnet") == ("model", "srresnet")
    assert parse_override("milestones=[10, 20]") == ("milestones", [10, 20])
    assert dataclasses.replace(config, milestones=[10, 20]).milestones == (10, 20)


def test_a_value_of_the_wrong_kind_is_named():
    with pytest.raises(ValueError, match="batch_size must be int, got 'eight'"):
        preset("quick", "psnr", batch_size="eight")
    with pytest.raises(ValueError, match="val_tile must be int or null"):
        preset("quick", "psnr", val_tile=1.5)
    assert preset("quick", "psnr", learning_rate=1).learning_rate == 1  # an int is a fine float


def test_config_files_from_before_the_learning_rate_rename_are_read():
    values = json.loads(preset("quick", "gan").to_json())
    values["lr"], values["d_lr"] = values.pop("learning_rate"), values.pop("d_learning_rate")
    config = TrainConfig.from_json(json.dumps(values))
    assert (config.learning_rate, config.d_learning_rate) == (1e-4, 1e-4)


def test_trained_generator_is_the_saved_ema_model(tiny_data, tmp_path):
    run = train(tiny_config(tiny_data, tmp_path, iterations=2), progress=False)
    model = trained_generator(run)
    ema = load_checkpoint(run / CHECKPOINT)["ema"]
    assert all(torch.equal(v, ema[k]) for k, v in model.state_dict().items())
    assert not model.training
    with pytest.raises(CheckpointError, match="not a training run"):
        trained_generator(tmp_path / "nothing")


def test_a_second_run_in_a_busy_folder_stops_and_names_the_first(tiny_data, tmp_path):
    from srlib.training.lock import RunDirectoryBusy, run_lock

    with run_lock(tmp_path):
        with pytest.raises(RunDirectoryBusy, match=f"in use by process {os.getpid()}"):
            train(tiny_config(tiny_data, tmp_path, iterations=1), progress=False)
    assert not (tmp_path / "log.jsonl").exists()  # the refused run wrote nothing


def test_deleting_the_lock_file_does_not_let_a_second_run_in(tiny_data, tmp_path):
    from srlib.training.lock import RunDirectoryBusy, run_lock

    with run_lock(tmp_path):
        (tmp_path / ".lock").unlink()
        with pytest.raises(RunDirectoryBusy, match="in use by another process"):
            train(tiny_config(tiny_data, tmp_path, iterations=1), progress=False)
    assert not (tmp_path / "log.jsonl").exists()


def test_a_lock_left_by_a_killed_run_is_taken_over(tiny_data, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, pathlib\nfrom srlib.training.lock import run_lock\n"
        f"with run_lock(pathlib.Path({str(tmp_path)!r})):\n    print('held', flush=True)\n    time.sleep(60)\n")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    train(tiny_config(tiny_data, tmp_path, iterations=1, val_every=1, checkpoint_every=1), progress=False)
    assert load_checkpoint(tmp_path / CHECKPOINT)["iteration"] == 1


def test_weights_gone_bad_are_never_checkpointed(tiny_data, tmp_path, monkeypatch):
    step = srlib.training.loop.generator_step

    def blows_up_at_3(run, g_train, lr_img, hr_img):
        sr, parts = step(run, g_train, lr_img, hr_img)
        if run.opt_g.state[next(iter(run.generator.parameters()))]["step"] == 3:
            with torch.no_grad():  # the update of iteration 3 explodes after a finite loss
                for p in run.generator.parameters():
                    p.mul_(1e30)
        return sr, parts

    monkeypatch.setattr(srlib.training.loop, "generator_step", blows_up_at_3)
    with pytest.raises(FloatingPointError, match="weights went bad at iteration 3.*keeps its last good state"):
        train(tiny_config(tiny_data, tmp_path, iterations=4, checkpoint_every=1), progress=False)
    assert load_checkpoint(tmp_path / CHECKPOINT)["iteration"] == 2
    assert all(torch.isfinite(v).all() for v in trained_generator(tmp_path).state_dict().values())


def test_a_resumed_run_logs_each_iteration_once_and_clears_stale_temporary_files(tiny_data, tmp_path):
    train(tiny_config(tiny_data, tmp_path, iterations=2, checkpoint_every=2), progress=False)
    with open(tmp_path / "log.jsonl", "a") as f:  # what a run killed after iteration 3 had logged
        f.write(json.dumps({"iteration": 3, "pixel": 0.5}) + "\n")
    (tmp_path / ".checkpoint.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    train(tiny_config(tiny_data, tmp_path, iterations=4, checkpoint_every=2), progress=False)
    iterations = [r["iteration"] for r in read_log(tmp_path) if "pixel" in r]
    assert iterations == [1, 2, 3, 4]
    assert not list(tmp_path.glob(".*.tmp"))
    assert len((tmp_path / "log.csv").read_text().splitlines()) == len(read_log(tmp_path)) + 1


def test_bad_training_data_is_named_before_the_first_iteration(tiny_data, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty holds no images"):
        train(tiny_config(tiny_data, tmp_path / "run1", train_dir=str(tmp_path / "empty")), progress=False)
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in (tiny_data / "train").iterdir():
        (bad / p.name).write_bytes(p.read_bytes())
    (bad / "zz_corrupt.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(ImageReadError, match="zz_corrupt.png"):
        train(tiny_config(tiny_data, tmp_path / "run2", train_dir=str(bad)), progress=False)
    assert not (tmp_path / "run2" / "log.jsonl").exists()


def test_a_full_disk_is_named_plainly(tmp_path):
    import errno

    def full(f):
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as err:
            raise RuntimeError("[enforce fail at inline_container.cc:672] unexpected pos") from err

    with pytest.raises(OSError, match="cannot write .*ckpt.pt: No space left on device") as caught:
        replace_atomically(tmp_path / "ckpt.pt", full)
    assert caught.value.errno == errno.ENOSPC and not list(tmp_path.iterdir())


def test_bf16_autocast_trains_on_the_cpu_and_fp16_is_refused_there(tiny_data, tmp_path):
    runs = {p: train(tiny_config(tiny_data, tmp_path / p, iterations=2, precision=p), progress=False)
            for p in ("fp32", "bf16")}
    exact, reduced = (read_state_dict(runs[p] / GENERATOR) for p in ("fp32", "bf16"))
    gaps = [float((exact[k] - reduced[k]).abs().max()) for k in exact]
    assert max(gaps) > 0  # autocast did round: not the fp32 run
    assert max(gaps) < 1e-2  # two Adam steps of 2e-4 apart at most
    with pytest.raises(ValueError, match="fp16 is for CUDA only"):
        train(tiny_config(tiny_data, tmp_path / "fp16", iterations=1, precision="fp16", device="cpu"), progress=False)


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_is_bf16_only_where_bf16_is_fast(monkeypatch, native):
    # the GPU presets say auto: on a CPU without native bf16 they must not run emulated bf16 (tens of times slower)
    monkeypatch.setattr(srlib.hardware, "native_cpu_bf16", lambda: native)
    def training(precision, device):
        return srlib.hardware.precision_dtype(precision, device, training=True)

    assert training("auto", "cpu") == (torch.bfloat16 if native else torch.float32)
    assert training("auto", "cuda") == torch.bfloat16
    assert training("bf16", "cpu") == torch.bfloat16  # asked for explicitly: always
    # inference's auto is the other rule: fp16 on CUDA, exact fp32 on any CPU
    assert srlib.hardware.precision_dtype("auto", "cpu") == torch.float32
    assert srlib.hardware.precision_dtype("auto", "cuda") == torch.float16
    assert preset("paper", "gan").precision == preset("esrgan", "psnr").precision == "auto"


def test_a_run_can_start_from_a_named_network(tiny_data, tmp_path):
    # fine-tuning a released or committed network: init_from takes any load_pretrained name
    from srlib.models import load_pretrained

    config = tiny_config(tiny_data, tmp_path, init_from="course-edsr", model="edsr_small", model_args={},
                         iterations=1, learning_rate=0.0, ema_decay=0.0, checkpoint_every=1)
    run = train(config, progress=False)
    expected = load_pretrained("course-edsr").state_dict()
    started = read_state_dict(run / GENERATOR)
    assert started.keys() == expected.keys() and all(torch.equal(started[k], expected[k]) for k in expected)
    assert TrainConfig.from_json((run / "config.json").read_text()).init_from == "course-edsr"  # where it began
    with pytest.raises(CheckpointError, match="do not fit RRDBNet"):  # a network of another architecture
        train(tiny_config(tiny_data, tmp_path / "other", init_from="course-edsr"), progress=False)


def test_the_discriminator_warms_up_while_the_generator_waits(tiny_data, tmp_path):
    config = tiny_config(tiny_data, tmp_path, "gan", iterations=3, d_warmup=2, checkpoint_every=1)
    train(dataclasses.replace(config, iterations=2), progress=False)  # the warm-up alone
    initial = trained_generator(tmp_path, ema=False).state_dict()
    fresh = srlib.training.loop.build_run(config, ProcessGroup(), torch.device("cpu"), tmp_path, False)
    state = load_checkpoint(tmp_path / CHECKPOINT)
    assert all(torch.equal(state["generator"][k], fresh.generator.state_dict()[k]) for k in initial)  # G unmoved
    assert all(torch.equal(state["ema"][k], state["generator"][k]) for k in initial)
    assert not all(torch.equal(state["discriminator"][k], v) for k, v in fresh.discriminator.state_dict().items())
    log = read_log(tmp_path)
    assert [("d" in r, "pixel" in r) for r in log if r["iteration"] in (1, 2)] == [(True, False), (True, False)]
    train(config, progress=False)  # then G moves
    moved = load_checkpoint(tmp_path / CHECKPOINT)["generator"]
    assert not all(torch.equal(moved[k], initial[k]) for k in initial)
    assert "pixel" in read_log(tmp_path)[-1]


def test_d_augment_names_its_steps():
    assert TrainConfig(d_augment=True).d_augment == "colour,translation,cutout"  # config.json of earlier runs
    assert TrainConfig(d_augment=False).d_augment == ""
    assert TrainConfig(d_augment="translation,cutout").d_augment == "translation,cutout"
    with pytest.raises(ValueError, match="d_augment: unknown flip"):
        TrainConfig(d_augment="translation,flip")
    with pytest.raises(ValueError, match="d_warmup"):
        TrainConfig(stage="gan", d_warmup=-1)


def test_an_ema_fp16_generator_file_keeps_the_ema_weights_alone_at_half_precision(tiny_data, tmp_path):
    run = train(tiny_config(tiny_data, tmp_path, iterations=2, generator_file="ema-fp16"), progress=False)
    saved = load_checkpoint(run / GENERATOR)
    assert "params" not in saved and all(v.dtype == torch.float16 for v in saved["params_ema"].values())
    ema = load_checkpoint(run / CHECKPOINT)["ema"]
    loaded = trained_generator(run).state_dict()
    assert all(v.dtype == torch.float32 for v in loaded.values())  # into the fp32 network
    assert all(torch.allclose(loaded[k], ema[k], rtol=1e-3, atol=1e-4) for k in ema)
    with pytest.raises(ValueError, match="ema_decay"):
        tiny_config(tiny_data, tmp_path, generator_file="ema-fp16", ema_decay=0.0)


def test_match_means_blinds_the_texture_terms_to_the_overall_colour(tiny_data, tmp_path):
    config = tiny_config(tiny_data, tmp_path, "gan", match_means="perceptual,adversarial", d_augment="",
                         perceptual="efficientnet-lite0")
    run = srlib.training.loop.build_run(config, ProcessGroup(), torch.device("cpu"), tmp_path, False)
    hr, sr = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    assert torch.allclose(run.judged(sr, hr).mean(dim=(2, 3)), hr.mean(dim=(2, 3)), atol=1e-6)  # D sees HR's means
    assert torch.equal(run.judged(hr), hr)  # real images as they are
    assert run.adversary.objective.perceptual.match_means
    assert TrainConfig(match_means=True).match_means == "perceptual,adversarial"
    plain = srlib.training.loop.build_run(dataclasses.replace(config, match_means=""), ProcessGroup(),
                                          torch.device("cpu"), tmp_path, False)
    assert torch.equal(plain.judged(sr, hr), sr) and not plain.adversary.objective.perceptual.match_means
    with pytest.raises(ValueError, match="match_means: unknown pixel"):
        TrainConfig(match_means="pixel")


def test_training_minutes_adds_the_logged_throughput(tmp_path):
    from srlib.training import training_minutes
    from srlib.training.log import write_log

    (tmp_path / "config.json").write_text(TrainConfig(batch_size=4).to_json())
    for record in ({"iteration": 0, "val_psnr_y": 20.0}, {"iteration": 10, "samples_per_s": 2.0},
                   {"iteration": 30, "samples_per_s": 1.0}):
        write_log(tmp_path, record)
    assert training_minutes(tmp_path) == pytest.approx((10 * 4 / 2 + 20 * 4 / 1) / 60)
    assert training_minutes(tmp_path, processes=2) == pytest.approx(2 * training_minutes(tmp_path))


def test_an_ignored_ctrl_c_stays_ignored_while_a_file_is_written(tmp_path, monkeypatch):
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job's SIGINT
    try:
        def save(f):
            os.kill(os.getpid(), signal.SIGINT)
            f.write(b"whole")

        replace_atomically(tmp_path / "c.bin", save)  # no KeyboardInterrupt made out of an ignored signal
        assert (tmp_path / "c.bin").read_bytes() == b"whole"
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
