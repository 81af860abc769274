import math

import numpy as np
import pytest

from srlib.data import bootstrap_split, holdout_split, kfold_split, shared_sources, source_of

FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}


def subimages(n_sources: int, per_source: int = 6) -> list[str]:
    return [f"{s:04d}_s{i:03d}.png" for s in range(n_sources) for i in range(1, per_source + 1)]


def test_source_of():
    assert source_of("0001_s017.png") == "0001"
    assert source_of("data/baboon.png") == "baboon"
    assert source_of("img_s_thing.png") == "img_s_thing"


def test_holdout_is_deterministic_and_leak_free():
    items = subimages(200)
    a, b = holdout_split(items, FRACTIONS, seed=3), holdout_split(items, FRACTIONS, seed=3)
    assert a == b
    assert sum(len(v) for v in a.values()) == len(items)
    for x in a:
        for y in a:
            if x != y:
                assert not shared_sources(a[x], a[y])
    assert abs(len(a["train"]) / len(items) - 0.8) < 0.1
    assert holdout_split(items, FRACTIONS, seed=4) != a


def test_holdout_is_stable_when_images_are_added():
    before = holdout_split(subimages(100), FRACTIONS, seed=0)
    after = holdout_split(subimages(150), FRACTIONS, seed=0)
    for name, members in before.items():
        assert set(members) <= set(after[name])


def test_a_naive_random_split_of_subimages_leaks():
    items = subimages(50)
    order = np.random.default_rng(0).permutation(len(items))
    train = [items[i] for i in order[:240]]
    test = [items[i] for i in order[240:]]
    assert shared_sources(train, test)  # what the by-source split prevents


def test_holdout_rejects_bad_fractions():
    with pytest.raises(ValueError, match="sum to 1"):
        holdout_split(["a"], {"train": 0.5, "test": 0.4})


def test_kfold_tests_each_source_once():
    items = subimages(23, 3)
    folds = kfold_split(items, 5, seed=1)
    tested = [source_of(it) for _, test in folds for it in test]
    assert sorted(set(tested)) == sorted({source_of(i) for i in items}) and len(tested) == len(items)
    for train, test in folds:
        assert not shared_sources(train, test)
        assert len(train) + len(test) == len(items)
    with pytest.raises(ValueError, match="k"):
        kfold_split(items, 1)


def test_bootstrap_in_and_out_of_bag():
    items = subimages(40, 2)
    in_bag, oob = bootstrap_split(items, seed=5)
    assert len(in_bag) == len(items)  # n sources drawn, each brings all its items
    assert not shared_sources(in_bag, oob)
    assert len(set(in_bag)) < len(in_bag)  # drawn with replacement


def test_out_of_bag_fraction_tends_to_one_over_e():
    n = 5000
    shares = [len(bootstrap_split([str(i) for i in range(n)], seed=s)[1]) / n for s in range(5)]
    assert abs(np.mean(shares) - math.exp(-1)) < 0.01
