"""Ma et al.'s score: its steerable pyramid, feature groups, forest reader and the Perceptual Index.

The authors' trained model cannot ship with the course, so the model-file tests write small synthetic
forests in the same MATLAB layout (randomforest-matlab's fields inside ``model.rf`` / ``model.linear``).
"""

import math

import numpy as np
import pyrtools
import pytest
import scipy.fft
import scipy.io
import scipy.stats

from srlib.data import imresize, read_image, write_image
from srlib.evaluation import load_ma_model, ma_score, patch_singular_values, perceptual_index, steerable
from srlib.evaluation.ma_score import (
    FEATURE_COUNTS,
    RegressionForest,
    fits,
    ggd_shape,
    local_frequency_features,
    ma_features,
)
from srlib.paths import SAMPLE_DIR

INTERIOR, TERMINAL = -3, -1  # randomForest node status codes (0 marks an unused slot)


@pytest.fixture(scope="module")
def photo_plane():
    """A 128x160 crop of the camera photo (gray, so it is its own Y plane)."""
    return read_image(SAMPLE_DIR / "camera.png")[100:228, 150:310].astype(np.float64)


@pytest.fixture(scope="module")
def blurred_plane(photo_plane):
    return imresize(imresize(photo_plane, 0.25), 4.0)


def test_steerable_pyramid_equals_pyrtools_buildSFpyr_port_on_even_sizes():
    image = np.random.default_rng(0).normal(100, 40, (64, 96))
    ours = steerable.build(image, levels=2, orientations=6)
    theirs = pyrtools.pyramids.SteerablePyramidFreq(image, height=2, order=5).pyr_coeffs
    assert np.abs(ours.highpass - theirs["residual_highpass"]).max() < 1e-9
    assert np.abs(ours.lowpass - theirs["residual_lowpass"]).max() < 1e-9
    for level in range(2):
        for b in range(6):
            assert np.abs(ours.bands[level][b] - theirs[(level, b)]).max() < 1e-9


@pytest.mark.parametrize("shape", [(64, 64), (67, 81), (100, 90)])
def test_steerable_pyramid_keeps_the_energy_and_matlab_band_sizes(shape):
    image = np.random.default_rng(1).normal(size=shape)
    pyramid = steerable.build(image, levels=2, orientations=6)
    # Parseval: each level down holds a quarter of the samples
    energy = (pyramid.highpass**2).sum() + (pyramid.lowpass**2).sum() / 16
    energy += sum((band**2).sum() / 4**level for level, bands in enumerate(pyramid.bands) for band in bands)
    assert energy / (image**2).sum() == pytest.approx(1, abs=0.01)
    half = tuple(math.ceil((n - 0.5) / 2) for n in shape)  # MATLAB's lodims
    assert pyramid.bands[0][0].shape == shape and pyramid.bands[1][0].shape == half


@pytest.mark.parametrize("orientation", range(6))
def test_steerable_band_k_responds_to_a_grating_at_k_pi_over_6(orientation):
    angle = np.pi * orientation / 6
    y, x = np.mgrid[:96, :96]
    frequency = 0.18  # cycles per pixel: inside the first level's pass band
    grating = np.cos(2 * np.pi * frequency * (np.cos(angle) * x + np.sin(angle) * y))
    energies = [(band**2).sum() for band in steerable.build(grating).bands[0]]
    assert int(np.argmax(energies)) == orientation


def test_too_small_image_for_the_pyramid_is_a_clear_error():
    with pytest.raises(ValueError, match="too small for 2 levels"):
        steerable.build(np.zeros((15, 40)))


@pytest.mark.parametrize("beta", [0.7, 1.0, 2.0])
def test_ggd_shape_recovers_a_generalised_gaussian(beta):
    samples = scipy.stats.gennorm.rvs(beta, size=200_000, random_state=np.random.default_rng(2))
    assert ggd_shape(samples)[0] == pytest.approx(beta, rel=0.05)


