import numpy as np
import pytest

from srlib.data import imresize, make_lr, modcrop, prepare_pairs, read_image, write_image
from srlib.data.degrade import pair_paths


def test_modcrop():
    assert modcrop(np.zeros((97, 123, 3)), 4).shape == (96, 120, 3)
    assert modcrop(np.zeros((97, 123)), 3).shape == (96, 123)


def test_make_lr_is_matlab_bicubic(photo):
    hr = modcrop(photo, 4)
    np.testing.assert_array_equal(make_lr(hr, 4), imresize(hr, 0.25))
    assert make_lr(hr, 4).shape == (hr.shape[0] // 4, hr.shape[1] // 4, 3)
    with pytest.raises(ValueError, match="not a multiple of scale 4"):
        make_lr(photo, 4)


@pytest.fixture
def hr_folder(tmp_path, photo):
    folder = tmp_path / "hr"
    write_image(folder / "one.png", photo)  # 97 x 123: a multiple of nothing
    write_image(folder / "two.png", photo[:96, :120])
    return folder


def test_prepare_pairs_writes_aligned_pairs_and_is_idempotent(tmp_path, hr_folder):
    out = tmp_path / "pairs"
    report = prepare_pairs(hr_folder, out, (2, 3, 4), workers=1, progress=False)
    assert (report.written, report.skipped) == (6, 0)
    for scale in (2, 3, 4):
        hr_path, lr_path = pair_paths(out, scale, "one.png")
        hr, lr = read_image(hr_path), read_image(lr_path)
        assert hr.shape[0] == lr.shape[0] * scale and hr.shape[1] == lr.shape[1] * scale
        np.testing.assert_array_equal(lr, make_lr(hr, scale))
    stamp = pair_paths(out, 4, "one.png")[1].stat().st_mtime_ns
    again = prepare_pairs(hr_folder, out, (2, 3, 4), workers=1, progress=False)
    assert (again.written, again.skipped) == (0, 6)
    assert pair_paths(out, 4, "one.png")[1].stat().st_mtime_ns == stamp


def test_prepare_pairs_parallel_equals_serial(tmp_path, hr_folder):
    prepare_pairs(hr_folder, tmp_path / "a", (4,), workers=1, progress=False)
    prepare_pairs(hr_folder, tmp_path / "b", (4,), workers=2, progress=False)
    for name in ("one.png", "two.png"):
        np.testing.assert_array_equal(read_image(pair_paths(tmp_path / "a", 4, name)[1]),
                                      read_image(pair_paths(tmp_path / "b", 4, name)[1]))


def test_prepare_pairs_refuses_uncropped_only_when_asked(tmp_path, hr_folder):
    with pytest.raises(ValueError, match="one.png.*not a multiple of scale 3"):
        prepare_pairs(hr_folder, tmp_path / "strict", (3,), crop=False, workers=1, progress=False)
    (hr_folder / "one.png").unlink()
    report = prepare_pairs(hr_folder, tmp_path / "strict", (3, 4), crop=False, workers=1, progress=False)
    assert report.written == 2
