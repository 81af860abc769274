"""The paper's data built by `srlib prepare` from archives laid out like the real ones (generated here), and the
GPU presets run up to their first iterations on it (CPU, fp32; one RRDB and batch 2 instead of 23 and 16, the
stand-in perceptual network instead of VGG19, whose weights cannot be fetched here)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from srlib.data import read_image
from srlib.data.prepare import prepare_benchmarks, prepare_df2k
from srlib.paths import REPO_ROOT
from tests.test_download import make_tar, make_zip


def png(width: int, height: int, seed: int) -> bytes:
    y, x = np.mgrid[:height, :width]
    rng = np.random.default_rng(seed)
    image = np.stack([np.sin(x / rng.uniform(5, 30)) * np.cos(y / rng.uniform(5, 30))] * 3, -1) * 100 + 128
    return cv2.imencode(".png", (image + rng.normal(0, 4, image.shape)).clip(0, 255).astype(np.uint8))[1].tobytes()


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """A datasets folder built by `srlib prepare` from archives with DIV2K's, Flickr2K's and the test sets' layout."""
    root = tmp_path_factory.mktemp("datasets")
    archives = root / "downloads"
    archives.mkdir()
    (archives / "div2k.zip").write_bytes(make_zip({f"DIV2K_train_HR/000{i}.png": png(528, 512, i) for i in (1, 2)}))
    (archives / "flickr2k.tar").write_bytes(make_tar({"Flickr2K/Flickr2K_HR/000001.png": png(512, 496, 3),
                                                      "Flickr2K/Flickr2K_LR_bicubic/X4/000001x4.png": png(128, 124, 3)},
                                                     mode="w"))
    sets = {}
    for name in ("set5", "set14", "b100", "urban100"):
        sets[name] = archives / f"{name}.zip"
        sets[name].write_bytes(make_zip({f"{name}/HR/img_00{i}.png": png(70, 62, 10 + i) for i in (1, 2)}))
    prepare_df2k(root, archives / "div2k.zip", archives / "flickr2k.tar", workers=1, progress=False)
    prepare_benchmarks(root, sets, workers=1, progress=False)
    return root


def test_df2k_is_merged_shrunk_and_cut_with_a_manifest(datasets):
    df2k = datasets / "DF2K"
    manifest = json.loads((df2k / "manifest.json").read_text())
    # each photo gives 2 x 2 sub-images of 480 with step 240 (BasicSR keeps a last one flush with the border)
    assert manifest["folders"] == {"HR": 3, "LR_x4": 3, "HR_sub": 12, "LR_sub_x4": 12}
    hr_sub, lr_sub = sorted((df2k / "HR_sub").iterdir()), sorted((df2k / "LR_sub_x4").iterdir())
    assert [p.name for p in hr_sub] == [p.name for p in lr_sub]
    assert read_image(hr_sub[0]).shape == (480, 480, 3) and read_image(lr_sub[0]).shape == (120, 120, 3)
    assert not any("x4" in p.name for p in (df2k / "HR").iterdir())  # Flickr2K's own LR images left out


def test_the_test_sets_are_mod_cropped_with_their_lr_images(datasets):
    set14 = datasets / "benchmarks" / "Set14" / "x4"
    assert read_image(set14 / "HR" / "img_001.png").shape == (60, 68, 3)
    assert read_image(set14 / "LR" / "img_001.png").shape == (15, 17, 3)


