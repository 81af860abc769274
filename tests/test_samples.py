import hashlib

from srlib.data import read_image, sample_manifest, sample_split, shared_sources
from srlib.data.samples import sample_images


def test_bundled_photos_match_their_manifest():
    for entry in sample_manifest():
        path = sample_images()[0].parent / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["file"]
        image = read_image(path)
        assert (image.shape[1], image.shape[0]) == (entry["width"], entry["height"])
        assert entry["licence"] and entry["credit"]


def test_sample_split_is_fixed_and_leak_free():
    split = sample_split()
    assert sorted(p for v in split.values() for p in v) == sample_images()
    assert len(split["val"]) >= 2 and len(split["test"]) >= 2 and len(split["train"]) >= 5
    assert not shared_sources(split["train"], split["test"] + split["val"])
    assert split == sample_split()
