"""Distances between two sets of features: FID, KID and precision/recall. Pure float64 maths.

Every function takes features as (N, D) arrays (numpy or torch, any float dtype; copied to float64
numpy) and knows nothing about images or extractors; :mod:`imagesmith.metrics.features` turns
images into features and attaches the metric card.

* FID (Heusel et al. 2017): Frechet distance between Gaussians fitted to the two sets.
* KID (Binkowski et al. 2018): unbiased MMD^2 with the kernel ``k(x, y) = (x.y / D + 1)^3``,
  averaged over random subsets, as torch-fidelity and clean-fid compute it.
* Precision/recall (Kynkaanniemi et al. 2019): k-NN hypersphere manifolds of each set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "feature_stats",
    "frechet_distance",
    "fid",
    "KIDResult",
    "kid",
    "precision_recall",
]


def _as_features(x: Any, name: str = "features") -> np.ndarray:
    """(N, D) float64 numpy copy of a numpy array or torch tensor."""
    if hasattr(x, "detach"):  # torch.Tensor without importing torch here
        x = x.detach().cpu().numpy()
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} must be (N, D), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contain NaN or inf")
    return a


# ----------------------------------------------------------------------------------------- FID


def feature_stats(feats: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of (N, D) features, float64. Needs N >= 2."""
    a = _as_features(feats)
    if a.shape[0] < 2:
        raise ValueError(f"need at least 2 samples for a covariance, got {a.shape[0]}")
    return a.mean(axis=0), np.atleast_2d(np.cov(a, rowvar=False))


