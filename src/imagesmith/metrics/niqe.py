"""NIQE: a no-reference naturalness score (Mittal, Soundararajan and Bovik 2013).

"Making a completely blind image quality analyzer" (IEEE Signal Processing Letters 20(3)) describes
an image by natural-scene statistics of its 96x96 patches and reports the distance between the
Gaussian fitted to the test image's patch features and a Gaussian fitted once to pristine photos.
Lower is more natural. Perceptual super-resolution papers (SRGAN, ESRGAN, the PIRM 2018 challenge)
report it beside PSNR.

The feature pipeline follows the authors' MATLAB release (``computequality.m``,
``computefeature.m``, ``estimateaggdparam.m``, ``estimatemodelparam.m``):

* Gray image in [0, 255]: MATLAB ``rgb2gray`` luma (0.2989 R + 0.5870 G + 0.1140 B, full range,
  *not* the studio-range BT.601 Y of :mod:`imagesmith.functional.color`). For integer input the
  luma is rounded to integers, as ``rgb2gray`` does on a uint8 image; float input is not rounded,
  so a uint8 image and the same image divided by 255 differ a little (0.00-0.03 on skimage
  photos, 0.2 on one with a large flat sky, where C = 1 is of the order of the rounding). Score
  the images as they are saved (uint8) when comparing methods.
* The image is cropped (top-left kept) to a whole number of 96x96 patches; no other border crop.
  Benchmark protocols that shave ``scale`` pixels (``sr-y``) must crop before calling.
* MSCN coefficients ``(I - mu) / (sigma + 1)``, with mu and sigma from a normalised 7x7 Gaussian
  window (sigma 7/6) and replicated borders.
* Per non-overlapping patch, 18 features: an AGGD fit of the MSCN coefficients (shape, mean of the
  left and right scale parameters) and AGGD fits of the products of neighbouring coefficients in 4
  directions, circularly shifted within the patch (horizontal, vertical, both diagonals: shape,
  mean, left scale, right scale). The shapes come from the moment-ratio lookup over the grid
  0.2:0.001:10 used by BRISQUE and NIQE.
* The same 18 features again after halving the image with MATLAB's antialiased bicubic
  ``imresize`` (:func:`imagesmith.functional.resize.imresize`), on 48x48 patches: 36 per patch.
* Pristine model: only patches whose mean local deviation (sigma at scale 1) exceeds 0.75 of the
  image's sharpest patch are kept; test images use every patch.
* Score: ``sqrt((mu1 - mu2)^T pinv((S1 + S2) / 2) (mu1 - mu2))``.

Note that the paper's text calls feature 2 a variance (a GGD fit) and the pair features left and
right variances; the released code computed AGGD *scale* parameters, and this module follows the
code (so the authors' ``modelparameters.mat`` could be used with it). :func:`fit_ggd` is provided
for completeness but is not part of the NIQE features.

The shipped pristine model (``niqe_pristine.npz``) is **not** the authors' one: it was fitted with
``tools/fit_niqe.py`` on the project's training photos (T91 + BSD200), so absolute values are not
comparable with published NIQE numbers, only with each other.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import torch

from imagesmith.functional.resize import imresize

__all__ = [
    "PATCH_SIZE",
    "SHARPNESS_THRESHOLD",
    "N_FEATURES",
    "NIQEModel",
    "fit_ggd",
    "fit_aggd",
    "to_gray255",
    "niqe_features",
    "fit_niqe_model",
    "load_default_model",
    "niqe",
]

PATCH_SIZE = 96
SHARPNESS_THRESHOLD = 0.75
N_FEATURES = 36
DEFAULT_MODEL_FILE = "niqe_pristine.npz"

# MATLAB rgb2gray: the first row of the inverse of the NTSC RGB -> YIQ matrix.
_RGB2GRAY = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])
# Shape grid of the moment-matching lookup (BRISQUE / NIQE reference code).
_SHAPES = np.arange(200, 10001) / 1000.0
# Neighbour offsets (rows, cols) of the paired products: horizontal, vertical, two diagonals.
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))


# ------------------------------------------------------------------------------------ model


@dataclass(frozen=True)
class NIQEModel:
    """Multivariate Gaussian of pristine patch features.

    ``mu`` (36,), ``cov`` (36, 36), both float64; ``n_patches`` the number of patches it was
    fitted on; ``source`` a human-readable description of the images; ``fit_date`` ISO date.
    """

    mu: np.ndarray
    cov: np.ndarray
    n_patches: int
    source: str
    fit_date: str = ""

    def __post_init__(self) -> None:
        mu = np.asarray(self.mu, dtype=np.float64)
        cov = np.asarray(self.cov, dtype=np.float64)
        if mu.shape != (N_FEATURES,) or cov.shape != (N_FEATURES, N_FEATURES):
            raise ValueError(
                f"NIQE model needs mu ({N_FEATURES},) and cov ({N_FEATURES}, {N_FEATURES}), "
                f"got {mu.shape} and {cov.shape}"
            )
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "cov", cov)
        object.__setattr__(self, "n_patches", int(self.n_patches))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write an ``.npz`` (no pickles) that :meth:`load` reads back."""
        np.savez(
            path,
            mu=self.mu,
            cov=self.cov,
            n_patches=np.int64(self.n_patches),
            source=np.str_(self.source),
            fit_date=np.str_(self.fit_date),
            patch_size=np.int64(PATCH_SIZE),
            sharpness_threshold=np.float64(SHARPNESS_THRESHOLD),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> NIQEModel:
        """Read a model written by :meth:`save`, or the standard pristine parameters in the
        layout BasicSR ships them (``mu_pris_param``, ``cov_pris_param``: the MATLAB release's
        model, for numbers that compare with papers)."""
        with np.load(path, allow_pickle=False) as f:
            if "mu_pris_param" in f:
                return cls(
                    mu=np.asarray(f["mu_pris_param"]).reshape(-1),
                    cov=f["cov_pris_param"],
                    n_patches=0,
                    source="standard NIQE pristine model (MATLAB release)",
                )
            patch = int(f["patch_size"]) if "patch_size" in f else PATCH_SIZE
            if patch != PATCH_SIZE:
                raise ValueError(f"{path}: model fitted on {patch}px patches, need {PATCH_SIZE}")
            return cls(
                mu=f["mu"],
                cov=f["cov"],
                n_patches=int(f["n_patches"]),
                source=str(f["source"]),
                fit_date=str(f["fit_date"]) if "fit_date" in f else "",
            )


@lru_cache(maxsize=1)
def load_default_model() -> NIQEModel:
    """The shipped pristine model (fitted on T91 + BSD200 by ``tools/fit_niqe.py``)."""
    ref = resources.files("imagesmith.metrics").joinpath(DEFAULT_MODEL_FILE)
    if not ref.is_file():
        raise FileNotFoundError(
            f"imagesmith/metrics/{DEFAULT_MODEL_FILE} is missing; run tools/fit_niqe.py"
        )
    with resources.as_file(ref) as path:
        return NIQEModel.load(path)


# --------------------------------------------------------------------- distribution fits


@lru_cache(maxsize=1)
def _lookup_tables() -> tuple[np.ndarray, np.ndarray]:
    """Moment ratios over the shape grid: GGD ``E[x^2] / E|x|^2`` and its AGGD inverse."""
    lg = np.vectorize(math.lgamma)
    a, b, c = lg(1.0 / _SHAPES), lg(2.0 / _SHAPES), lg(3.0 / _SHAPES)
    ggd = np.exp(a + c - 2.0 * b)  # Gamma(1/s) Gamma(3/s) / Gamma(2/s)^2, decreasing in s
    return ggd, 1.0 / ggd


def _nearest_shape(table: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Grid shape whose table entry is closest to each value (first one on ties, NaN -> 0.2)."""
    flat = values.reshape(-1)
    out = np.empty(flat.shape, dtype=np.int64)
    for i in range(0, flat.size, 256):  # bounded memory: (256, 9801) at a time
        chunk = flat[i : i + 256, None]
        with np.errstate(invalid="ignore"):
            dist = np.abs(chunk - table[None, :])
        dist[np.isnan(dist)] = np.inf  # MATLAB's min skips NaN; an all-NaN row gives index 1
        out[i : i + 256] = np.argmin(dist, axis=1)
    return _SHAPES[out].reshape(values.shape)


def _gamma_ratio(num: float, den: float, shape: np.ndarray) -> np.ndarray:
    """Gamma(num / shape) / Gamma(den / shape), elementwise."""
    lg = np.vectorize(math.lgamma, otypes=[np.float64])
    return np.exp(lg(num / shape) - lg(den / shape))


def fit_ggd(x: Any, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Moment-matching fit of a zero-mean generalised Gaussian along ``axis``.

    Density ``exp(-(|x| / beta)^shape)`` up to normalisation: shape 2 is a Gaussian, 1 a
    Laplacian. The shape is the grid value (0.2 to 10, step 0.001) whose ratio
    ``Gamma(1/s) Gamma(3/s) / Gamma(2/s)^2`` is nearest to ``E[x^2] / E[|x|]^2``.

    Returns ``(shape, variance)`` arrays with ``axis`` removed (scalars as 0-d arrays).
    """
    v = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    var = np.mean(v * v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = var / np.mean(np.abs(v), axis=-1) ** 2
    ggd_table, _ = _lookup_tables()
    return _nearest_shape(ggd_table, rho), var


def fit_aggd(x: Any, axis: int = -1) -> tuple[np.ndarray, ...]:
    """Moment-matching fit of an asymmetric generalised Gaussian along ``axis``.

    Density ``exp(-(-x / beta_l)^shape)`` for x < 0 and ``exp(-(x / beta_r)^shape)`` for x >= 0,
    up to normalisation. The left/right standard deviations come from the negative/positive
    samples; the shape is matched with the AGGD-corrected ratio ``E|x|^2 / E[x^2]`` as in
    BRISQUE/NIQE; ``beta = std * sqrt(Gamma(1/s) / Gamma(3/s))``.

    Returns ``(shape, mean, beta_left, beta_right)`` with ``axis`` removed, where
    ``mean = (beta_r - beta_l) Gamma(2/s) / Gamma(1/s)``. A side without samples gives NaN.
    """
    v = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    sq = v * v
    neg, pos = v < 0, v > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        left_std = np.sqrt(np.sum(sq * neg, axis=-1) / np.sum(neg, axis=-1))
        right_std = np.sqrt(np.sum(sq * pos, axis=-1) / np.sum(pos, axis=-1))
        g = left_std / right_std
        r_hat = np.mean(np.abs(v), axis=-1) ** 2 / np.mean(sq, axis=-1)
        r_norm = r_hat * (g**3 + 1.0) * (g + 1.0) / (g**2 + 1.0) ** 2
    _, aggd_table = _lookup_tables()
    shape = _nearest_shape(aggd_table, r_norm)
    to_beta = np.sqrt(_gamma_ratio(1.0, 3.0, shape))
    beta_l, beta_r = left_std * to_beta, right_std * to_beta
    mean = (beta_r - beta_l) * _gamma_ratio(2.0, 1.0, shape)
    return shape, mean, beta_l, beta_r


# ----------------------------------------------------------------------------- features


def to_gray255(image: Any) -> np.ndarray:
    """(H, W) float64 gray image in [0, 255] from an array image.

    Accepts (H, W), (H, W, 1), (H, W, 2) gray+alpha, (H, W, 3) RGB or (H, W, 4) RGBA; alpha is
    ignored. uint8 is taken as 0..255, uint16 as 0..65535, floats as [0, 1]. RGB is reduced with
    MATLAB's ``rgb2gray`` weights; integer RGB is rounded to integer levels as ``rgb2gray`` does.
    """
    if hasattr(image, "detach"):  # a torch tensor: accept it in the same (H, W[, C]) layout
        image = image.detach().cpu().numpy()
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] in (1, 2, 3, 4):
        a = a[..., :3] if a.shape[2] >= 3 else a[..., 0]
    elif a.ndim != 2:
        raise ValueError(f"NIQE needs an (H, W) or (H, W, C) image, got shape {a.shape}")
    if a.dtype == np.uint8 or a.dtype == np.uint16:
        peak = float(np.iinfo(a.dtype).max)
        gray = a.astype(np.float64) @ _RGB2GRAY if a.ndim == 3 else a.astype(np.float64)
        gray = np.floor(np.clip(gray, 0.0, peak) + 0.5)  # rgb2gray keeps the integer class
        return gray * (255.0 / peak)
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"NIQE needs a uint8, uint16 or float image, got {a.dtype}")
    a = a.astype(np.float64)
    gray = a @ _RGB2GRAY if a.ndim == 3 else a
    return gray * 255.0


def _gaussian_filter(x: np.ndarray) -> np.ndarray:
    """Correlate with MATLAB's ``fspecial('gaussian', 7, 7/6)``, replicated borders."""
    t = np.arange(-3, 4, dtype=np.float64)
    k = np.exp(-(t**2) / (2.0 * (7.0 / 6.0) ** 2))
    k /= k.sum()  # the 2-D window is the outer product of this normalised 1-D one
    h, w = x.shape
    p = np.pad(x, 3, mode="edge")
    rows = sum(k[i] * p[i : i + h, :] for i in range(7))
    return sum(k[i] * rows[:, i : i + w] for i in range(7))


def _mscn(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean-subtracted contrast-normalised coefficients and the local deviation sigma."""
    mu = _gaussian_filter(gray)
    sigma = np.sqrt(np.abs(_gaussian_filter(gray * gray) - mu * mu))
    return (gray - mu) / (sigma + 1.0), sigma


def _patches(x: np.ndarray, size: int) -> np.ndarray:
    """(n, size, size) non-overlapping patches of an (H, W) array whose sides divide by size."""
    h, w = x.shape
    return x.reshape(h // size, size, w // size, size).swapaxes(1, 2).reshape(-1, size, size)


def _scale_features(mscn: np.ndarray, size: int) -> np.ndarray:
    """(n, 18) features of the size x size patches of an MSCN map."""
    blocks = _patches(mscn, size)
    flat = blocks.reshape(len(blocks), -1)
    shape, _, beta_l, beta_r = fit_aggd(flat)
    cols = [shape, (beta_l + beta_r) / 2.0]
    for shift in _SHIFTS:
        pair = flat * np.roll(blocks, shift, axis=(1, 2)).reshape(len(blocks), -1)
        cols.extend(fit_aggd(pair))
    return np.stack(cols, axis=1)


def niqe_features(image: Any, return_sharpness: bool = False):
    """NIQE features of every 96x96 patch of an image, float64 of shape (n_patches, 36).

    ``image`` as for :func:`to_gray255`; the image is cropped to whole patches (top-left kept).
    With ``return_sharpness`` also the (n_patches,) mean local deviation of each patch at scale 1
    (the pristine-fit selection criterion). Rows can contain NaN for flat patches.

    Raises ValueError when the image is smaller than one patch.
    """
    gray = to_gray255(image)
    h, w = gray.shape
    if h < PATCH_SIZE or w < PATCH_SIZE:
        raise ValueError(
            f"NIQE needs an image of at least {PATCH_SIZE}x{PATCH_SIZE} pixels (one patch), "
            f"got {h}x{w}"
        )
    gray = gray[: h - h % PATCH_SIZE, : w - w % PATCH_SIZE]
    feats, sharpness = [], None
    for scale in (1, 2):
        if scale == 2:
            gray = imresize(torch.from_numpy(gray), scale=0.5).numpy()
        mscn, sigma = _mscn(gray)
        feats.append(_scale_features(mscn, PATCH_SIZE // scale))
        if scale == 1:
            sharpness = _patches(sigma, PATCH_SIZE).mean(axis=(1, 2))
    out = np.concatenate(feats, axis=1)
    return (out, sharpness) if return_sharpness else out


def _finite_rows(feats: np.ndarray) -> np.ndarray:
    # Flat patches give NaN features; MATLAB's nancov drops such rows, and so do we (mean too).
    return feats[np.isfinite(feats).all(axis=1)]


def _gaussian(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = feats.mean(axis=0)
    if len(feats) < 2:  # MATLAB's cov of a single row is 0
        return mu, np.zeros((feats.shape[1], feats.shape[1]))
    return mu, np.cov(feats, rowvar=False)


def fit_niqe_model(
    images: Any,
    source: str = "",
    sharpness_threshold: float = SHARPNESS_THRESHOLD,
    fit_date: str = "",
) -> NIQEModel:
    """Fit the pristine Gaussian on an iterable of images (arrays as for :func:`to_gray255`).

    From each image only the patches sharper than ``sharpness_threshold`` times its sharpest
    patch are kept (0.75 in the paper); images smaller than one patch raise ValueError.
    """
    kept = []
    for image in images:
        feats, sharp = niqe_features(image, return_sharpness=True)
        kept.append(feats[sharp > sharpness_threshold * sharp.max()])
    if not kept:
        raise ValueError("fit_niqe_model needs at least one image")
    feats = _finite_rows(np.concatenate(kept, axis=0))
    if len(feats) < 2:
        raise ValueError(f"fit_niqe_model kept {len(feats)} usable patches, need at least 2")
    mu, cov = _gaussian(feats)
    return NIQEModel(mu=mu, cov=cov, n_patches=len(feats), source=source, fit_date=fit_date)


def _pinv_sym(a: np.ndarray) -> np.ndarray:
    """Pseudo-inverse of a symmetric matrix with MATLAB's default ``pinv`` tolerance."""
    w, v = np.linalg.eigh((a + a.T) / 2.0)
    tol = a.shape[0] * np.abs(w).max(initial=0.0) * np.finfo(np.float64).eps
    keep = np.abs(w) > tol
    inv_w = np.zeros_like(w)
    inv_w[keep] = 1.0 / w[keep]
    return (v * inv_w) @ v.T


def niqe(image: Any, model: NIQEModel | str | os.PathLike[str] | None = None) -> float:
    """NIQE score of one image (lower is more natural).

    Args:
        image: (H, W, 3) RGB or (H, W) gray, uint8/uint16 or float in [0, 1] (see
            :func:`to_gray255`), at least 96x96. Border shaving (e.g. the ``sr-y`` protocol's
            ``scale`` pixels) is the caller's job; the image is only cropped to whole patches.
        model: a :class:`NIQEModel`, a path to a saved one, or None for the shipped model fitted
            on T91 + BSD200 (not the authors' pristine set, so values differ from MATLAB's).

    Every patch of the test image is used (no sharpness selection), as in the paper.
    """
    if model is None:
        model = load_default_model()
    elif not isinstance(model, NIQEModel):
        model = NIQEModel.load(model)
    feats = _finite_rows(niqe_features(image))
    if len(feats) == 0:
        raise ValueError("NIQE: every patch of the image is flat (no usable features)")
    mu, cov = _gaussian(feats)
    d = model.mu - mu
    q = float(d @ _pinv_sym((model.cov + cov) / 2.0) @ d)
    return math.sqrt(max(q, 0.0))