def _blkproc_dct_statistics(image):
    """MATLAB blkproc(image, [3 3], [2 2], fun) written out block by block, with scipy's DCT."""
    rows, cols = math.ceil(image.shape[0] / 3), math.ceil(image.shape[1] / 3)
    padded = np.zeros((rows * 3 + 4, cols * 3 + 4))
    padded[2 : 2 + image.shape[0], 2 : 2 + image.shape[1]] = image
    shapes, variation, spread = [], [], []
    for i in range(rows):
        for j in range(cols):
            c = scipy.fft.dctn(padded[3 * i : 3 * i + 7, 3 * j : 3 * j + 7], norm="ortho")
            ac = c.ravel(order="F")[1:]
            shapes.append(ggd_shape(ac)[0])
            variation.append(np.std(np.abs(ac), ddof=1) / (np.mean(np.abs(ac)) + 1e-7))
            groups = [np.concatenate([c[0, 1:], c[1, 2:], c[2, 4:], c[3, 5:]]),
                      np.concatenate([c[1, 1:2], c[2, 2:4], c[3, 2:5], c[4, 3:], c[5, 4:], c[6, 4:]]),
                      np.concatenate([c[1:, 0], c[2:, 1], c[4:, 2], c[5:, 3]])]
            spread.append(np.var([np.std(np.abs(g), ddof=1) / (np.mean(np.abs(g)) + 1e-8) for g in groups], ddof=1))
    return [np.array(v) for v in (shapes, variation, spread)]


def test_block_dct_features_match_matlab_blkproc_written_out():
    image = np.random.default_rng(3).random((31, 26)) ** 2  # sizes that need padding to whole 3x3 blocks
    shapes, variation, spread = _blkproc_dct_statistics(image)
    n = len(shapes)
    expected = [np.sort(shapes)[: math.ceil(n * 0.1)].mean(), shapes.mean(),
                np.sort(variation)[math.floor(n * 0.9) - 1 :].mean(), variation.mean(),
                np.sort(spread)[math.floor(n * 0.9) - 1 :].mean(), spread.mean()]
    assert np.allclose(local_frequency_features(image), expected, rtol=1e-10, atol=1e-12)


def test_patch_singular_values_use_the_non_overlapping_5x5_grid():
    patch = np.random.default_rng(4).random((5, 5))
    tiled = np.tile(patch, (5, 6))  # 30 copies of one patch: rank one
    values = patch_singular_values(tiled)
    assert values.shape == (25,)
    assert values[0] == pytest.approx(np.linalg.norm(patch) * math.sqrt(30))
    assert np.all(values[1:] < 1e-10)
    shifted = patch_singular_values(tiled[:, 2:])  # the last column of patches zero-padded: rank two
    assert shifted[1] > 1e-3


def test_feature_groups_have_the_published_sizes_and_see_blur(photo_plane, blurred_plane):
    local, global_, spatial = ma_features(photo_plane)
    assert (len(local), len(global_), len(spatial)) == FEATURE_COUNTS
    assert np.all(np.isfinite(np.concatenate([local, global_, spatial])))
    assert np.all(np.diff(spatial[:25]) <= 0)  # singular values, largest first
    b_local, _, b_spatial = ma_features(blurred_plane)
    # blur empties the high frequencies: the small singular values and the AC shape of the DCT blocks fall
    assert b_spatial[12:25].sum() < 0.5 * spatial[12:25].sum()
    assert b_local[1] < local[1]


def test_too_small_and_flat_images_are_clear_errors():
    assert fits((84, 84)) and not fits((83, 83)) and not fits((44, 400))
    with pytest.raises(ValueError, match="too small"):
        ma_features(np.zeros((60, 60)))
    with pytest.raises(ValueError, match="no local energy"):
        ma_features(np.full((96, 96), 128.0))


