import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from imagesmith.functional.real_degrade import (
    KERNEL_TYPES,
    RealDegradeConfig,
    StageConfig,
    add_random_noise,
    apply_kernel,
    degrade_real,
    gaussian_kernel,
    generalized_gaussian_kernel,
    plateau_kernel,
    random_jpeg,
    random_kernel,
    random_resize,
    resize,
    sinc_kernel,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def smooth_image(n: int = 2, size: int = 48, seed: int = 0) -> torch.Tensor:
    """Natural-ish test images: upsampled random colours, values in [0.1, 0.9]."""
    low = torch.rand(n, 3, size // 8, size // 8, generator=gen(seed))
    return 0.1 + 0.8 * F.interpolate(low, size=(size, size), mode="bilinear", align_corners=False)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return (10 * torch.log10(1 / ((a - b) ** 2).mean())).item()


def on_uint8_grid(x: torch.Tensor) -> bool:
    return bool(((x * 255 - (x * 255).round()).abs() < 1e-3).all())


# A configuration with every degradation off: only the resize to the target size (area) is left.
OFF_STAGE = StageConfig(
    blur_prob=0.0,
    resize_prob=(0.0, 0.0, 1.0),
    resize_modes=("area",),
    noise_prob=0.0,
    jpeg_prob=0.0,
)
OFF = RealDegradeConfig(
    stage1=OFF_STAGE, stage2=OFF_STAGE, final_sinc_prob=0.0, final_resize_modes=("area",)
)


# ------------------------------------------------------------------------------------ kernels


def test_random_kernels_sum_to_one_with_odd_sizes_in_range():
    g = gen(1)
    for _ in range(100):
        k = random_kernel(g)
        assert k.dtype == torch.float32 and k.ndim == 2 and k.shape[0] == k.shape[1]
        assert k.shape[0] % 2 == 1 and 7 <= k.shape[0] <= 21
        assert torch.isfinite(k).all()
        assert abs(k.sum().item() - 1) < 1e-5


@pytest.mark.parametrize("kind", KERNEL_TYPES)
def test_each_kernel_type_is_symmetric_as_it_should_be(kind):
    g = gen(2)
    for _ in range(5):
        k = random_kernel(g, kernel_types=(kind,), kernel_probs=(1.0,), sinc_prob=0.0)
        assert abs(k.sum().item() - 1) < 1e-5 and (k >= 0).all()
        # Every type is point-symmetric (a rotated ellipse); the iso ones also mirror-symmetric.
        assert torch.allclose(k, k.flip(0, 1), atol=1e-7)
        if not kind.endswith("aniso"):
            assert torch.allclose(k, k.T, atol=1e-7)
            assert torch.allclose(k, k.flip(0), atol=1e-7)
        # The peak is at the centre.
        c = k.shape[0] // 2
        assert k[c, c] == k.max()


def test_isotropic_gaussian_matches_closed_form():
    sigma, size = 1.7, 11
    ax = torch.arange(size, dtype=torch.float64) - size // 2
    g1 = torch.exp(-(ax**2) / (2 * sigma**2))
    ref = torch.outer(g1, g1)
    ref = ref / ref.sum()
    assert torch.allclose(gaussian_kernel(size, sigma).double(), ref, atol=1e-7)


def test_anisotropic_gaussian_spreads_and_rotation():
    k = gaussian_kernel(21, 2.0, 0.7, 0.0).double()
    ax = torch.arange(-10, 11, dtype=torch.float64)
    var_cols = (k.sum(0) * ax**2).sum().item()  # spread along x (columns)
    var_rows = (k.sum(1) * ax**2).sum().item()
    assert var_cols == pytest.approx(4.0, rel=1e-3)
    assert var_rows == pytest.approx(0.7**2, rel=0.01)
    # A quarter turn swaps the axes.
    assert torch.allclose(gaussian_kernel(21, 2.0, 0.7, math.pi / 2), k.T.float(), atol=1e-6)


def test_generalized_and_plateau_shapes():
    gauss = gaussian_kernel(15, 2.0)
    assert torch.allclose(generalized_gaussian_kernel(15, 2.0, 2.0, 0.0, 1.0), gauss, atol=1e-7)

    def near(k):  # first neighbour / peak: near 1 for a flat top, lower for a cusp
        return (k[7, 8] / k[7, 7]).item()

    def tail(k):  # edge / peak
        return (k[7, 14] / k[7, 7]).item()

    # beta < 1: sharper peak and heavier tails; beta > 1: flatter top and lighter tails.
    sharp = generalized_gaussian_kernel(15, 2.0, 2.0, 0.0, 0.5)
    flat = generalized_gaussian_kernel(15, 2.0, 2.0, 0.0, 3.0)
    assert near(sharp) < near(gauss) < near(flat)
    assert tail(sharp) > tail(gauss) > tail(flat)
    p = plateau_kernel(15, 2.0, 2.0, 0.0, 2.0)
    assert abs(p.sum().item() - 1) < 1e-6
    # The plateau is flat near the centre: its first neighbour is nearly as high as the peak.
    assert near(p) > near(gauss)


def test_sinc_kernel_has_negative_lobes_and_cuts_high_frequencies():
    k = sinc_kernel(21, math.pi / 3)
    assert abs(k.sum().item() - 1) < 1e-5
    assert k.min() < -1e-3  # ringing lobes
    assert torch.allclose(k, k.T) and torch.allclose(k, k.flip(0, 1))
    spectrum = torch.fft.fft2(k.double(), s=(64, 64)).abs()[0]  # along one axis, 2*pi*f/64
    assert (spectrum[:7] > 0.9).all()  # well inside the cutoff pi/3 (f = 10.7)
    assert (spectrum[16:33] < 0.15).all()  # well outside


def test_apply_kernel_delta_is_identity_and_kernel_is_a_convolution():
    x = torch.rand(2, 3, 16, 20, generator=gen(3))
    delta = torch.zeros(7, 7)
    delta[3, 3] = 1
    assert torch.equal(apply_kernel(x, delta), x)
    # A delta one column right of the centre moves the image one column right (convolution).
    shift = torch.zeros(3, 3)
    shift[1, 2] = 1
    y = apply_kernel(x, shift)
    assert torch.equal(y[..., 1:], x[..., :-1])


def test_apply_kernel_per_sample_kernels_and_tiny_images():
    x = torch.rand(2, 3, 16, 16, generator=gen(4))
    k = torch.stack([gaussian_kernel(9, 1.0), sinc_kernel(9, 1.5)])
    y = apply_kernel(x, k)
    assert torch.allclose(y[0:1], apply_kernel(x[0:1], k[0]))
    assert torch.allclose(y[1:2], apply_kernel(x[1:2], k[1]))
    # Smaller than the kernel radius (reflect padding impossible): still works, keeps constants.
    flat = torch.full((1, 3, 4, 5), 0.3)
    assert torch.allclose(apply_kernel(flat, gaussian_kernel(21, 3.0)), flat, atol=1e-6)
    with pytest.raises(ValueError):
        apply_kernel(x, torch.ones(4, 4) / 16)


@pytest.mark.parametrize("size", [5, 11, 21])
def test_apply_kernel_fft_matches_direct(size):
    x = torch.rand(2, 3, 23, 30, generator=gen(5))
    k = torch.stack([random_kernel(gen(size), kernel_sizes=(size,)) for _ in range(2)])
    k[1] = torch.rand(size, size, generator=gen(6))  # asymmetric: orientation must agree too
    k[1] /= k[1].sum()
    direct = apply_kernel(x, k, method="direct")
    assert torch.allclose(apply_kernel(x, k, method="fft"), direct, atol=1e-5)
    assert torch.allclose(apply_kernel(x[:1], k[0]), direct[:1], atol=1e-5)  # "auto"
    tiny = x[:1, :, :4, :6]
    assert torch.allclose(
        apply_kernel(tiny, k[0], method="fft"), apply_kernel(tiny, k[0], method="direct"), atol=1e-5
    )
    with pytest.raises(ValueError):
        apply_kernel(x, k, method="spline")


# ------------------------------------------------------------------------------------ resize


def test_random_resize_directions_and_keep():
    x = smooth_image(1, 40)
    for _ in range(10):
        up = random_resize(x, gen(_), (1, 0, 0), (0.5, 2.0))
        down = random_resize(x, gen(_), (0, 1, 0), (0.5, 2.0))
        assert 40 <= up.shape[-1] <= 80 and up.shape[-1] == up.shape[-2]
        assert 20 <= down.shape[-1] <= 40
    assert torch.equal(random_resize(x, gen(), (0, 0, 1)), x)
    # Relative to a base size (stage 2 resizes relative to the target size).
    assert random_resize(x, gen(), (0, 0, 1), base_size=(10, 12)).shape[-2:] == (10, 12)


def test_resize_area_is_average_pooling():
    x = smooth_image(1, 32)
    assert torch.allclose(resize(x, (8, 8), "area"), F.avg_pool2d(x, 4), atol=1e-6)
    with pytest.raises(ValueError):
        resize(x, (8, 8), "lanczos")


# ------------------------------------------------------------------------------------ noise


def only_gaussian(sigma: float, gray: float = 0.0) -> dict:
    return dict(gaussian_prob=1.0, sigma_range=(sigma, sigma), gray_prob=gray)


def test_gaussian_noise_std_matches_sigma_and_grows_with_it():
    flat = torch.full((1, 3, 96, 96), 0.5)
    stds = []
    for sigma in (5.0, 20.0):
        y = add_random_noise(flat, gen(5), **only_gaussian(sigma))
        stds.append((y - flat).std().item())
        assert stds[-1] == pytest.approx(sigma / 255, rel=0.05)
    assert stds[1] > 3 * stds[0]


def test_gray_noise_is_equal_across_channels_and_colour_noise_is_not():
    flat = torch.full((1, 3, 32, 32), 0.5)
    gray = add_random_noise(flat, gen(6), **only_gaussian(10.0, gray=1.0)) - flat
    assert torch.equal(gray[0, 0], gray[0, 1]) and torch.equal(gray[0, 0], gray[0, 2])
    colour = add_random_noise(flat, gen(6), **only_gaussian(10.0, gray=0.0)) - flat
    assert not torch.equal(colour[0, 0], colour[0, 1])
    # Gray Poisson noise too.
    ramp = torch.linspace(0.2, 0.8, 32 * 32).view(1, 1, 32, 32).expand(1, 3, 32, 32)
    pg = add_random_noise(ramp, gen(6), gaussian_prob=0.0, gray_prob=1.0) - ramp
    assert pg.abs().sum() > 0 and torch.equal(pg[0, 0], pg[0, 2])


def test_poisson_noise_scales_with_its_factor_and_with_signal():
    # 256 grey levels -> 256 "photons" for white: noise std ~ scale * sqrt(x / 256).
    ramp = (torch.arange(256.0) / 255).expand(1, 3, 64, 256)
    stds = []
    for s in (0.5, 1.0):
        kw = dict(gaussian_prob=0.0, poisson_scale_range=(s, s), gray_prob=0.0)
        n = add_random_noise(ramp, gen(7), **kw) - ramp
        stds.append(n[..., 100:156].std().item())  # x near 0.5, away from clipping
        expected = s * math.sqrt(0.5 / 256)
        assert stds[-1] == pytest.approx(expected, rel=0.1)
        dark, bright = n[..., 10:40].std(), n[..., 200:230].std()
        assert bright > 1.5 * dark  # signal-dependent
    assert stds[1] == pytest.approx(2 * stds[0], rel=0.1)


def test_camera_noise_follows_the_sensor_model():
    flat = torch.full((1, 3, 96, 96), 0.5)
    kw = dict(camera_prob=1.0, camera_gain_range=(1e-3, 1e-3), camera_read_range=(2.0, 2.0))
    n = add_random_noise(flat, gen(8), **kw) - flat
    assert n.std().item() == pytest.approx(math.sqrt(1e-3 * 0.5 + (2 / 255) ** 2), rel=0.05)


def test_noise_is_per_sample_clipped_and_can_be_disabled():
    flat = torch.full((4, 3, 48, 48), 0.5)
    y = add_random_noise(flat, gen(9), gaussian_prob=1.0, sigma_range=(1.0, 30.0))
    stds = (y - flat).flatten(1).std(1)
    assert stds.max() > 1.5 * stds.min()  # each image drew its own sigma
    assert y.min() >= 0 and y.max() <= 1
    assert torch.equal(add_random_noise(flat, gen(9), noise_prob=0.0), flat)


# ------------------------------------------------------------------------------------ JPEG


def test_jpeg_costs_less_psnr_at_high_quality():
    x = smooth_image(2, 48) + 0.05 * torch.rand(2, 3, 48, 48, generator=gen(10))
    x = x.clamp(0, 1)
    hi = random_jpeg(x, gen(), (95, 95))
    lo = random_jpeg(x, gen(), (30, 30))
    assert psnr(hi, x) > psnr(lo, x) + 3
    assert on_uint8_grid(hi) and on_uint8_grid(lo) and hi.shape == x.shape
    assert torch.equal(random_jpeg(x, gen(), jpeg_prob=0.0), x)


# ------------------------------------------------------------------------------------ full model


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_degrade_real_shape_range_and_uint8_grid(scale):
    hr = smooth_image(3, 48)
    lr = degrade_real(hr, scale, gen(11))
    assert lr.shape == (3, 3, 48 // scale, 48 // scale) and lr.dtype == torch.float32
    assert lr.min() >= 0 and lr.max() <= 1
    assert on_uint8_grid(lr)
    # Degraded but still the same picture: mean brightness roughly kept.
    assert (lr.mean((1, 2, 3)) - hr.mean((1, 2, 3))).abs().max() < 0.08


def test_degrade_real_is_reproducible_and_uses_only_its_generator():
    hr = smooth_image(3, 32)
    state = torch.get_rng_state()
    a = degrade_real(hr, 2, gen(12))
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG was not touched
    b = degrade_real(hr, 2, gen(12))
    c = degrade_real(hr, 2, gen(13))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # Continuing one generator (training resume) reproduces the second batch too.
    g1, g2 = gen(14), gen(14)
    for _ in range(2):
        assert torch.equal(degrade_real(hr, 4, g1), degrade_real(hr, 4, g2))


def test_each_image_gets_its_own_degradation():
    hr = smooth_image(1, 32).expand(4, 3, 32, 32)
    lr = degrade_real(hr, 2, gen(15))
    for i in range(1, 4):
        assert not torch.equal(lr[0], lr[i])


def test_everything_disabled_is_a_plain_downscale():
    hr = smooth_image(2, 48)
    for scale in (1, 2, 4):
        lr = degrade_real(hr, scale, gen(16), OFF)
        ref = (F.avg_pool2d(hr, scale) * 255).round() / 255
        assert torch.allclose(lr, ref, atol=1e-6)


def test_final_jpeg_is_wired_to_the_second_stage_quality():
    # Only the final JPEG switched on: quality 95 costs less than quality 30.
    hr = smooth_image(2, 64) + 0.05 * torch.rand(2, 3, 64, 64, generator=gen(17))
    ref = F.avg_pool2d(hr.clamp(0, 1), 2)
    scores = []
    for q in (95, 30):
        cfg = replace(OFF, stage2=replace(OFF_STAGE, jpeg_prob=1.0, jpeg_range=(q, q)))
        lr = degrade_real(hr.clamp(0, 1), 2, gen(17), cfg)
        assert not torch.allclose(lr, (ref * 255).round() / 255)
        scores.append(psnr(lr, ref))
    assert scores[0] > scores[1] + 3


def test_tiny_images_survive_many_draws():
    # 32 px at x4: intermediate images shrink to 2-5 px, smaller than the blur kernels.
    hr = smooth_image(4, 32, seed=18)
    g = gen(18)
    for _ in range(8):
        lr = degrade_real(hr, 4, g)
        assert lr.shape == (4, 3, 8, 8) and torch.isfinite(lr).all()


def test_degrade_real_rejects_bad_input():
    with pytest.raises(ValueError):
        degrade_real(torch.rand(1, 3, 30, 32), 4, gen())
    with pytest.raises(ValueError):
        degrade_real(torch.rand(3, 32, 32), 2, gen())
    with pytest.raises(ValueError):
        degrade_real(torch.rand(1, 3, 32, 32), 0, gen())
