"""Ma et al.'s no-reference score for super-resolved images ("Learning a no-reference quality metric
for single-image super-resolution", CVIU 2017), computed as the authors' MATLAB release
(sr-metric) does, and the PIRM 2018 Perceptual Index built on it. Higher Ma is better (0..10).

Three groups of statistics of the image's Y plane, each mapped to a score by its own regression
forest; a linear fit combines the three (``[1, s1, s2, s3] @ linear``):

1. local frequency (18): over 7x7 DCTs taken every 3 px, at three scales of a Gaussian pyramid:
   the generalised-Gaussian shape of the AC coefficients, their coefficient of variation, and the
   spread of that variation over three orientation groups, pooled as means (all / worst 10 %);
2. global frequency (45): a 2-level, 6-orientation steerable pyramid, divisively normalised
   (Gaussian scale mixture): shapes per subband and across scales, and contrast-structure
   similarity between subbands and the high-pass residual and between orientations;
3. spatial (75): the singular values of the 5x5 patches at each scale.

The forests and the linear fit come from the authors' ``model.mat``, which no package ships: pass
its path (see the README). The file layout is that of randomforest-matlab (R's randomForest):
``model.rf{k}`` with ``lDau``, ``rDau``, ``upper``, ``avnode``, ``mbest`` (arrays of (nodes, trees);
``nodestatus`` is not needed, a leaf has no left child) and optionally ``coef``, and ``model.linear``
(4 numbers).

Taught in notebook 07.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import scipy.io
from scipy.special import gammaln

from ..data.resize import imresize
from . import steerable
from .color import y_plane
from .niqe import gaussian_window
from .structural import plane_ssim_components

FEATURE_COUNTS = (18, 45, 75)
MIN_SIDE = 45  # per side: 3x3 neighbourhood (2 px) + two 16-px guard bands + one 11x11 SSIM window
_SHAPES = 0.03 + 0.001 * np.arange(9971)  # MATLAB's 0.03:0.001:10
_RATIO = np.exp(gammaln(1 / _SHAPES) + gammaln(3 / _SHAPES) - 2 * gammaln(2 / _SHAPES))  # decreasing
_BLOCK, _STEP = 7, 3  # MATLAB blkproc(im, [3 3], [2 2], ...): 3x3 blocks with a 2-pixel border
_PATCH = 5
_ORIENTATIONS, _LEVELS = 6, 2


def _dct_matrix(n: int) -> np.ndarray:
    k, x = np.arange(n)[:, None], np.arange(n)[None, :]
    d = np.sqrt(2 / n) * np.cos(np.pi * (2 * x + 1) * k / (2 * n))
    d[0] /= np.sqrt(2)
    return d


def _orientation_groups() -> np.ndarray:
    """The 48 AC coefficients of a 7x7 DCT split into three orientation groups of 16 (BLIINDS-II style)."""
    first = np.zeros((_BLOCK, _BLOCK), bool)
    for row, start in ((0, 1), (1, 2), (2, 4), (3, 5)):
        first[row, start:] = True
    diagonal = np.zeros_like(first)
    for row, start, stop in ((1, 1, 2), (2, 2, 4), (3, 2, 5), (4, 3, 7), (5, 4, 7), (6, 4, 7)):
        diagonal[row, start:stop] = True
    return np.stack([first, diagonal, first.T]).reshape(3, -1)


_DCT = _dct_matrix(_BLOCK)
_GROUPS = _orientation_groups()
_AC = np.arange(_BLOCK * _BLOCK) != 0


def ggd_shape(values: np.ndarray) -> np.ndarray:
    """Generalised-Gaussian shape of each row of ``values`` by moment matching on the MATLAB grid
    (0.03..10 in steps of 0.001): the grid point whose ``G(1/g) G(3/g) / G(2/g)^2`` is nearest to
    ``var / mean(|x - mean|)^2`` (``gama_gen_gauss.m``)."""
    values = np.atleast_2d(values)
    centred = np.abs(values - values.mean(axis=1, keepdims=True)).mean(axis=1)
    rho = values.var(axis=1, ddof=1) / (centred**2 + 1e-7)
    i = np.clip(np.searchsorted(-_RATIO, -rho), 1, len(_RATIO) - 1)
    lower_is_nearer = np.abs(_RATIO[i - 1] - rho) <= np.abs(_RATIO[i] - rho)  # ties: the first, as MATLAB's min
    return _SHAPES[np.where(lower_is_nearer, i - 1, i)]


def _variation(values: np.ndarray, eps: float) -> np.ndarray:
    magnitude = np.abs(values)
    return magnitude.std(axis=-1, ddof=1) / (magnitude.mean(axis=-1) + eps)


def _block_statistics(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per 7x7 DCT block of the windows MATLAB's ``blkproc`` visits (every 3 px, the image zero-padded by 2 px
    around and up to whole 3x3 blocks): AC shape, AC coefficient of variation, and the variance of the three
    orientation groups' coefficients of variation. Computed a strip of blocks at a time to bound memory."""
    rows, cols = (math.ceil(n / _STEP) for n in image.shape)
    padded = np.zeros((rows * _STEP + _BLOCK - _STEP, cols * _STEP + _BLOCK - _STEP))
    border = (_BLOCK - _STEP) // 2
    padded[border : border + image.shape[0], border : border + image.shape[1]] = image
    windows = np.lib.stride_tricks.sliding_window_view(padded, (_BLOCK, _BLOCK))[::_STEP, ::_STEP]
    shapes, variation, spread = [], [], []
    strip = max(1, 20000 // cols)
    for top in range(0, rows, strip):
        blocks = (_DCT @ windows[top : top + strip].reshape(-1, _BLOCK, _BLOCK) @ _DCT.T).reshape(-1, _BLOCK**2)
        ac = blocks[:, _AC]
        shapes.append(ggd_shape(ac))
        variation.append(_variation(ac, 1e-7))
        spread.append(np.stack([_variation(blocks[:, group], 1e-8) for group in _GROUPS]).var(axis=0, ddof=1))
    return np.concatenate(shapes), np.concatenate(variation), np.concatenate(spread)


def _mean_lowest_tenth(x: np.ndarray) -> float:
    s = np.sort(x)
    return float(s[: math.ceil(len(s) * 0.1)].mean())


def _mean_highest_tenth(x: np.ndarray) -> float:
    s = np.sort(x)
    return float(s[math.floor(len(s) * 0.9) - 1 :].mean())  # MATLAB s(fix(n * 0.9):end)


def local_frequency_features(image: np.ndarray) -> np.ndarray:
    """The 6 block-DCT statistics of one scale (``block_dct.m``)."""
    shapes, variation, spread = _block_statistics(image)
    return np.array([_mean_lowest_tenth(shapes), shapes.mean(), _mean_highest_tenth(variation), variation.mean(),
                     _mean_highest_tenth(spread), spread.mean()])


def _gaussian_pyramid(image: np.ndarray) -> list[np.ndarray]:
    """The image in [0, 1] and two half-size copies (3x3 Gaussian, sigma 0.5, zero borders, odd samples)."""
    window = gaussian_window(3, 0.5)
    levels = [image]
    for _ in range(2):
        filtered = cv2.filter2D(levels[-1], cv2.CV_64F, window, borderType=cv2.BORDER_CONSTANT)
        levels.append(filtered[1::2, 1::2])
    return levels


def patch_singular_values(image: np.ndarray) -> np.ndarray:
    """The 25 singular values of the matrix of non-overlapping 5x5 patches (zero-padded like ``im2col``)."""
    rows, cols = (math.ceil(n / _PATCH) * _PATCH for n in image.shape)
    padded = np.zeros((rows, cols))
    padded[: image.shape[0], : image.shape[1]] = image
    patches = padded.reshape(rows // _PATCH, _PATCH, cols // _PATCH, _PATCH).transpose(0, 2, 1, 3)
    return np.linalg.svd(patches.reshape(-1, _PATCH * _PATCH), compute_uv=False)


def _normalised_subband(pyramid: steerable.SteerablePyramid, level: int, orientation: int) -> np.ndarray:
    """One subband divided by its local energy under a Gaussian scale mixture (``norm_sender_normalized.m``):
    the neighbourhood is the 3x3 window, the parent (when there is one) and the other orientations; the
    16-pixel guard band (halved per level) is then cut away and the mean removed."""
    band = pyramid.bands[level][orientation]
    rows, cols = band.shape[0] - 2, band.shape[1] - 2
    inner = (slice(1, 1 + rows), slice(1, 1 + cols))
    columns = [np.roll(band, (dy, dx), axis=(0, 1))[inner] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    # the original's bound (nband < Nband - Nor) leaves the last orientation of level 0 without its parent
    has_parent = level * _ORIENTATIONS + orientation + 1 < (_LEVELS - 1) * _ORIENTATIONS
    if has_parent:
        parent = imresize(pyramid.bands[level + 1][orientation], 2.0)[: band.shape[0], : band.shape[1]]
        columns.append(parent[inner])
    neighbourhood = len(columns)  # MATLAB's N: the 3x3 window and the parent, not the other orientations
    columns += [pyramid.bands[level][o][inner] for o in range(_ORIENTATIONS) if o != orientation]
    y = np.stack(columns, axis=-1).reshape(rows * cols, -1)
    eigenvalues, vectors = np.linalg.eigh(y.T @ y / len(y))
    positive = eigenvalues * (eigenvalues > 0)  # clip negative eigenvalues, keeping the total variance
    total = positive.sum()
    eigenvalues = positive * eigenvalues.sum() / (total + (total == 0))
    covariance = vectors @ np.diag(eigenvalues) @ vectors.T
    inverse = np.linalg.pinv(covariance, rcond=max(covariance.shape) * np.finfo(float).eps)
    z = np.sqrt(np.sum((y @ inverse) * y, axis=1) / neighbourhood)
    if not np.all(z > 0):
        raise ValueError("ma_score: a steerable-pyramid band has no local energy (a flat image?)")
    centre = band[inner].ravel()
    normalised = ((centre - centre.mean()) / z).reshape(rows, cols)
    guard = 16 >> level
    normalised = normalised[guard:-guard, guard:-guard]
    return normalised - normalised.mean()


def _contrast_structure(a: np.ndarray, b: np.ndarray) -> float:
    """Mean contrast-structure term of MATLAB SSIM (``ssim_index_new``'s third output, L = 255)."""
    return plane_ssim_components(np.ascontiguousarray(a), np.ascontiguousarray(b), data_range=255.0)[1]


def global_frequency_features(image: np.ndarray) -> np.ndarray:
    """The 45 steerable-pyramid statistics of an image in 0..255 (``global_gsm.m``)."""
    pyramid = steerable.build(image, _LEVELS, _ORIENTATIONS)
    subbands = [_normalised_subband(pyramid, s, o) for s in range(_LEVELS) for o in range(_ORIENTATIONS)]
    features = [ggd_shape(sb.ravel())[0] for sb in subbands]
    features += [ggd_shape(np.concatenate([subbands[o].ravel(), subbands[o + _ORIENTATIONS].ravel()]))[0]
                 for o in range(_ORIENTATIONS)]
    high = pyramid.highpass
    for level in pyramid.bands:
        for band in level:
            features.append(_contrast_structure(band if band.shape == high.shape else imresize(band, size=high.shape),
                                                high))
    features += [_contrast_structure(subbands[i], subbands[j])
                 for i in range(_ORIENTATIONS) for j in range(i + 1, _ORIENTATIONS)]
    return np.array(features)


def fits(shape: tuple[int, ...]) -> bool:
    """Whether a plane of this shape can be scored: each side at least :data:`MIN_SIDE`, and 25 or more
    5x5 patches at quarter size (else the spatial group has fewer than 25 singular values)."""
    quarter = [n // 2 // 2 for n in shape[:2]]
    return min(shape[:2]) >= MIN_SIDE and math.ceil(quarter[0] / _PATCH) * math.ceil(quarter[1] / _PATCH) >= 25


def ma_features(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (18,), (45,) and (75,) feature groups of a Y plane in 0..255 (``feature_all.m``)."""
    if not fits(plane.shape):
        raise ValueError(f"ma_score: the image ({plane.shape[1]}x{plane.shape[0]}) is too small; the score needs "
                         f"{MIN_SIDE} px per side and 25 5x5 patches at quarter size (84x84 for a square)")
    pyramid = _gaussian_pyramid(plane / 255.0)
    local = np.concatenate([local_frequency_features(level) for level in pyramid])
    spatial = np.concatenate([patch_singular_values(level) for level in pyramid])
    return local, global_frequency_features(plane), spatial


@dataclass(frozen=True)
class RegressionForest:
    """A randomForest regression forest: node arrays of shape (nodes, trees) with 1-based children and
    split features as stored; a node without a left child is a leaf, and a sample goes left when
    ``x[feature] <= split``. ``bias`` = (a, b) maps the tree average to ``a + b * average``
    (randomForest's optional bias correction; (0, 1) when the model has none)."""

    left: np.ndarray
    right: np.ndarray
    split_feature: np.ndarray
    split_value: np.ndarray
    value: np.ndarray
    bias: tuple[float, float] = (0.0, 1.0)

    def predict(self, features: np.ndarray) -> float:
        """The mean over trees of the value of the leaf each tree sends ``features`` to."""
        trees = np.arange(self.left.shape[1])
        node = np.zeros_like(trees)
        for _ in range(self.left.shape[0]):
            inner = self.left[node, trees] != 0
            if not inner.any():
                return self.bias[0] + self.bias[1] * float(self.value[node, trees].mean())
            n, t = node[inner], trees[inner]
            goes_left = features[self.split_feature[n, t] - 1] <= self.split_value[n, t]
            node[inner] = np.where(goes_left, self.left[n, t], self.right[n, t]) - 1
        raise ValueError("regression forest: a tree does not reach a leaf (its child links form a cycle)")


@dataclass(frozen=True)
class MaModel:
    """The three forests and the linear combination of Ma et al.'s ``model.mat``."""

    forests: tuple[RegressionForest, RegressionForest, RegressionForest]
    linear: np.ndarray
    path: Path

    def predict(self, features: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
        """``[1, s1, s2, s3] @ linear`` with ``s_k`` the forest prediction for feature group k."""
        partial = [forest.predict(f) for forest, f in zip(self.forests, features, strict=True)]
        return float(np.dot([1.0, *partial], self.linear))


_FIELDS = {"lDau": "left", "rDau": "right", "mbest": "split_feature", "upper": "split_value", "avnode": "value"}


def _forest(record: np.ndarray, n_features: int, where: str) -> RegressionForest:
    names = record.dtype.names or ()
    missing = [f for f in _FIELDS if f not in names]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing} (expected a randomforest-matlab regression model)")
    arrays = {name: np.atleast_2d(np.asarray(record[field][0, 0])) for field, name in _FIELDS.items()}
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) != 1:
        raise ValueError(f"{where}: node arrays differ in shape: {sorted(shapes)}")
    nodes = arrays["left"].shape[0]
    children = np.stack([arrays["left"], arrays["right"]]).astype(np.int64)
    feature = arrays["split_feature"].astype(np.int64)
    inner = children[0] != 0
    if np.any((children[:, inner] < 1) | (children[:, inner] > nodes)):
        raise ValueError(f"{where}: a split node points to a child outside 1..{nodes}")
    if np.any((feature[inner] < 1) | (feature[inner] > n_features)):
        raise ValueError(f"{where}: a split uses a feature outside 1..{n_features}")
    coef = np.asarray(record["coef"][0, 0], dtype=np.float64).ravel() if "coef" in names else np.zeros(0)
    bias = (float(coef[0]), float(coef[1])) if coef.size == 2 and coef.any() else (0.0, 1.0)
    return RegressionForest(left=children[0], right=children[1], split_feature=feature,
                            split_value=arrays["split_value"].astype(np.float64),
                            value=arrays["value"].astype(np.float64), bias=bias)


def load_ma_model(path: str | Path) -> MaModel:
    """Read Ma et al.'s ``model.mat`` (MATLAB v5/v7; data only, nothing is executed), checking its layout."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Ma et al. model file not found: {path} (the README says where to get model.mat)")
    try:
        content = scipy.io.loadmat(path)
    except NotImplementedError as err:  # MATLAB v7.3 files are HDF5
        raise ValueError(f"{path}: a MATLAB v7.3 file; re-save it with save(..., '-v7') ({err})") from err
    except Exception as err:  # truncated or not a .mat at all: scipy raises a variety of errors
        raise ValueError(f"{path}: not a readable MATLAB .mat file ({type(err).__name__}: {err})") from err
    model = content.get("model")
    if model is None or model.dtype.names is None or not {"rf", "linear"} <= set(model.dtype.names):
        raise ValueError(f"{path}: expected a struct 'model' with fields 'rf' and 'linear' (sr-metric's model.mat)")
    cells = model["rf"][0, 0].ravel()
    linear = np.asarray(model["linear"][0, 0], dtype=np.float64).ravel()
    if len(cells) != 3 or linear.shape != (4,):
        raise ValueError(f"{path}: expected 3 forests and 4 linear weights, got {len(cells)} and {linear.size}")
    forests = tuple(_forest(cell, n, f"{path} model.rf{{{k + 1}}}")
                    for k, (cell, n) in enumerate(zip(cells, FEATURE_COUNTS, strict=True)))
    return MaModel(forests=(forests[0], forests[1], forests[2]), linear=linear, path=path)


def ma_score(image: np.ndarray, model: MaModel | str | Path, crop_border: int = 0) -> float:
    """Ma et al.'s score of a uint8 RGB / gray image (or a Y plane in 0..255): RGB is scored on its BT.601 Y
    rounded to uint8, as PIRM 2018 does, after ``crop_border`` pixels are shaved."""
    model = model if isinstance(model, MaModel) else load_ma_model(model)
    return model.predict(ma_features(y_plane(image, "ma_score", crop_border)))


def perceptual_index(ma: float, niqe: float) -> float:
    """PIRM 2018's Perceptual Index ``((10 - Ma) + NIQE) / 2``: lower is better."""
    return ((10.0 - ma) + niqe) / 2.0
