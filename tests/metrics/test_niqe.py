import numpy as np
import pytest

from imagesmith.metrics.niqe import (
    N_FEATURES,
    NIQEModel,
    fit_aggd,
    fit_ggd,
    fit_niqe_model,
    load_default_model,
    niqe,
    niqe_features,
    to_gray255,
)

skdata = pytest.importorskip("skimage.data")
skfilters = pytest.importorskip("skimage.filters")


def _ggd_samples(rng, shape, scale, n):
    """|x| / scale follows Gamma(1/shape)^(1/shape); random sign."""
    mag = scale * rng.standard_gamma(1.0 / shape, size=n) ** (1.0 / shape)
    return np.where(rng.random(n) < 0.5, -mag, mag)


def _aggd_samples(rng, shape, beta_l, beta_r, n):
    """Left side with probability beta_l / (beta_l + beta_r), each side a half-GGD."""
    mag = rng.standard_gamma(1.0 / shape, size=n) ** (1.0 / shape)
    left = rng.random(n) < beta_l / (beta_l + beta_r)
    return np.where(left, -beta_l * mag, beta_r * mag)


@pytest.mark.parametrize("shape", [2.0, 1.0, 0.6])
def test_ggd_fit_recovers_shape(shape):
    rng = np.random.default_rng(0)
    x = _ggd_samples(rng, shape, 1.0, 400_000)
    got_shape, var = fit_ggd(x)
    assert got_shape == pytest.approx(shape, rel=0.03)
    assert var == pytest.approx(np.mean(x * x))
    if shape == 2.0:  # a Gaussian with scale 1 has variance 1/2
        assert var == pytest.approx(0.5, rel=0.01)
    # a symmetric sample fits an AGGD with the same shape and equal sides
    a_shape, mean, bl, br = fit_aggd(x)
    assert a_shape == pytest.approx(shape, rel=0.03)
    assert bl == pytest.approx(1.0, rel=0.03) and br == pytest.approx(1.0, rel=0.03)
    assert abs(mean) < 0.02


def test_aggd_fit_recovers_asymmetric_parameters():
    rng = np.random.default_rng(1)
    shape, bl, br = 1.5, 0.5, 1.5
    x = _aggd_samples(rng, shape, bl, br, 400_000)
    got, mean, got_l, got_r = fit_aggd(x)
    assert got == pytest.approx(shape, rel=0.03)
    assert got_l == pytest.approx(bl, rel=0.03)
    assert got_r == pytest.approx(br, rel=0.03)
    assert mean == pytest.approx(np.mean(x), rel=0.03)  # eta is the distribution's mean


def test_fits_are_vectorised_along_axis():
    rng = np.random.default_rng(2)
    x = np.stack([_ggd_samples(rng, 2.0, 1.0, 50_000), _ggd_samples(rng, 1.0, 1.0, 50_000)])
    shapes, _ = fit_ggd(x.T, axis=0)
    assert shapes.shape == (2,)
    assert shapes[0] == pytest.approx(2.0, rel=0.05) and shapes[1] == pytest.approx(1.0, rel=0.05)
    assert all(v.shape == (2,) for v in fit_aggd(x))


def test_features_shape_and_finite():
    rng = np.random.default_rng(3)
    img = rng.random((200, 300, 3))  # crops to 2x3 patches of 96
    feats, sharp = niqe_features(img, return_sharpness=True)
    assert feats.shape == (6, N_FEATURES) and sharp.shape == (6,)
    assert np.isfinite(feats).all() and (sharp > 0).all()


def test_gray_conversion():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0] = 255
    assert to_gray255(rgb)[0, 0] == 76.0  # rgb2gray(uint8 red) = round(76.22)
    same = np.full((2, 2, 3), 0.5)
    np.testing.assert_allclose(to_gray255(same), 127.5)
    gray = np.arange(4, dtype=np.uint8).reshape(2, 2)
    np.testing.assert_array_equal(to_gray255(gray), gray)
    np.testing.assert_array_equal(to_gray255(np.repeat(gray[..., None], 3, 2)), gray)


def test_too_small_raises():
    with pytest.raises(ValueError, match="96x96"):
        niqe(np.zeros((95, 300, 3), np.uint8))
    with pytest.raises(ValueError, match="96x96"):
        niqe_features(np.zeros((300, 50)))


def test_shipped_model_loads():
    model = load_default_model()
    assert model.mu.shape == (N_FEATURES,) and model.cov.shape == (N_FEATURES, N_FEATURES)
    assert np.isfinite(model.mu).all() and np.isfinite(model.cov).all()
    np.testing.assert_allclose(model.cov, model.cov.T)
    assert model.n_patches > 500
    assert "T91" in model.source and "BSD200" in model.source and model.fit_date


def test_scores_worse_when_blurred_or_noisy():
    img = skdata.astronaut()
    clean = niqe(img)
    assert clean == niqe(img)  # deterministic
    blurred = skfilters.gaussian(img, sigma=2.0, channel_axis=-1, preserve_range=True)
    blurred = np.round(blurred).astype(np.uint8)
    rng = np.random.default_rng(4)
    noisy = np.clip(img + rng.normal(0, 40, img.shape), 0, 255).round().astype(np.uint8)
    assert niqe(blurred) > clean + 1.0
    assert niqe(noisy) > clean + 1.0


def test_fit_few_images_and_roundtrip(tmp_path):
    images = [skdata.camera(), skdata.coffee(), skdata.chelsea()]
    model = fit_niqe_model(images, source="three skimage photos")
    assert model.mu.shape == (N_FEATURES,) and model.cov.shape == (N_FEATURES, N_FEATURES)
    np.testing.assert_allclose(model.cov, model.cov.T)
    assert np.linalg.eigvalsh(model.cov).min() > -1e-10
    total = sum(len(niqe_features(im)) for im in images)
    assert 3 <= model.n_patches < total  # the sharpness selection dropped some patches
    path = tmp_path / "m.npz"
    model.save(path)
    back = NIQEModel.load(path)
    np.testing.assert_array_equal(back.mu, model.mu)
    assert back.source == "three skimage photos" and back.n_patches == model.n_patches
    score = niqe(skdata.astronaut(), model=path)
    assert np.isfinite(score) and score == niqe(skdata.astronaut(), model=back)


def test_the_standard_parameter_layout_loads(tmp_path):
    from imagesmith.metrics.niqe import NIQEModel, load_default_model

    ref = load_default_model()
    path = tmp_path / "std.npz"
    np.savez(
        path, mu_pris_param=ref.mu[None], cov_pris_param=ref.cov, gaussian_window=np.ones((7, 7))
    )
    model = NIQEModel.load(path)
    assert np.array_equal(model.mu, ref.mu) and "standard" in model.source