def _forest_fields(feature, threshold, low, high, trees=3, slots=6):
    """A randomForest-layout forest of identical one-split trees (feature 0-based here, 1-based stored),
    with unused node slots after the three used ones, as the MATLAB arrays have."""
    arrays = {name: np.zeros((slots, trees), np.int32) for name in ("lDau", "rDau", "nodestatus", "mbest")}
    arrays.update(upper=np.zeros((slots, trees)), avnode=np.zeros((slots, trees)))
    arrays["nodestatus"][:3] = [[INTERIOR], [TERMINAL], [TERMINAL]]
    arrays["lDau"][0], arrays["rDau"][0], arrays["mbest"][0] = 2, 3, feature + 1
    arrays["upper"][0] = threshold
    arrays["avnode"][1], arrays["avnode"][2] = low, high
    arrays.update(ndtree=np.full((1, trees), 3.0), ntree=float(trees), nrnodes=float(slots), mtry=1.0,
                  coef=np.zeros((2, 1)))  # no bias correction, as regRF_train leaves it by default
    return arrays


def _write_model(path, forests, linear):
    cells = np.empty((3, 1), dtype=object)
    for k, fields in enumerate(forests):
        cells[k, 0] = fields
    scipy.io.savemat(path, {"model": {"rf": cells, "linear": np.asarray(linear, float).reshape(4, 1)}})
    return path


def test_forest_walks_each_tree_and_averages_the_leaves():
    # tree 0: x0 <= 1 ? (x1 <= 5 ? 10 : 20) : 30 ; tree 1: x1 <= 2 ? 0 : 4
    left = np.array([[2, 2], [4, 0], [0, 0], [0, 0], [0, 0]])  # a leaf has no left child
    right = np.array([[3, 3], [5, 0], [0, 0], [0, 0], [0, 0]])
    feature = np.array([[1, 2], [2, 0], [0, 0], [0, 0], [0, 0]])
    split = np.array([[1.0, 2.0], [5.0, 0], [0, 0], [0, 0], [0, 0]])
    value = np.array([[0, 0], [0, 0.0], [30, 4], [10, 0], [20, 0]])
    forest = RegressionForest(left, right, feature, split, value)
    assert forest.predict(np.array([1.0, 5.0])) == pytest.approx((10 + 4) / 2)  # "<=" goes left
    assert forest.predict(np.array([0.0, 6.0])) == pytest.approx((20 + 4) / 2)
    assert forest.predict(np.array([2.0, 1.0])) == pytest.approx((30 + 0) / 2)
    corrected = RegressionForest(left, right, feature, split, value, bias=(1.0, 0.5))  # randomForest's coef
    assert corrected.predict(np.array([2.0, 1.0])) == pytest.approx(1.0 + 0.5 * 15)


def test_model_file_in_the_sr_metric_layout_drives_the_score(tmp_path, photo_plane, blurred_plane):
    sharp_features, blurred_features = ma_features(photo_plane), ma_features(blurred_plane)
    # one stump per group on a feature blur lowers (checked above): sharp goes right, blurred left
    local_split = (sharp_features[0][1] + blurred_features[0][1]) / 2
    spatial_split = (sharp_features[2][12] + blurred_features[2][12]) / 2
    forests = [_forest_fields(1, local_split, 2.0, 8.0), _forest_fields(20, 1e9, 5.0, 0.0),
               _forest_fields(12, spatial_split, 1.0, 9.0)]
    path = _write_model(tmp_path / "model.mat", forests, [0.5, 0.4, 0.2, 0.3])
    model = load_ma_model(path)
    assert ma_score(photo_plane, model) == pytest.approx(0.5 + 0.4 * 8 + 0.2 * 5 + 0.3 * 9)
    assert ma_score(blurred_plane, path) == pytest.approx(0.5 + 0.4 * 2 + 0.2 * 5 + 0.3 * 1)
    assert perceptual_index(ma=7.0, niqe=3.0) == pytest.approx(3.0)


