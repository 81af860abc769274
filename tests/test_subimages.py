import numpy as np
import pytest

from srlib.data import (
    count_subimages,
    extract_subimages,
    leaked_pixel_fraction,
    read_image,
    subimage_box,
    subimage_boxes,
    write_image,
)
from srlib.data.subimages import covered_fraction, crop_starts, subimage_name


def test_crop_starts_follow_the_rule():
    assert crop_starts(2040, 480, 240) == [0, 240, 480, 720, 960, 1200, 1440, 1560]
    assert crop_starts(1200, 480, 240) == [0, 240, 480, 720]  # remainder 0: no extra crop
    assert crop_starts(1250, 480, 240, thresh=60) == [0, 240, 480, 720]  # remainder 50 <= thresh
    assert crop_starts(1250, 480, 240, thresh=40) == [0, 240, 480, 720, 770]
    assert crop_starts(400, 480, 240) == []


def test_a_2k_photo_gives_about_40():
    assert count_subimages(2040, 1356) == 40  # DIV2K's common size; the paper: 138,843 / 3,450 ~ 40.2


@pytest.mark.parametrize("w, h, crop, step, thresh", [
    (150, 97, 40, 20, 0), (97, 150, 40, 25, 7), (40, 40, 40, 20, 0), (39, 80, 40, 20, 0), (123, 61, 32, 32, 5)])
def test_counter_equals_extractor(tmp_path, rng, w, h, crop, step, thresh):
    image = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    write_image(tmp_path / "src" / "img.png", image)
    written = extract_subimages(tmp_path / "src", tmp_path / "dst", crop, step, thresh, workers=1, progress=False)
    files = sorted((tmp_path / "dst").iterdir())
    assert written == len(files) == count_subimages(w, h, crop, step, thresh)
    index = 0
    for top in crop_starts(h, crop, step, thresh):  # row-major numbering, as BasicSR names them
        for left in crop_starts(w, crop, step, thresh):
            index += 1
            np.testing.assert_array_equal(read_image(tmp_path / "dst" / subimage_name("img", index)),
                                          image[top:top + crop, left:left + crop])


def test_extraction_resumes(tmp_path, photo):
    write_image(tmp_path / "src" / "a.png", photo)
    write_image(tmp_path / "src" / "b.png", photo[::-1])
    total = extract_subimages(tmp_path / "src", tmp_path / "dst", 40, 20, workers=2, progress=False)
    victims = sorted((tmp_path / "dst").iterdir())[3:9]
    for v in victims:
        v.unlink()  # as if the run had been interrupted
    assert extract_subimages(tmp_path / "src", tmp_path / "dst", 40, 20, workers=1, progress=False) == len(victims)
    assert len(list((tmp_path / "dst").iterdir())) == total
    assert extract_subimages(tmp_path / "src", tmp_path / "dst", 40, 20, workers=1, progress=False) == 0


def test_covered_fraction():
    boxes = subimage_boxes(40, 20, crop=20, step=10)  # tops [0], lefts [0, 10, 20]
    assert boxes == [(0, 0), (0, 10), (0, 20)]
    assert covered_fraction([boxes[0]], [boxes[1]], 20) == 0.5  # step = crop / 2: half shared
    assert covered_fraction([boxes[0], boxes[2]], [boxes[1]], 20) == 1.0
    assert covered_fraction([boxes[0]], [boxes[2]], 20) == 0.0


def test_leaked_pixel_fraction():
    boxes = {"a": subimage_boxes(40, 20, crop=20, step=10), "b": subimage_boxes(20, 20, crop=20, step=10)}
    assert subimage_box("a_s002.png", boxes) == (0, 10)
    assert leaked_pixel_fraction(["a_s001.png"], ["a_s002.png"], boxes, 20) == 0.5
    assert leaked_pixel_fraction(["a_s001.png", "a_s003.png"], ["a_s002.png", "b_s001.png"], boxes, 20) == 0.5
    assert leaked_pixel_fraction(["b_s001.png"], ["a_s001.png", "a_s002.png"], boxes, 20) == 0.0
