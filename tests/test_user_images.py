"""The images and situations users really bring to ``srlib upscale`` (and to a training run's files): each gets
a correct result or a one-line error, and nothing is lost. Taught in notebook 02."""

import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

import srlib.atomic
from srlib.cli import main
from srlib.data import read_image, write_image
from srlib.inference import upscale
from srlib.models import build_model, load_pretrained
from srlib.paths import REPO_ROOT
from srlib.training import TrainConfig


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A small x4 network's weights file (random weights: the tests are about files, not quality)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "g.pth"
    torch.save(build_model("rrdbnet_small").state_dict(), path)
    return path


def run_upscale(source, target, weights, *extra) -> int:
    return main(["upscale", "-i", str(source), "-o", str(target), "--model", str(weights), *extra])


def one_line(err: str) -> bool:
    """Whether ``err`` says one thing in one line (progress bars aside)."""
    return "Traceback" not in err and len([line for line in err.splitlines() if line.startswith("srlib ")]) == 1


def test_a_cmyk_jpeg_is_read_as_rgb(tmp_path, photo):
    Image.fromarray(photo).convert("CMYK").save(tmp_path / "print.jpg", quality=95)
    image = read_image(tmp_path / "print.jpg")
    expected = np.asarray(Image.open(tmp_path / "print.jpg").convert("RGB"))
    assert image.shape == photo.shape and np.abs(image.astype(int) - expected).mean() < 2


def test_a_jpeg_with_a_corrupt_exif_block_is_read_as_stored(tmp_path, photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90: but the block is broken below, so it cannot be trusted
    Image.fromarray(photo).save(tmp_path / "a.jpg", exif=exif.tobytes(), quality=95)
    data = bytearray((tmp_path / "a.jpg").read_bytes())
    start = data.find(b"Exif")
    data[start + 10:start + 30] = b"\xff" * 20
    (tmp_path / "a.jpg").write_bytes(bytes(data))
    image = read_image(tmp_path / "a.jpg")
    assert image.shape == photo.shape and np.abs(image.astype(int) - photo).mean() < 4


@pytest.mark.parametrize("mode", ["P", "LA"])
def test_palette_and_gray_alpha_pngs_keep_their_transparency(tmp_path, photo, weights, mode):
    source = Image.fromarray(photo[:16, :20])
    if mode == "P":
        source = source.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
        source.save(tmp_path / "in.png", transparency=0)
    else:
        source.convert("LA").save(tmp_path / "in.png")
    assert run_upscale(tmp_path / "in.png", tmp_path / "out.png", weights) == 0
    out = read_image(tmp_path / "out.png")
    expected_alpha = np.asarray(Image.open(tmp_path / "in.png").convert("RGBA"))[:, :, 3]
    assert out.shape == (64, 80, 4)
    assert (out[:, :, 3] < 128).any() == (expected_alpha < 128).any()  # transparent pixels stay transparent


@pytest.mark.parametrize("side", [1, 2])
def test_one_and_two_pixel_images_upscale(tmp_path, photo, weights, side):
    write_image(tmp_path / "tiny.png", photo[:side, :side])
    assert run_upscale(tmp_path / "tiny.png", tmp_path / "out.png", weights) == 0
    assert read_image(tmp_path / "out.png").shape == (4 * side, 4 * side, 3)


@pytest.mark.parametrize("extra", [0, 1])
def test_an_image_of_the_tile_size_and_one_pixel_more(tmp_path, photo, weights, extra):
    model = build_model("rrdbnet_small")
    model.load_state_dict(torch.load(weights, weights_only=True))
    image = photo[:32 + extra, :32 + extra]
    whole, tiled = upscale(model, image, 4), upscale(model, image, 4, tile=32)
    assert tiled.shape == (4 * (32 + extra), 4 * (32 + extra), 3)
    if extra == 0:
        assert np.array_equal(whole, tiled)  # one tile is the whole image
    else:
        assert np.abs(whole.astype(int) - tiled).max() <= 2  # two tiles, blended


@pytest.mark.parametrize("name, save", [
    ("anim.gif", lambda frames, path: frames[0].save(path, save_all=True, append_images=frames[1:])),
    ("pages.tif", lambda frames, path: frames[0].save(path, save_all=True, append_images=frames[1:])),
])
def test_animated_gifs_and_multi_page_tiffs_give_their_first_frame_and_say_so(tmp_path, photo, weights, name, save):
    frames = [Image.fromarray(photo[:12, :12]), Image.fromarray(255 - photo[:12, :12])]
    (tmp_path / "in").mkdir()
    save(frames, tmp_path / "in" / name)
    with pytest.warns(UserWarning, match=f"{name} holds 2 frames; the first is used"):
        assert run_upscale(tmp_path / "in", tmp_path / "out", weights) == 0  # a folder run: GIF comes out as PNG
    written = [p.name for p in (tmp_path / "out").iterdir()]
    assert written == [name if name.endswith(".tif") else "anim.png"]
    with pytest.warns(UserWarning, match=f"{name} holds 2 frames; the first is used"):
        image = read_image(tmp_path / "in" / name)
    first = np.asarray(Image.open(tmp_path / "in" / name).convert("RGB"))
    assert np.array_equal(image[:, :, :3], first)


def test_webp_is_read_and_written(tmp_path, photo, weights):
    Image.fromarray(photo[:12, :16]).save(tmp_path / "in.webp", lossless=True)
    assert np.array_equal(read_image(tmp_path / "in.webp"), photo[:12, :16])
    assert run_upscale(tmp_path / "in.webp", tmp_path / "out.webp", weights) == 0
    assert read_image(tmp_path / "out.webp").shape == (48, 64, 3)


def test_paths_with_spaces_and_non_ascii_characters(tmp_path, photo, weights):
    folder = tmp_path / "mes photos d'été" / "Ünïcode 照片"
    write_image(folder / "café au lait.png", photo[:12, :12])
    assert run_upscale(folder, folder / "sortie x4", weights) == 0
    assert read_image(folder / "sortie x4" / "café au lait.png").shape == (48, 48, 3)


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path, photo, weights, capsys):
    write_image(tmp_path / "a.png", photo[:12, :12])
    (tmp_path / "a_file").write_text("not a folder")
    assert run_upscale(tmp_path / "a.png", tmp_path / "a_file" / "out.png", weights) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "cannot write into" in err and "a_file is not a folder" in err
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert run_upscale(tmp_path / "a.png", locked / "out.png", weights) == 2
        assert "cannot write into" in capsys.readouterr().err


