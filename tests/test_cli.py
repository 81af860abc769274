import numpy as np

from srlib.__main__ import main
from srlib.image_io import write_image


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
