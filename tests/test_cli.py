import subprocess
import sys

import numpy as np
import pytest
import torch

import srlib.training
from srlib import cli
from srlib.cli import main
from srlib.data import imresize, make_lr, modcrop, read_image, sample_split, write_image
from srlib.evaluation import bicubic_baseline, protocol_for, psnr
from srlib.inference import DEFAULT_TILE, PRECISIONS
from srlib.models import ARCHITECTURES, build_model
from srlib.training import PRESETS, STAGES, TrainConfig, save_atomic, train
from tests.runs import tiny_config


def test_prepare_pairs_then_evaluate(tmp_path, photo, capsys):
    write_image(tmp_path / "hr" / "p.png", photo)
    assert main(["prepare-pairs", str(tmp_path / "hr"), str(tmp_path / "pairs"), "--scales", "4",
                 "--workers", "1"]) == 0
    assert "written 1" in capsys.readouterr().out
    hr_dir = tmp_path / "pairs" / "x4" / "HR"
    assert main(["evaluate", "--sr", str(hr_dir), "--hr", str(hr_dir), "--scale", "4",
                 "--csv", str(tmp_path / "t.csv")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("protocol: Y (ITU-R BT.601") and "inf" in out
    assert (tmp_path / "t.csv").exists()


def test_errors_are_reported_not_raised(tmp_path, capsys):
    (tmp_path / "hr").mkdir()
    (tmp_path / "hr" / "bad.png").write_bytes(b"junk")
    assert main(["prepare-pairs", str(tmp_path / "hr"), str(tmp_path / "out"), "--workers", "1"]) == 2
    assert "bad.png" in capsys.readouterr().err
    assert main(["download", "no_such_set", "--root", str(tmp_path)]) == 2
    assert "unknown dataset" in capsys.readouterr().err


def test_download_lists_datasets(capsys):
    assert main(["download"]) == 0
    assert "div2k_train_hr" in capsys.readouterr().out


def test_extract_subimages(tmp_path, capsys):
    write_image(tmp_path / "src" / "a.png", np.zeros((100, 100, 3), np.uint8))
    assert main(["extract-subimages", str(tmp_path / "src"), str(tmp_path / "dst"), "--crop", "50",
                 "--step", "25", "--workers", "1"]) == 0
    assert "written 9" in capsys.readouterr().out


def test_bicubic_baseline_on_the_sample_test_photos(tmp_path, capsys):
    for path in sample_split()["test"]:
        write_image(tmp_path / "hr" / f"{path.stem}.png", read_image(path))  # lossless copy
    table = bicubic_baseline(tmp_path / "hr", 4)
    first = sample_split()["test"][0]
    hr = modcrop(read_image(first), 4)
    assert table.rows[0]["psnr"] == psnr(imresize(make_lr(hr, 4), 4), hr, protocol_for(4))
    assert 20 < table.mean["psnr"] < 40 and 0.5 < table.mean["ssim"] < 1
    assert main(["bicubic-baseline", "--hr", str(tmp_path / "hr"), "--scale", "4"]) == 0
    assert "mean" in capsys.readouterr().out


def test_upscale_command(tmp_path, photo, capsys):
    torch.manual_seed(0)
    torch.save(build_model("rrdbnet_small").state_dict(), tmp_path / "g.pth")
    write_image(tmp_path / "in" / "a.png", photo[:20, :24])
    write_image(tmp_path / "in" / "b.png", photo[:16, :16, 0])
    args = ["upscale", "-i", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-s", "4",
            "--model", str(tmp_path / "g.pth"), "--tile", "32"]
    assert main(args + ["--arch", "rrdbnet"]) == 2  # a small-RRDB checkpoint does not fit the full net
    assert "do not fit RRDBNet" in capsys.readouterr().err
    assert main(args + ["--arch", "rrdbnet_small"]) == 0
    assert read_image(tmp_path / "out" / "a.png").shape == (80, 96, 3)
    assert read_image(tmp_path / "out" / "b.png").shape == (64, 64)
    assert main(args + ["--arch", "rrdbnet_small"]) == 2 and "--overwrite" in capsys.readouterr().err
    assert main(args + ["--arch", "rrdbnet_small", "--overwrite"]) == 0
    assert main(args + ["--arch", "nope", "--overwrite"]) == 2 and "unknown model" in capsys.readouterr().err
    (tmp_path / "bad.pth").write_bytes(b"not torch")
    bad = [a if a != str(tmp_path / "g.pth") else str(tmp_path / "bad.pth") for a in args]
    assert main(bad + ["--arch", "rrdbnet_small", "--overwrite"]) == 2
    assert "cannot read checkpoint" in capsys.readouterr().err
    single = tmp_path / "single.png"
    assert main(["upscale", "-i", str(tmp_path / "in" / "a.png"), "-o", str(single), "--model",
                 str(tmp_path / "g.pth"), "--arch", "rrdbnet_small"]) == 0 and single.exists()


def test_upscale_reports_unreadable_images_and_unwritable_outputs(tmp_path, photo, capsys):
    torch.save(build_model("rrdbnet_small").state_dict(), tmp_path / "g.pth")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.png").write_bytes(b"\x89PNG garbage IEND")
    common = ["-s", "4", "--model", str(tmp_path / "g.pth"), "--arch", "rrdbnet_small"]
    assert main(["upscale", "-i", str(tmp_path / "in"), "-o", str(tmp_path / "out")] + common) == 2
    assert "broken.png" in capsys.readouterr().err
    write_image(tmp_path / "ok.png", photo[:12, :12])
    (tmp_path / "blocker").write_text("a file where a folder should be")
    assert main(["upscale", "-i", str(tmp_path / "ok.png"), "-o", str(tmp_path / "blocker" / "x.png")] + common) == 2
    assert "cannot write" in capsys.readouterr().err


def test_help_lists_every_command_without_importing_torch():
    code = ("import sys; from srlib.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
            "print('torch imported' if 'torch' in sys.modules else 'no torch')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for command in ("upscale", "evaluate", "bicubic-baseline", "download", "prepare-pairs", "extract-subimages",
                    "train", "course"):
        assert command in out
    assert out.strip().endswith("no torch")


def test_python_m_srlib_is_the_srlib_command():
    out = subprocess.run([sys.executable, "-m", "srlib", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("srlib ")


def test_the_names_the_parser_offers_are_the_library_tables():
    assert set(cli.ARCHITECTURES) == set(ARCHITECTURES) - {"vgg_discriminator"}
    assert (cli.PRESETS, cli.STAGES) == (PRESETS, STAGES)
    assert cli.PRECISIONS == PRECISIONS and cli.DEFAULT_TILE == DEFAULT_TILE


def test_training_setting_mistakes_are_one_line_errors(tmp_path, capsys):
    for setting, expected in (("batch_size=eight", "batch_size must be int"),
                              ("itrations=5", "unknown config fields: itrations (known fields: stage, run_dir"),
                              ("iterations", "--set expects name=value")):
        assert main(["train", "--set", setting, "--set", f"run_dir={tmp_path}"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("srlib train: error: ") and expected in err and err.count("\n") == 1


def test_every_option_of_every_command_has_help():
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(commands) == set(cli.COMMANDS)
    for name, command in commands.items():
        for action in command._actions:
            assert action.help, f"srlib {name}: {action.dest} has no help text"


def test_download_lists_each_dataset_with_its_licence(capsys):
    assert main(["download"]) == 0
    out = capsys.readouterr().out
    assert "div2k_train_hr" in out and "licence: academic research use only" in out


def test_upscale_reads_the_architecture_and_takes_run_directories(tmp_path, photo, capsys):
    torch.manual_seed(0)
    torch.save(build_model("rrdbnet_small").state_dict(), tmp_path / "g.pth")
    write_image(tmp_path / "in" / "a.png", photo[:20, :24])
    io = ["-i", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--overwrite"]
    assert main(["upscale", *io, "--model", str(tmp_path / "g.pth"), "--suffix", "_x4"]) == 0
    assert "RRDBNet x4 (num_feat=32, num_grow_ch=16, num_block=3) on cpu" in capsys.readouterr().out
    assert read_image(tmp_path / "out" / "a_x4.png").shape == (80, 96, 3)
    run = tmp_path / "run"  # what a training run leaves: its config and generator.pt
    save_atomic({"params": build_model("edsr_small", scale=2).state_dict()}, run / "generator.pt")
    (run / "config.json").write_text(TrainConfig(model="edsr_small", scale=2).to_json())
    for model in (run, run / "generator.pt"):
        assert main(["upscale", *io, "--model", str(model)]) == 0
        assert read_image(tmp_path / "out" / "a.png").shape == (40, 48, 3)
    assert main(["upscale", *io, "--model", str(run), "-s", "4"]) == 2
    assert "trained for x2, not x4" in capsys.readouterr().err


def test_upscale_on_a_missing_device_is_a_one_line_error(tmp_path, photo, capsys):
    if torch.cuda.is_available():
        return  # the machine has the device; nothing to refuse
    torch.save(build_model("rrdbnet_small").state_dict(), tmp_path / "g.pth")
    write_image(tmp_path / "a.png", photo[:16, :16])
    assert main(["upscale", "-i", str(tmp_path / "a.png"), "-o", str(tmp_path / "b.png"), "--model",
                 str(tmp_path / "g.pth"), "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "no CUDA device" in err and err.count("\n") == 1


def test_evaluate_pairs_outputs_that_carry_a_suffix(tmp_path, photo, capsys):
    hr = modcrop(photo, 4)
    write_image(tmp_path / "hr" / "a.png", hr)
    write_image(tmp_path / "sr" / "a_out.png", imresize(make_lr(hr, 4), 4))
    args = ["evaluate", "--sr", str(tmp_path / "sr"), "--hr", str(tmp_path / "hr"), "--scale", "4", "--no-niqe"]
    assert main(args) == 2 and "no SR image" in capsys.readouterr().err
    assert main(args + ["--sr-suffix", "_out"]) == 0
    assert "mean" in capsys.readouterr().out


def test_a_folder_run_goes_past_a_bad_image_and_resumes(tmp_path, photo, capsys):
    torch.save(build_model("rrdbnet_small").state_dict(), tmp_path / "g.pth")
    for name in ("a", "c"):
        write_image(tmp_path / "in" / f"{name}.png", photo[:12, :12])
    (tmp_path / "in" / "b.png").write_bytes(b"\x89PNG garbage IEND")
    args = ["upscale", "-i", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", str(tmp_path / "g.pth")]
    assert main(args) == 2
    error = capsys.readouterr().err.splitlines()[-1]  # after the progress bar, one line
    assert error.startswith("srlib upscale: error: written 2 image(s); 1 failed: b.png")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png"]
    (tmp_path / "out" / "c.png").unlink()  # an interrupted run: a.png done, c.png not
    (tmp_path / "in" / "b.png").unlink()
    before = (tmp_path / "out" / "a.png").stat().st_mtime_ns
    assert main(args + ["--skip-existing"]) == 0
    assert (tmp_path / "out" / "c.png").exists() and (tmp_path / "out" / "a.png").stat().st_mtime_ns == before


def test_an_output_format_that_cannot_be_written_is_refused_before_any_work(tmp_path, photo, capsys):
    torch.save(build_model("rrdbnet_small").state_dict(), tmp_path / "g.pth")
    write_image(tmp_path / "a.png", photo[:12, :12])
    assert main(["upscale", "-i", str(tmp_path / "a.png"), "-o", str(tmp_path / "a.gif"), "--model",
                 str(tmp_path / "g.pth")]) == 2
    assert "cannot write a.gif: use one of .png" in capsys.readouterr().err


def test_a_network_that_outputs_nan_is_an_error_not_a_black_image(tmp_path, photo, capsys):
    state = build_model("rrdbnet_small").state_dict()
    state["conv_last.bias"] = torch.full_like(state["conv_last.bias"], float("nan"))
    torch.save(state, tmp_path / "nan.pth")
    write_image(tmp_path / "a.png", photo[:12, :12])
    assert main(["upscale", "-i", str(tmp_path / "a.png"), "-o", str(tmp_path / "b.png"), "--model",
                 str(tmp_path / "nan.pth")]) == 2
    assert "not finite" in capsys.readouterr().err and not (tmp_path / "b.png").exists()


def test_tiles_too_small_to_overlap_are_refused_with_the_reason(tmp_path, photo, capsys):
    torch.save(build_model("rrdbnet_small").state_dict(), tmp_path / "g.pth")
    write_image(tmp_path / "a.png", photo[:12, :12])
    for tile in ("0", "16"):
        assert main(["upscale", "-i", str(tmp_path / "a.png"), "-o", str(tmp_path / "b.png"), "--model",
                     str(tmp_path / "g.pth"), "--tile", tile]) == 2
        assert f"--tile {tile}: tiles must be at least 32" in capsys.readouterr().err


def test_course_refuses_notebook_numbers_that_do_not_exist(capsys):
    assert main(["course", "--only", "99"]) == 2
    assert "no notebook numbered 99" in capsys.readouterr().err


def test_ctrl_c_exits_130_and_debug_shows_the_traceback(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "download", interrupted)
    assert main(["download"]) == 130 and "interrupted" in capsys.readouterr().err
    monkeypatch.setitem(cli.COMMANDS, "download", lambda args: [][1])  # not a user error: a traceback
    with pytest.raises(IndexError):
        main(["download"])
    monkeypatch.setitem(cli.COMMANDS, "download", lambda args: int("x"))
    assert main(["download"]) == 2
    with pytest.raises(ValueError):
        main(["--debug", "download"])


def test_evaluate_names_what_differs_and_refuses_two_outputs_for_one_name(tmp_path, photo, capsys):
    hr = modcrop(photo, 4)
    write_image(tmp_path / "hr" / "a.png", hr)
    write_image(tmp_path / "sr" / "a.png", hr[..., 0])
    args = ["evaluate", "--sr", str(tmp_path / "sr"), "--hr", str(tmp_path / "hr"), "--scale", "4", "--no-niqe"]
    assert main(args) == 2
    assert f"is {hr.shape[1]}x{hr.shape[0]} gray but HR" in capsys.readouterr().err
    write_image(tmp_path / "sr" / "a.jpg", hr)
    assert main(args) == 2 and "two SR images for a" in capsys.readouterr().err


def test_a_generator_file_on_its_own_says_its_architecture_and_scale(tiny_data, tmp_path, photo, capsys):  # noqa: F811
    run = train(tiny_config(tiny_data, tmp_path / "run", iterations=1, scale=2, patch_size=32), progress=False)
    alone = tmp_path / "elsewhere" / "g.pt"  # no config.json beside it
    alone.parent.mkdir()
    alone.write_bytes((run / "generator.pt").read_bytes())
    write_image(tmp_path / "a.png", photo[:12, :12])
    args = ["upscale", "-i", str(tmp_path / "a.png"), "-o", str(tmp_path / "b.png"), "--model", str(alone)]
    assert main(args + ["-s", "3"]) == 2 and "trained for x2, not x3" in capsys.readouterr().err
    assert main(args) == 0  # x2 and x3 nearest RRDBNets look alike: the record tells them apart
    assert "rrdbnet_small x2 (recorded in g.pt)" in capsys.readouterr().out
    assert read_image(tmp_path / "b.png").shape == (24, 24, 3)


def test_upscale_blends_two_networks(tmp_path, photo, capsys):
    torch.manual_seed(0)
    for name in ("a", "b"):
        torch.save(build_model("rrdbnet_small").state_dict(), tmp_path / f"{name}.pth")
    write_image(tmp_path / "in.png", photo[:20, :24])

    def run(*extra) -> int:
        return main(["upscale", "-i", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"), "--overwrite",
                     "--model", str(tmp_path / "a.pth"), *extra])

    outputs = {}
    for label, extra in (("a", []), ("b:0", ["--blend", f"{tmp_path / 'b.pth'}:0"]),
                         ("b:1", ["--blend", f"{tmp_path / 'b.pth'}:1"]), ("b", ["--model", str(tmp_path / "b.pth")])):
        assert run(*extra) == 0
        outputs[label] = read_image(tmp_path / "out.png")
    assert "blended 1 towards" in capsys.readouterr().out
    assert np.array_equal(outputs["a"], outputs["b:0"]) and np.array_equal(outputs["b"], outputs["b:1"])
    assert not np.array_equal(outputs["a"], outputs["b"])
    torch.save(build_model("edsr_small").state_dict(), tmp_path / "edsr.pth")
    assert run("--blend", f"{tmp_path / 'edsr.pth'}:0.5") == 2
    assert "one architecture" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run("--blend", f"{tmp_path / 'b.pth'}:1.5")
    assert "ALPHA between 0 and 1" in capsys.readouterr().err


def _run_folder(folder, seed: int) -> None:
    """A run folder as training leaves it, with weights drawn from ``seed``."""
    torch.manual_seed(seed)
    save_atomic({"params": build_model("edsr_small", scale=2).state_dict()}, folder / "generator.pt")
    (folder / "config.json").write_text(TrainConfig(model="edsr_small", scale=2).to_json())


def test_a_relative_model_path_means_the_working_directory_not_the_checkout(tmp_path, photo, monkeypatch, capsys):
    import srlib.paths

    here, checkout = tmp_path / "here", tmp_path / "checkout"
    _run_folder(here / "myrun", seed=1)
    _run_folder(checkout / "myrun", seed=2)  # a run of the same name where relative config paths start
    monkeypatch.setattr(srlib.paths, "REPO_ROOT", checkout)
    write_image(here / "a.png", photo[:16, :16])
    monkeypatch.chdir(here)
    for model in ("myrun", str(here / "myrun"), str(checkout / "myrun")):
        assert main(["upscale", "-i", "a.png", "-o", f"{model.replace('/', '_')}.png", "--model", model]) == 0
    assert np.array_equal(read_image("myrun.png"), read_image(f"{str(here / 'myrun').replace('/', '_')}.png"))
    assert not np.array_equal(read_image("myrun.png"), read_image(f"{str(checkout / 'myrun').replace('/', '_')}.png"))
    assert main(["upscale", "-i", "a.png", "-o", "b.png", "--model", "missing/g.pt"]) == 2
    assert str(here / "missing" / "g.pt") in capsys.readouterr().err  # the path the user meant, not the checkout's


def test_train_reads_set_paths_from_the_working_directory(monkeypatch, tmp_path):
    from srlib.paths import REPO_ROOT

    monkeypatch.chdir(tmp_path)
    given = cli._from_the_shell({"run_dir": "myrun", "init_from": "realesrgan-x4plus", "batch_size": 2})
    assert given == {"run_dir": str(tmp_path / "myrun"), "init_from": "realesrgan-x4plus", "batch_size": 2}
    monkeypatch.chdir(REPO_ROOT / "notebooks")  # inside the checkout: kept relative to it, as configs write paths
    assert cli._from_the_shell({"run_dir": "../weights/x"}) == {"run_dir": "weights/x"}


def test_ctrl_c_during_training_says_the_checkpoint_is_intact(monkeypatch, capsys):
    def interrupted(config, resume):
        raise KeyboardInterrupt

    monkeypatch.setattr(srlib.training, "train", interrupted)
    assert main(["train", "--preset", "quick", "--stage", "psnr"]) == 130
    assert "interrupted; the last checkpoint is intact and the run resumes from it" in capsys.readouterr().err


def test_one_device_rule_for_training_and_upscaling(monkeypatch):
    from srlib.hardware import pick_device

    assert pick_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        for name in ("cuda", "cuda:1"):
            with pytest.raises(ValueError, match=f"device {name}: no CUDA device"):
                pick_device(name)
        assert pick_device("auto") == torch.device("cpu")