def test_an_output_that_would_overwrite_its_input_is_refused_even_with_overwrite(tmp_path, photo, weights, capsys):
    write_image(tmp_path / "in" / "a.png", photo[:12, :12])
    before = (tmp_path / "in" / "a.png").read_bytes()
    for source, target in ((tmp_path / "in" / "a.png", tmp_path / "in" / "a.png"), (tmp_path / "in", tmp_path / "in")):
        assert run_upscale(source, target, weights, "--overwrite") == 2
        assert "would overwrite its input" in capsys.readouterr().err
    assert (tmp_path / "in" / "a.png").read_bytes() == before


@pytest.mark.slow
def test_two_upscales_writing_one_output_leave_one_whole_image(tmp_path, photo, weights):
    torch.manual_seed(1)
    other = tmp_path / "other.pth"
    torch.save(build_model("rrdbnet_small").state_dict(), other)
    write_image(tmp_path / "a.png", photo)
    runs = [subprocess.Popen([sys.executable, "-m", "srlib", "upscale", "-i", str(tmp_path / "a.png"), "-o",
                              str(tmp_path / "out.png"), "--model", str(model), "--overwrite"], cwd=REPO_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for model in (weights, other)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0], [run.stderr.read() for run in runs]
    result = read_image(tmp_path / "out.png")
    singles = []
    for model in (weights, other):
        assert run_upscale(tmp_path / "a.png", tmp_path / f"{model.stem}.png", model) == 0
        singles.append(read_image(tmp_path / f"{model.stem}.png"))
    assert any(np.array_equal(result, single) for single in singles)  # one of the two, whole
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.slow
def test_ctrl_c_during_a_folder_run_leaves_whole_images_and_skip_existing_finishes(tmp_path, photo, weights):
    for k in range(30):
        write_image(tmp_path / "in" / f"{k:02d}.png", np.roll(photo, k, axis=1))
    command = [sys.executable, "-m", "srlib", "upscale", "-i", str(tmp_path / "in"), "-o", str(tmp_path / "out"),
               "--model", str(weights)]
    # Ctrl-C as a terminal delivers it, even where this test runs as a background job (which ignores SIGINT)
    run = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list((tmp_path / "out").glob("*.png")) and time.monotonic() < deadline:
        time.sleep(0.02)
    run.send_signal(signal.SIGINT)
    assert run.wait(timeout=60) == 130 and "interrupted" in run.stderr.read()
    done = sorted((tmp_path / "out").glob("*.png"))
    assert 1 <= len(done) < 30 and not list((tmp_path / "out").glob(".*"))  # no temporary file left
    for path in done:
        assert read_image(path).shape == (4 * photo.shape[0], 4 * photo.shape[1], 3)
    assert subprocess.run([*command, "--skip-existing"], cwd=REPO_ROOT, capture_output=True).returncode == 0
    assert len(list((tmp_path / "out").glob("*.png"))) == 30


def test_a_full_disk_while_writing_an_image_is_one_line_and_leaves_nothing(tmp_path, photo, weights, monkeypatch,
                                                                           capsys):
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, fd, mode):
            self.f = real_fdopen(fd, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    write_image(tmp_path / "a.png", photo[:12, :12])
    monkeypatch.setattr(srlib.atomic.os, "fdopen", FullDisk)
    assert run_upscale(tmp_path / "a.png", tmp_path / "out.png", weights) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "No space left on device" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_a_hand_edited_config_with_wrong_types_names_the_field_and_the_type(tmp_path, capsys):
    config = json.loads(TrainConfig(run_dir=str(tmp_path / "run")).to_json())
    for field, value, said in (("batch_size", "eight", "batch_size must be int, got 'eight'"),
                               ("learning_rate", "fast", "learning_rate must be float"),
                               ("milestones", "100", "milestones must be a list of numbers, got '100'"),
                               ("milestones", ["100"], "milestones must be a list of int, got ['100']")):
        (tmp_path / "config.json").write_text(json.dumps({**config, field: value}))
        assert main(["train", "--config", str(tmp_path / "config.json")]) == 2
        err = capsys.readouterr().err
        assert one_line(err) and said in err
    assert not (tmp_path / "run").exists()


def test_a_resumed_run_whose_checkpoint_is_another_networks_is_refused(tiny_data, tmp_path, capsys):
    from srlib.training import train
    from tests.runs import tiny_config

    for name, model, model_args in (("mine", "rrdbnet_small", {"num_feat": 8, "num_block": 1, "num_grow_ch": 8}),
                                    ("other", "edsr_small", {})):
        train(tiny_config(tiny_data, tmp_path / name, iterations=2, model=model, model_args=model_args),
              progress=False)
    (tmp_path / "mine" / "checkpoint.pt").write_bytes((tmp_path / "other" / "checkpoint.pt").read_bytes())
    (tmp_path / "c.json").write_text(tiny_config(tiny_data, tmp_path / "mine", iterations=4).to_json())
    assert main(["train", "--config", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert one_line(err) and "written by a different run: model, model_args differ" in err


def test_load_pretrained_of_an_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="unknown pretrained network 'realesrgan-x8'; known: realesrgan-x4plus, .*"
                                       "course-psnr"):
        load_pretrained("realesrgan-x8")


@pytest.mark.slow
def test_a_warning_reaches_the_user_as_one_line(tmp_path, weights):
    write_image(tmp_path / "deep.png", np.full((8, 8, 3), 40000, np.uint16))
    done = subprocess.run([sys.executable, "-m", "srlib", "upscale", "-i", str(tmp_path / "deep.png"), "-o",
                           str(tmp_path / "out.jpg"), "--model", str(weights)], cwd=REPO_ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0
    assert "srlib upscale: warning: out.jpg: .jpg holds 8 bits per channel" in done.stderr
    assert "warnings.warn" not in done.stderr  # no source excerpt
