"""DistributedDataParallel on the CPU (gloo), through the launch helper: real torchrun processes."""

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
import torch

from srlib.training import GENERATOR, TrainingFailed, launch, read_log, train
from srlib.training.distributed import collapse_progress
from tests.runs import tiny_config

pytestmark = pytest.mark.slow  # torchrun processes


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_two_processes_of_batch_4_equal_one_process_of_batch_8(tiny_data, tmp_path, precision):  # noqa: F811
    one = train(tiny_config(tiny_data, tmp_path / "one", batch_size=8, iterations=3, precision=precision),
                progress=False)
    two = launch(tiny_config(tiny_data, tmp_path / "two", batch_size=4, iterations=3, precision=precision),
                 nproc_per_node=2, echo=False, timeout_s=240)
    a = torch.load(one / GENERATOR, weights_only=True)
    b = torch.load(two / GENERATOR, weights_only=True)
    # bf16 rounds the batch-8 and the two batch-4 gradient sums differently: equal to bf16's precision
    tolerance = 1e-5 if precision == "fp32" else 2e-3
    for part in ("params", "params_ema"):
        for key in a[part]:
            assert torch.allclose(a[part][key], b[part][key], rtol=0, atol=tolerance), (part, key)
    assert read_log(two)[-1]["iteration"] == 3
    assert [r["pixel"] for r in read_log(two) if "pixel" in r] == pytest.approx(
        [r["pixel"] for r in read_log(one) if "pixel" in r], abs=tolerance)


def _pids_with(variable: str) -> dict[int, str]:
    """pid -> RANK of the processes whose environment holds ``variable``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if variable.encode() in environ:
            rank = [e for e in environ if e.startswith(b"RANK=")]
            found[int(entry.name)] = rank[0][5:].decode() if rank else ""
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the ranks through /proc (Linux)")
def test_a_rank_that_dies_ends_the_run_with_an_error(tiny_data, tmp_path):  # noqa: F811
    marker = f"SRLIB_TEST_RUN={uuid.uuid4().hex}"
    config = tiny_config(tiny_data, tmp_path, iterations=100_000, val_every=100_000, checkpoint_every=100_000,
                         ddp_timeout_s=30)
    outcome = {}

    def run():
        try:
            launch(config, nproc_per_node=2, echo=False, timeout_s=300, env=dict([marker.split("=")]))
        except TrainingFailed as err:
            outcome["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120
    while not any(r.get("iteration", 0) >= 2 for r in read_log(tmp_path)):  # training is under way
        assert time.monotonic() < deadline and thread.is_alive(), "training did not start"
        time.sleep(0.5)
    victims = [pid for pid, rank in _pids_with(marker).items() if rank == "1"]
    assert len(victims) == 1
    os.kill(victims[0], signal.SIGKILL)
    killed = time.monotonic()
    thread.join(timeout=120)
    assert not thread.is_alive(), "the surviving rank hung"
    assert time.monotonic() - killed < 90
    assert "rank 1 exited first" in str(outcome["error"])
    assert not _pids_with(marker), "processes left behind"


def test_launch_reports_a_failing_run_with_its_log(tiny_data, tmp_path):  # noqa: F811
    config = tiny_config(tiny_data, tmp_path, train_dir=str(tmp_path / "missing"))
    with pytest.raises(TrainingFailed, match="train folder not found"):
        launch(config, nproc_per_node=2, echo=False, timeout_s=240)


def test_streamed_progress_keeps_only_the_latest_update_of_a_bar():
    assert collapse_progress("start\nbar 1%\rbar 2%\rbar 3%") == "start\n\rbar 3%"
    assert collapse_progress("\rbar 9%\rbar 10%\ndone\n") == "\rbar 10%\ndone\n"
