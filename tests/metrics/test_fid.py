"""FID, KID and precision/recall on synthetic features with known answers."""

import numpy as np
import pytest
import torch

from imagesmith.metrics.fid import (
    feature_stats,
    fid,
    frechet_distance,
    kid,
    precision_recall,
)


def _spd(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T / d + (0 if rank else 0.1 * np.eye(d))


def _reference_fid(mu1, s1, mu2, s2):
    # Textbook route: eigenvalues of the non-symmetric S1 S2 are real and >= 0 for SPD inputs.
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum()
    return ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt


# ----------------------------------------------------------------------------------------- FID


def test_feature_stats_matches_numpy():
    x = np.random.default_rng(0).standard_normal((50, 4))
    mu, sigma = feature_stats(torch.from_numpy(x).float())
    assert mu.dtype == np.float64 and sigma.shape == (4, 4)
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float32), rowvar=False), rtol=1e-5)
    with pytest.raises(ValueError):
        feature_stats(x[:1])


def test_identical_sets_give_zero():
    x = np.random.default_rng(0).standard_normal((500, 32)) * 3 + 1
    assert fid(x, x) == pytest.approx(0.0, abs=1e-9)
    mu, s = feature_stats(x)
    assert frechet_distance(mu, s, mu, s) >= 0.0


def test_diagonal_gaussians_closed_form():
    rng = np.random.default_rng(1)
    d = 64
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    v1, v2 = rng.uniform(0.1, 4, d), rng.uniform(0.1, 4, d)
    expected = ((mu1 - mu2) ** 2).sum() + (v1 + v2 - 2 * np.sqrt(v1 * v2)).sum()
    got = frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2))
    assert got == pytest.approx(expected, rel=1e-6)


def test_random_spd_matches_reference_and_is_symmetric():
    rng = np.random.default_rng(2)
    for d in (3, 20, 100):
        mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
        s1, s2 = _spd(rng, d), _spd(rng, d)
        got = frechet_distance(mu1, s1, mu2, s2)
        assert got == pytest.approx(_reference_fid(mu1, s1, mu2, s2), rel=1e-8)
        assert got == pytest.approx(frechet_distance(mu2, s2, mu1, s1), rel=1e-10)


def test_matches_scipy_sqrtm_when_available():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(3)
    mu1, mu2 = rng.standard_normal(30), rng.standard_normal(30)
    s1, s2 = _spd(rng, 30), _spd(rng, 30)
    covmean = linalg.sqrtm(s1 @ s2).real  # the pytorch-fid formula
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-7)


def test_rank_deficient_covariances_stay_real_and_nonnegative():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((20, 64)), rng.standard_normal((20, 64)) + 0.5
    value = fid(x, y)
    assert np.isfinite(value) and value > 0
    # FID is symmetric in exact arithmetic; BLAS kernels (e.g. OpenBLAS Haswell) differ in the
    # last bits, so the tolerance is that of float64 matrix square roots, not bit-exactness.
    assert value == pytest.approx(fid(y, x), rel=1e-6)


def test_fid_shape_errors():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError):
        fid(np.zeros((5, 3, 1)), np.zeros((5, 3)))


# ----------------------------------------------------------------------------------------- KID


def _mmd2_loops(x, y):
    """Unbiased MMD^2 written out term by term (independent of the vectorised code)."""
    d, m, n = x.shape[1], len(x), len(y)

    def k(a, b):
        return (a @ b / d + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_single_full_subset_matches_formula():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((25, 4)), rng.standard_normal((25, 4)) + 0.3
    r = kid(x, y, subsets=1, subset_size=25, bootstrap=50)
    assert r.mean == pytest.approx(_mmd2_loops(x, y), rel=1e-10)
    assert r.subset_size == 25 and r.std == 0.0


@pytest.mark.parametrize("data_seed", [0, 1, 2, 3])
def test_kid_same_distribution_interval_contains_zero(data_seed):
    rng = np.random.default_rng(data_seed)
    x, y = rng.standard_normal((600, 16)), rng.standard_normal((600, 16))
    r = kid(x, y, subsets=50, subset_size=300, bootstrap=300)
    assert abs(r.mean) < 3 * r.std
    assert r.low <= 0.0 <= r.high


def test_kid_different_distributions_interval_excludes_zero():
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((600, 16)), rng.standard_normal((600, 16)) * 1.3 + 0.5
    r = kid(x, y, subsets=50, subset_size=300, bootstrap=300)
    assert r.mean > 0 and r.low > 0 and r.low <= r.mean <= r.high


def test_kid_is_deterministic_for_a_seed_and_clamps_subset_size():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((120, 8)), rng.standard_normal((90, 8))
    a = kid(x, y, subsets=10, subset_size=1000, seed=3, bootstrap=100)
    assert a == kid(x, y, subsets=10, subset_size=1000, seed=3, bootstrap=100)
    assert a.subset_size == 90 and a.pool == 120
    b = kid(x, y, subsets=10, subset_size=50, seed=4, bootstrap=100)
    assert b.mean != kid(x, y, subsets=10, subset_size=50, seed=3, bootstrap=100).mean


def test_kid_pool_subsamples_the_bootstrap():
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((300, 8)), rng.standard_normal((300, 8)) + 1.0
    r = kid(x, y, subsets=5, subset_size=100, bootstrap=100, pool=150)
    assert r.pool == 150 and 0 < r.low < r.high


# ------------------------------------------------------------------------ precision and recall


def _clusters(rng, centers, per):
    return np.concatenate([c + rng.standard_normal((per, len(c))) for c in centers])


def test_pr_identical_sets():
    x = np.random.default_rng(9).standard_normal((200, 8))
    assert precision_recall(x, x, k=3) == (1.0, 1.0)


def test_pr_half_the_modes():
    rng = np.random.default_rng(10)
    centers = [np.eye(4)[i] * 20 for i in range(4)]
    real = _clusters(rng, centers, 250)
    half = _clusters(rng, centers[:2], 500)  # realistic samples, but only two of four modes
    full = _clusters(rng, centers, 250)  # a fresh draw of the real distribution
    p_half, r_half = precision_recall(real, half, k=3)
    p_full, r_full = precision_recall(real, full, k=3)
    assert p_full > 0.9 and r_full > 0.9
    assert p_half > 0.9  # every sample it makes is realistic...
    assert 0.4 < r_half < 0.6  # ...but it covers half of the real variety


def test_pr_far_away_fakes():
    rng = np.random.default_rng(11)
    real, fake = rng.standard_normal((200, 8)), rng.standard_normal((200, 8)) + 50
    assert precision_recall(real, fake) == (0.0, 0.0)


def test_pr_blocks_do_not_change_the_result():
    rng = np.random.default_rng(12)
    real, fake = rng.standard_normal((103, 6)), rng.standard_normal((97, 6)) * 1.2 + 0.3
    assert precision_recall(real, fake, k=5, block=7) == precision_recall(real, fake, k=5)
    with pytest.raises(ValueError):
        precision_recall(real[:3], fake, k=3)