def _psd_sqrt(a: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (eigenvalues clamped at 0)."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)) for two Gaussians; >= 0, 0 iff equal.

    S1 S2 is not symmetric, so a general matrix square root of it (pytorch-fid's
    ``scipy.linalg.sqrtm``) can return complex noise on rank-deficient covariances. Only its
    trace is needed, and S1 S2 is similar to the symmetric PSD matrix R = S1^(1/2) S2 S1^(1/2),
    so tr((S1 S2)^(1/2)) = sum(sqrt(eig(R))): two symmetric eigendecompositions, no complex
    numbers, rounding-level negative eigenvalues clamped to 0.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != mu1.shape * 2:
        raise ValueError(f"shape mismatch: mu {mu1.shape}/{mu2.shape}, sigma {s1.shape}/{s2.shape}")
    root1 = _psd_sqrt(s1)
    r = root1 @ s2 @ root1
    eig = np.linalg.eigvalsh((r + r.T) / 2)
    tr_sqrt = np.sqrt(np.clip(eig, 0.0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_sqrt
    # Equal inputs can land a few ulps below zero; a distance is never negative.
    return float(max(value, 0.0))


def fid(real: Any, fake: Any) -> float:
    """FID between two (N, D) feature sets (no sample-count policy here; see features.py)."""
    return frechet_distance(*feature_stats(real), *feature_stats(fake))


# ----------------------------------------------------------------------------------------- KID


@dataclass(frozen=True)
class KIDResult:
    """KID estimate and its uncertainty (all in squared-feature units; report x1000 if you like).

    ``mean``/``std``: mean and standard deviation of the per-subset unbiased MMD^2 estimates (the
    numbers torch-fidelity reports as kid_subset mean/std). ``low``/``high``: 95% bootstrap
    interval for the MMD^2 between the two distributions, from resampling the *samples* (see
    :func:`kid`). ``subsets``/``subset_size``/``bootstrap``/``pool``: what was actually used.
    """

    mean: float
    std: float
    low: float
    high: float
    subsets: int
    subset_size: int
    bootstrap: int
    pool: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _poly_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 (U-statistic: the k(x_i, x_i) terms are left out) of two sets."""
    m, n = len(x), len(y)
    kxx, kyy = _poly_kernel(x, x), _poly_kernel(y, y)
    xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    yy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(xx + yy - 2.0 * _poly_kernel(x, y).mean())


def _bootstrap_mmd2(
    x: np.ndarray, y: np.ndarray, reps: int, rng: np.random.Generator, block: int = 2048
) -> np.ndarray:
    """MMD^2 U-statistic on ``reps`` bootstrap resamples of x and of y, shape (reps,).

    A resample is a vector of multiplicities w (multinomial), so its sum over pairs is the
    quadratic form w^T K w, computed in row blocks without ever holding K. Pairs of copies of the
    same sample are left out (all of them, not only the diagonal): a duplicate pair would add the
    large self-similarity k(x, x) to the cross-sample mean and bias MMD^2 upwards.
    """
    m, n = len(x), len(y)
    wx = rng.multinomial(m, np.full(m, 1.0 / m), size=reps).astype(np.float64)
    wy = rng.multinomial(n, np.full(n, 1.0 / n), size=reps).astype(np.float64)

    def within(a: np.ndarray, w: np.ndarray) -> np.ndarray:
        quad = np.zeros(reps)
        diag = np.empty(len(a))
        for s in range(0, len(a), block):
            k = _poly_kernel(a[s : s + block], a)
            quad += np.einsum("ri,ri->r", w[:, s : s + block] @ k, w)
            diag[s : s + block] = np.diagonal(k, offset=s)
        w2 = w * w
        return (quad - w2 @ diag) / (w.sum(1) ** 2 - w2.sum(1))

    cross = np.zeros(reps)
    for s in range(0, m, block):
        cross += np.einsum("ri,ri->r", wx[:, s : s + block] @ _poly_kernel(x[s : s + block], y), wy)
    return within(x, wx) + within(y, wy) - 2.0 * cross / (m * n)


def kid(
    real: Any,
    fake: Any,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
    bootstrap: int = 1000,
    pool: int = 10_000,
) -> KIDResult:
    """Kernel Inception Distance between (N_r, D) and (N_f, D) features, with a 95% interval.

    Estimate: ``subsets`` draws of ``subset_size`` samples from each set (without replacement;
    clamped to the smaller set), unbiased MMD^2 on each, mean and std over the draws.

    Interval: percentile bootstrap that resamples the samples themselves (up to ``pool`` per
    set, drawn with the same seed; larger sets are subsampled, which only widens the interval).
    Why not a bootstrap of the subset estimates: the subsets overlap, so their spread measures the
    subset draws, not how much the data could have come out differently; with 2000 samples, 1000
    per subset and equal distributions, such an interval excluded 0 about half the time in a
    simulation. This one tracks the true spread away from 0 and is conservative (about 2x too
    wide) when the two distributions are equal, where MMD^2 is a degenerate U-statistic.
    """
    x, y = _as_features(real, "real"), _as_features(fake, "fake")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sizes differ: {x.shape[1]} vs {y.shape[1]}")
    size = min(subset_size, len(x), len(y))
    if size < 2 or subsets < 1 or bootstrap < 2:
        raise ValueError("KID needs >= 2 samples per set, subsets >= 1 and bootstrap >= 2")
    rng = np.random.default_rng(seed)
    estimates = np.array(
        [
            _mmd2_unbiased(
                x[rng.choice(len(x), size, replace=False)],
                y[rng.choice(len(y), size, replace=False)],
            )
            for _ in range(subsets)
        ]
    )
    boot_rng = np.random.default_rng([seed, 1])  # own stream: changing subsets keeps the interval
    px = x if len(x) <= pool else x[boot_rng.choice(len(x), pool, replace=False)]
    py = y if len(y) <= pool else y[boot_rng.choice(len(y), pool, replace=False)]
    low, high = np.percentile(_bootstrap_mmd2(px, py, bootstrap, boot_rng), [2.5, 97.5])
    return KIDResult(
        mean=float(estimates.mean()),
        std=float(estimates.std(ddof=1)) if subsets > 1 else 0.0,
        low=float(low),
        high=float(high),
        subsets=subsets,
        subset_size=size,
        bootstrap=bootstrap,
        pool=max(len(px), len(py)),
    )


# ------------------------------------------------------------------------ precision and recall


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)  # cancellation can dip below 0 for near-identical points


def _knn_radii_sq(a: np.ndarray, k: int, block: int) -> np.ndarray:
    """Squared distance from each row of ``a`` to its k-th nearest other row, shape (N,).

    Rows are processed in blocks against column blocks, keeping the k+1 smallest distances per
    row (the point itself is one of them at distance 0), so memory is block x block.
    """
    n = len(a)
    if n <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} samples, got {n}")
    radii = np.empty(n)
    for r in range(0, n, block):
        best = np.full((min(block, n - r), k + 1), np.inf)
        for c in range(0, n, block):
            d = np.concatenate([best, _sq_dists(a[r : r + block], a[c : c + block])], axis=1)
            best = np.partition(d, k, axis=1)[:, : k + 1]
        radii[r : r + block] = best.max(axis=1)  # the (k+1)-th smallest, self included
    return radii


def _coverage(queries: np.ndarray, centers: np.ndarray, radii_sq: np.ndarray, block: int) -> float:
    """Fraction of queries inside at least one ball (center, radius) of the other set."""
    inside = np.zeros(len(queries), dtype=bool)
    for r in range(0, len(queries), block):
        q = queries[r : r + block]
        hit = np.zeros(len(q), dtype=bool)
        for c in range(0, len(centers), block):
            hit |= (_sq_dists(q, centers[c : c + block]) <= radii_sq[None, c : c + block]).any(1)
        inside[r : r + block] = hit
    return float(inside.mean())


def precision_recall(real: Any, fake: Any, k: int = 3, block: int = 2048) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019), both in [0, 1].

    Each set's manifold is the union of balls around its samples with radius = distance to the
    k-th nearest neighbour in the same set. Precision: fraction of fake samples inside the real
    manifold (are samples realistic?). Recall: fraction of real samples inside the fake manifold
    (is the real variety covered?). Distances are computed in ``block`` x ``block`` tiles.
    """
    x, y = _as_features(real, "real"), _as_features(fake, "fake")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sizes differ: {x.shape[1]} vs {y.shape[1]}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    precision = _coverage(y, x, _knn_radii_sq(x, k, block), block)
    recall = _coverage(x, y, _knn_radii_sq(y, k, block), block)
    return precision, recall