def srlib_train(datasets, *arguments: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SRLIB_DATASETS": str(datasets)}
    return subprocess.run([sys.executable, "-m", "srlib", "train", *arguments], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)


SMALL = ["--set", "iterations=2", "--set", "batch_size=2", "--set", 'model_args={"num_block": 1}', "--set",
         "val_every=2", "--set", "checkpoint_every=2", "--set", "num_workers=0", "--set", "precision=fp32",
         "--set", "device=cpu", "--set", "perceptual=efficientnet-lite0"]


@pytest.mark.slow
@pytest.mark.parametrize("preset_name, patch, pixel_loss", [("paper", 192, "mix"), ("esrgan", 128, "l1"),
                                                             ("srgan", 96, "l2")])
def test_the_gpu_presets_train_on_the_prepared_data(datasets, tmp_path, preset_name, patch, pixel_loss):
    for stage in ("psnr", "gan"):
        run = tmp_path / stage
        extra = ["--set", f"init_from={tmp_path / 'psnr'}"] if stage == "gan" else []
        done = srlib_train(datasets, "--preset", preset_name, "--stage", stage, "--set", f"run_dir={run}", *SMALL,
                           *extra)
        assert done.returncode == 0, done.stderr[-1500:]
        config = json.loads((run / "config.json").read_text())
        assert (config["patch_size"], config["model_args"]) == (patch, {"num_block": 1})
        assert config["train_dir"].endswith("DF2K/HR_sub") and config["val_dir"].endswith("benchmarks/Set14/x4/HR")
        if stage == "psnr":
            assert config["pixel_loss"] == pixel_loss
        assert [r["iteration"] for r in map(json.loads, (run / "log.jsonl").read_text().splitlines())][-1] == 2


@pytest.mark.slow
def test_a_half_built_tree_is_named_before_training(datasets, tmp_path):
    broken = tmp_path / "datasets"
    for name in ("DF2K", "benchmarks"):
        shutil.copytree(datasets / name, broken / name)
    next((broken / "DF2K" / "HR_sub").iterdir()).unlink()
    done = srlib_train(broken, "--preset", "paper", "--set", f"run_dir={tmp_path / 'run'}", *SMALL)
    assert done.returncode == 2 and "holds 11 images where its manifest says 12" in done.stderr
    assert "srlib prepare df2k" in done.stderr


def up_to_training(notebook: Path, out: Path) -> Path:
    """``notebook`` cut after the cell that trains its run (``train(config`` or ``launch(config``): what the README's
    papermill command must prove is that the parameters reach a real run, not the chapter's later figures."""
    import nbformat

    book = nbformat.read(notebook, as_version=4)
    trains = next(i for i, cell in enumerate(book.cells)
                  if cell.cell_type == "code" and re.search(r"\b(train|launch)\(config\b", cell.source))
    book.cells = book.cells[:trains + 1]
    nbformat.write(book, out)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("notebook", ["04_psnr_pretraining.ipynb", "05_gan_finetuning_ddp.ipynb"])
def test_the_readme_papermill_commands_run_the_paper_preset(datasets, tmp_path, monkeypatch, notebook):
    """The README's commands with `-p preset_name paper`, cut to 2 iterations, 1 RRDB and batch 2, up to the run."""
    import papermill

    monkeypatch.setenv("SRLIB_DATASETS", str(datasets))  # the kernel reads it when it imports srlib
    run_dir = tmp_path / "run"
    parameters = {"preset_name": "paper", "iterations": 2, "patch_size": 192, "batch_size": 2, "num_block": 1,
                  "run_dir": str(run_dir)}
    if notebook.startswith("05"):  # notebook 04's model to start from (05 would train it with the preset's 10^6 steps)
        done = srlib_train(datasets, "--preset", "paper", "--set", f"run_dir={tmp_path / 'psnr'}", *SMALL)
        assert done.returncode == 0, done.stderr[-1500:]
        parameters |= {"init_from": str(tmp_path / "psnr"), "nproc": 2, "perceptual": "efficientnet-lite0"}
    cut = up_to_training(REPO_ROOT / "notebooks" / notebook, tmp_path / f"cut_{notebook}")
    papermill.execute_notebook(str(cut), str(tmp_path / notebook), parameters=parameters,
                               cwd=str(REPO_ROOT / "notebooks"), kernel_name="python3", progress_bar=False)
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["patch_size"], config["model"], config["model_args"]) == (192, "rrdbnet", {"num_block": 1})
    assert config["train_dir"].endswith("DF2K/HR_sub") and config["val_dir"].endswith("Set14/x4/HR")
    assert config["pixel_loss"] == "mix" if notebook.startswith("04") else config["gan_type"] == "ragan"
    assert [r["iteration"] for r in map(json.loads, (run_dir / "log.jsonl").read_text().splitlines())][-1] == 2