def test_rgb_images_are_scored_on_their_rounded_y_with_the_border_shaved(tmp_path):
    from srlib.evaluation.color import y_plane

    forests = [_forest_fields(0, 0.5, 1.0, 2.0), _forest_fields(13, 1.5, 3.0, 4.0), _forest_fields(0, 50.0, 5.0, 6.0)]
    model = load_ma_model(_write_model(tmp_path / "model.mat", forests, [0.1, 1.0, 1.0, 1.0]))
    rgb = read_image(SAMPLE_DIR / "chelsea.png")[:136, :136]
    assert ma_score(rgb, model, crop_border=4) == pytest.approx(ma_score(y_plane(rgb, "test")[4:-4, 4:-4], model))


def test_bad_model_files_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="README"):
        load_ma_model(tmp_path / "absent.mat")
    good = _write_model(tmp_path / "good.mat", [_forest_fields(0, 0.0, 0.0, 1.0)] * 3, [0, 1, 1, 1])
    truncated = tmp_path / "truncated.mat"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(ValueError, match="not a readable MATLAB"):
        load_ma_model(truncated)
    broken = _forest_fields(0, 0.0, 0.0, 1.0)
    del broken["avnode"]
    with pytest.raises(ValueError, match=r"rf\{2\}.*avnode"):
        load_ma_model(_write_model(tmp_path / "no_leaves.mat", [_forest_fields(0, 0, 0, 1), broken,
                                                                 _forest_fields(0, 0, 0, 1)], [0, 1, 1, 1]))
    with pytest.raises(ValueError, match="feature outside 1..18"):
        load_ma_model(_write_model(tmp_path / "wide.mat", [_forest_fields(18, 0, 0, 1)] * 3, [0, 1, 1, 1]))
    scipy.io.savemat(tmp_path / "other.mat", {"weights": np.ones(3)})
    with pytest.raises(ValueError, match="struct 'model'"):
        load_ma_model(tmp_path / "other.mat")


def test_evaluate_adds_ma_and_pi_columns_only_with_a_model(tmp_path, photo_plane):
    from srlib.cli import main
    from srlib.evaluation.metrics import evaluate

    hr = read_image(SAMPLE_DIR / "chelsea.png")[:200, :200]
    sr = np.clip(imresize(imresize(hr, 0.25), 4), 0, 255).astype(np.uint8)
    for folder, image in (("hr", hr), ("sr", sr)):
        (tmp_path / folder).mkdir()
        write_image(tmp_path / folder / "cat.png", image)
    path = _write_model(tmp_path / "model.mat", [_forest_fields(1, 1e9, 6.0, 0.0)] * 3, [0.0, 0.5, 0.25, 0.25])
    table = evaluate(tmp_path / "sr", tmp_path / "hr", 4, ma_model=load_ma_model(path))
    row = table.rows[0]
    assert row["ma"] == pytest.approx(6.0)
    assert row["pi"] == pytest.approx(((10 - 6.0) + row["niqe"]) / 2)
    assert "PI = ((10 - Ma) + NIQE) / 2" in table.format()
    plain = evaluate(tmp_path / "sr", tmp_path / "hr", 4)
    assert "pi" not in plain.rows[0] and "PI: unavailable" in plain.format()
    assert main(["evaluate", "--sr", str(tmp_path / "sr"), "--hr", str(tmp_path / "hr"), "--scale", "4",
                 "--ma-model", str(path), "--json", str(tmp_path / "scores.json")]) == 0
    assert '"pi"' in (tmp_path / "scores.json").read_text()
    assert main(["evaluate", "--sr", str(tmp_path / "sr"), "--hr", str(tmp_path / "hr"), "--scale", "4",
                 "--ma-model", str(tmp_path / "absent.mat")]) == 2


def test_images_too_small_for_ma_get_nan_in_tables(tmp_path):
    from srlib.evaluation.metrics import no_reference_scores

    path = _write_model(tmp_path / "model.mat", [_forest_fields(0, 0.0, 1.0, 1.0)] * 3, [0, 1, 1, 1])
    row = no_reference_scores(np.zeros((80, 80, 3), np.uint8), 4, load_ma_model(path))
    assert math.isnan(row["ma"]) and math.isnan(row["pi"]) and math.isnan(row["niqe"])
