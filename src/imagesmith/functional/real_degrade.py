"""Real-ESRGAN's "second-order" degradation model for blind super-resolution and restoration.

Turns clean HR crops into realistic LR training inputs, following Wang et al., "Real-ESRGAN:
Training Real-World Blind Super-Resolution with Pure Synthetic Data" (ICCVW 2021) and the
defaults of its ``train_realesrgan_x4plus.yml``:

1. stage 1: blur (Gaussian / generalized Gaussian / plateau, iso or aniso, or a 2-D sinc) ->
   random resize (up / down / keep; area, bilinear or bicubic) -> noise (Gaussian or Poisson,
   colour or gray) -> JPEG;
2. stage 2: the same chain with its own, milder ranges, the blur skipped with probability 0.2,
   the resize relative to the target size H/scale, and its JPEG moved into the final stage;
3. final stage: [resize to (H/scale, W/scale) + sinc filter] and JPEG, in random order (50/50);
4. rounding to the uint8 grid and clamping to [0, 1].

Unlike the reference implementation, which shares one resize scale, resize mode and noise type
across a batch (and mixes batches with a queue), every image here draws all of its own parameters.
All randomness comes from an explicit CPU ``torch.Generator``, so a seed reproduces the output
bit for bit (exact training resume). Images are float tensors in [0, 1]. Real-ESRGAN degrades the
unsharp-masked GT; sharpen ``hr`` before calling :func:`degrade_real` to do the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from imagesmith.functional.degrade import add_poisson_gaussian_noise, jpeg_compress

__all__ = [
    "KERNEL_TYPES",
    "RESIZE_MODES",
    "StageConfig",
    "RealDegradeConfig",
    "gaussian_kernel",
    "generalized_gaussian_kernel",
    "plateau_kernel",
    "sinc_kernel",
    "random_kernel",
    "apply_kernel",
    "resize",
    "random_resize",
    "add_random_noise",
    "random_jpeg",
    "degrade_real",
]

KERNEL_TYPES = (
    "iso",
    "aniso",
    "generalized_iso",
    "generalized_aniso",
    "plateau_iso",
    "plateau_aniso",
)
RESIZE_MODES = ("area", "bilinear", "bicubic")
_ODD_SIZES = tuple(range(7, 22, 2))  # 7, 9, ..., 21 as in Real-ESRGAN


# ------------------------------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class StageConfig:
    """Ranges and probabilities of one degradation stage (defaults: Real-ESRGAN's first stage).

    Noise sigmas are on the 0-255 scale, like the paper's ``noise_range``. ``resize_prob`` is
    (up, down, keep); an "up" draw takes a factor in [1, resize_range[1]], a "down" draw one in
    [resize_range[0], 1]. The camera-noise option (Poisson-Gaussian sensor noise with gain drawn
    log-uniformly and read noise uniformly) is an extension, off by default.
    """

    blur_prob: float = 1.0
    kernel_sizes: tuple[int, ...] = _ODD_SIZES
    kernel_types: tuple[str, ...] = KERNEL_TYPES
    kernel_probs: tuple[float, ...] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    sinc_prob: float = 0.1
    blur_sigma: tuple[float, float] = (0.2, 3.0)
    betag_range: tuple[float, float] = (0.5, 4.0)
    betap_range: tuple[float, float] = (1.0, 2.0)
    resize_prob: tuple[float, float, float] = (0.2, 0.7, 0.1)
    resize_range: tuple[float, float] = (0.15, 1.5)
    resize_modes: tuple[str, ...] = RESIZE_MODES
    noise_prob: float = 1.0
    gaussian_noise_prob: float = 0.5
    noise_range: tuple[float, float] = (1.0, 30.0)
    poisson_scale_range: tuple[float, float] = (0.05, 3.0)
    gray_noise_prob: float = 0.4
    camera_noise_prob: float = 0.0
    camera_gain_range: tuple[float, float] = (1e-4, 1e-2)
    camera_read_range: tuple[float, float] = (0.5, 10.0)
    jpeg_prob: float = 1.0
    jpeg_range: tuple[int, int] = (30, 95)


@dataclass(frozen=True)
class RealDegradeConfig:
    """Every range and probability of :func:`degrade_real`, with Real-ESRGAN x4plus defaults.

    ``stage2.jpeg_*`` is the JPEG of the final stage (Real-ESRGAN compresses twice in all).
    ``final_sinc_omega`` is the cutoff range (radians) of the final 2-D sinc filter, applied with
    probability ``final_sinc_prob``; ``final_jpeg_first_prob`` is the chance that JPEG comes before
    [resize + sinc] rather than after.
    """

    stage1: StageConfig = field(default_factory=StageConfig)
    stage2: StageConfig = field(
        default_factory=lambda: StageConfig(
            blur_prob=0.8,
            blur_sigma=(0.2, 1.5),
            resize_prob=(0.3, 0.4, 0.3),
            resize_range=(0.3, 1.2),
            noise_range=(1.0, 25.0),
            poisson_scale_range=(0.05, 2.5),
        )
    )
    final_sinc_prob: float = 0.8
    final_sinc_sizes: tuple[int, ...] = _ODD_SIZES
    final_sinc_omega: tuple[float, float] = (math.pi / 3, math.pi)
    final_resize_modes: tuple[str, ...] = RESIZE_MODES
    final_jpeg_first_prob: float = 0.5


# ------------------------------------------------------------------------------------------------
# random draws: everything goes through these so one generator drives the whole pipeline


def _rand(g: torch.Generator) -> float:
    return torch.rand(1, generator=g, dtype=torch.float64).item()


def _uniform(g: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * _rand(g)


def _coin(g: torch.Generator, p: float) -> bool:
    # Always consume one draw, so p = 0 or 1 does not shift the rest of the stream.
    return _rand(g) < p


def _choice(g: torch.Generator, probs: Sequence[float]) -> int:
    """Index drawn with the given (unnormalised, non-negative) probabilities."""
    total = float(sum(probs))
    if total <= 0 or any(p < 0 for p in probs):
        raise ValueError(f"probabilities must be non-negative with a positive sum, got {probs}")
    u = _rand(g) * total
    acc = 0.0
    for i, p in enumerate(probs):
        acc += p
        if p > 0 and u < acc:
            return i
    return max(i for i, p in enumerate(probs) if p > 0)  # u rounding up to the total


def _pick(g: torch.Generator, items: Sequence):
    return items[_choice(g, [1.0] * len(items))]


# ------------------------------------------------------------------------------------------------
# kernels


def _quadratic_form(size: int, sigma_x: float, sigma_y: float, theta: float) -> torch.Tensor:
    """(size, size) float64 map of p^T Sigma^-1 p, p = (column, row) offset from the centre.

    Sigma = R(theta) diag(sigma_x^2, sigma_y^2) R(theta)^T, so sigma_x is the spread along the
    direction theta (radians, counter-clockwise from the column axis in (x, y) coordinates).
    """
    if size % 2 != 1 or size < 1:
        raise ValueError(f"kernel size must be odd and positive, got {size}")
    if sigma_x <= 0 or sigma_y <= 0:
        raise ValueError(f"sigmas must be positive, got {sigma_x}, {sigma_y}")
    r = size // 2
    ax = torch.arange(-r, r + 1, dtype=torch.float64)
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    c, s = math.cos(theta), math.sin(theta)
    u = c * xx + s * yy  # coordinates in the rotated frame of the ellipse
    v = -s * xx + c * yy
    return (u / sigma_x) ** 2 + (v / sigma_y) ** 2


def _normalise(k: torch.Tensor) -> torch.Tensor:
    return (k / k.sum()).to(torch.float32)


def gaussian_kernel(
    size: int, sigma_x: float, sigma_y: float | None = None, theta: float = 0.0
) -> torch.Tensor:
    """Gaussian blur kernel, shape (size, size), float32, sums to 1.

    Isotropic when ``sigma_y`` is None; otherwise anisotropic with spread ``sigma_x`` along the
    angle ``theta`` (radians) and ``sigma_y`` across it. Sigmas in pixels.
    """
    sigma_y = sigma_x if sigma_y is None else sigma_y
    return _normalise(torch.exp(-0.5 * _quadratic_form(size, sigma_x, sigma_y, theta)))


def generalized_gaussian_kernel(
    size: int, sigma_x: float, sigma_y: float, theta: float, beta: float
) -> torch.Tensor:
    """Generalized Gaussian exp(-0.5 q^beta) (q the Gaussian's quadratic form), (size, size).

    beta < 1 gives heavier tails and a sharper peak, beta > 1 a flatter top; beta = 1 is Gaussian.
    """
    q = _quadratic_form(size, sigma_x, sigma_y, theta)
    return _normalise(torch.exp(-0.5 * q**beta))


def plateau_kernel(
    size: int, sigma_x: float, sigma_y: float, theta: float, beta: float
) -> torch.Tensor:
    """Plateau-shaped kernel 1 / (1 + q^beta) (q the Gaussian's quadratic form), (size, size)."""
    q = _quadratic_form(size, sigma_x, sigma_y, theta)
    return _normalise(1.0 / (1.0 + q**beta))


def sinc_kernel(size: int, omega_c: float) -> torch.Tensor:
    """Circular 2-D low-pass (jinc) kernel with cutoff ``omega_c`` in (0, pi] radians/pixel.

    Shape (size, size), sums to 1, with negative side lobes: convolving with it produces the
    ringing and overshoot artefacts of sharp band limits.
    """
    if size % 2 != 1:
        raise ValueError(f"kernel size must be odd, got {size}")
    r = size // 2
    ax = torch.arange(-r, r + 1, dtype=torch.float64)
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    d = torch.sqrt(xx**2 + yy**2)
    d_safe = torch.where(d > 0, d, torch.ones_like(d))
    k = omega_c * torch.special.bessel_j1(omega_c * d_safe) / (2 * math.pi * d_safe)
    # The limit at d = 0 (J1(z) ~ z/2).
    k = torch.where(d > 0, k, torch.full_like(k, omega_c**2 / (4 * math.pi)))
    return _normalise(k)


def _sample_beta(g: torch.Generator, lo: float, hi: float) -> float:
    # As BasicSR: when the range straddles 1, below-1 and above-1 shapes are equally likely
    # (a plain uniform draw would rarely give the sharp, heavy-tailed beta < 1 shapes).
    if lo < 1.0 < hi:
        return _uniform(g, lo, 1.0) if _coin(g, 0.5) else _uniform(g, 1.0, hi)
    return _uniform(g, lo, hi)


def random_kernel(
    generator: torch.Generator,
    kernel_sizes: Sequence[int] = _ODD_SIZES,
    kernel_types: Sequence[str] = KERNEL_TYPES,
    kernel_probs: Sequence[float] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03),
    sigma_range: tuple[float, float] = (0.2, 3.0),
    betag_range: tuple[float, float] = (0.5, 4.0),
    betap_range: tuple[float, float] = (1.0, 2.0),
    sinc_prob: float = 0.1,
) -> torch.Tensor:
    """A random blur kernel as in Real-ESRGAN, shape (k, k), k drawn from ``kernel_sizes``.

    With probability ``sinc_prob`` a sinc kernel (cutoff in [pi/3, pi] for k < 13, else
    [pi/5, pi]); otherwise a kernel of a type drawn from ``kernel_types`` / ``kernel_probs``,
    sigmas (pixels) from ``sigma_range`` and a rotation from [-pi, pi]. Float32, sums to 1.
    """
    size = int(_pick(generator, list(kernel_sizes)))
    if _coin(generator, sinc_prob):
        lo = math.pi / 3 if size < 13 else math.pi / 5
        return sinc_kernel(size, _uniform(generator, lo, math.pi))
    kind = kernel_types[_choice(generator, kernel_probs)]
    if kind not in KERNEL_TYPES:
        raise ValueError(f"unknown kernel type {kind!r}; expected one of {KERNEL_TYPES}")
    sx = _uniform(generator, *sigma_range)
    if kind.endswith("aniso"):
        sy = _uniform(generator, *sigma_range)
        theta = _uniform(generator, -math.pi, math.pi)
    else:
        sy, theta = sx, 0.0
    if kind.startswith("generalized"):
        beta = _sample_beta(generator, *betag_range)
        return generalized_gaussian_kernel(size, sx, sy, theta, beta)
    if kind.startswith("plateau"):
        beta = _sample_beta(generator, *betap_range)
        return plateau_kernel(size, sx, sy, theta, beta)
    return gaussian_kernel(size, sx, sy, theta)


def _fft_size(n: int) -> int:
    """Smallest m >= n with no prime factor above 5 (fast FFT lengths)."""
    while True:
        m = n
        for f in (2, 3, 5):
            while m % f == 0:
                m //= f
        if m == 1:
            return n
        n += 1


def apply_kernel(x: torch.Tensor, k: torch.Tensor, method: str = "auto") -> torch.Tensor:
    """Convolve every channel of ``x`` (N, C, H, W) with ``k``: one (K, K) kernel or (N, K, K).

    K odd; reflect padding keeps the size (replicate padding when the image is smaller than the
    kernel radius, which reflect cannot do). ``method``: "direct" (one grouped conv2d), "fft"
    (same result up to float rounding) or "auto": FFT for K >= 11 on few channels on the CPU,
    where a depthwise conv2d over 3 channels cannot vectorise and is 2-5x slower than the FFT.
    """
    n, c, h, w = x.shape
    if k.ndim == 2:
        k = k.expand(n, *k.shape)
    if k.ndim != 3 or k.shape[0] != n or k.shape[1] != k.shape[2] or k.shape[1] % 2 != 1:
        raise ValueError(f"kernel must be (K, K) or (N, K, K) with K odd, got {tuple(k.shape)}")
    if method == "auto":
        few_channels = n * c < 16 and x.device.type == "cpu"
        method = "fft" if few_channels and k.shape[-1] >= 11 else "direct"
    size = k.shape[-1]
    p = size // 2
    mode = "reflect" if p < h and p < w else "replicate"
    y = F.pad(x, (p, p, p, p), mode=mode)
    k = k.to(x.dtype)
    if method == "fft":
        # Circular convolution over >= H + K - 1 samples: the wrap-around only reaches the first
        # K - 1 outputs, which are cut off with the padding.
        s = (_fft_size(h + 2 * p), _fft_size(w + 2 * p))
        spec = torch.fft.rfft2(y, s=s) * torch.fft.rfft2(k, s=s).unsqueeze(1)
        return torch.fft.irfft2(spec, s=s)[..., size - 1 : h + size - 1, size - 1 : w + size - 1]
    if method != "direct":
        raise ValueError(f"unknown method {method!r}; expected 'auto', 'direct' or 'fft'")
    # conv2d correlates; flipping makes it a true convolution (matters for asymmetric kernels).
    weight = k.flip(-1, -2).repeat_interleave(c, dim=0).unsqueeze(1)
    y = F.conv2d(y.reshape(1, n * c, h + 2 * p, w + 2 * p), weight, groups=n * c)
    return y.reshape(n, c, h, w)


# ------------------------------------------------------------------------------------------------
# resize


def resize(x: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    """Resize (N, C, H, W) to ``size`` with ``mode`` in RESIZE_MODES, like Real-ESRGAN.

    No antialiasing (aliasing is one of the degradations); bicubic may overshoot [0, 1].
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f"unknown resize mode {mode!r}; expected one of {RESIZE_MODES}")
    if tuple(x.shape[-2:]) == tuple(size):
        return x  # every mode is the identity at the same size
    kw = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(x, size=size, mode=mode, **kw)


def random_resize(
    x: torch.Tensor,
    generator: torch.Generator,
    resize_prob: tuple[float, float, float] = (0.2, 0.7, 0.1),
    resize_range: tuple[float, float] = (0.15, 1.5),
    modes: Sequence[str] = RESIZE_MODES,
    base_size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Resize (N, C, H, W) by a random factor relative to ``base_size`` (default: (H, W)).

    Draws up / down / keep with ``resize_prob``, then a factor in [1, resize_range[1]] or
    [resize_range[0], 1] and a mode from ``modes``. Output side: max(1, int(base * factor)). One
    draw for the whole tensor, because images of different sizes cannot share a tensor:
    :func:`degrade_real` calls it once per image.
    """
    direction = _choice(generator, resize_prob)
    if direction == 0:
        factor = _uniform(generator, 1.0, resize_range[1])
    elif direction == 1:
        factor = _uniform(generator, resize_range[0], 1.0)
    else:
        factor = 1.0
    mode = _pick(generator, list(modes))
    bh, bw = base_size if base_size is not None else x.shape[-2:]
    return resize(x, (max(1, int(bh * factor)), max(1, int(bw * factor))), mode)


# ------------------------------------------------------------------------------------------------
# noise


def _gray(x: torch.Tensor) -> torch.Tensor:
    """(C, H, W) -> (1, H, W) luma (ITU-R 601 weights for RGB)."""
    if x.shape[0] != 3:
        return x.mean(0, keepdim=True)
    w = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype).view(3, 1, 1)
    return (x * w).sum(0, keepdim=True)


def _poisson_noise(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Real-ESRGAN's Poisson noise for one image (C, H, W): photon count = 2^ceil(log2(levels)).

    The image is read as 8-bit; the number of distinct levels sets the photon count of white, so
    flat images get strong noise and richly shaded ones weaker noise.
    """
    q = (x * 255.0).round().clamp(0, 255)
    levels = int((torch.bincount(q.flatten().to(torch.int64), minlength=256) > 0).sum())
    vals = 2.0 ** math.ceil(math.log2(max(levels, 1)))
    q = q / 255.0
    return torch.poisson(q * vals, generator=g) / vals - q


def add_random_noise(
    x: torch.Tensor,
    generator: torch.Generator,
    noise_prob: float = 1.0,
    gaussian_prob: float = 0.5,
    sigma_range: tuple[float, float] = (1.0, 30.0),
    poisson_scale_range: tuple[float, float] = (0.05, 3.0),
    gray_prob: float = 0.4,
    camera_prob: float = 0.0,
    camera_gain_range: tuple[float, float] = (1e-4, 1e-2),
    camera_read_range: tuple[float, float] = (0.5, 10.0),
) -> torch.Tensor:
    """Add random noise to (N, C, H, W) in [0, 1], each image with its own draws; clipped to [0, 1].

    Per image: no noise with probability 1 - ``noise_prob``; else camera noise (Poisson shot noise
    of gain in ``camera_gain_range``, drawn log-uniformly, plus Gaussian read noise of sigma in
    ``camera_read_range`` on the 0-255 scale) with probability ``camera_prob``; else Gaussian
    noise (sigma in ``sigma_range``, 0-255 scale) with probability ``gaussian_prob``; else
    Real-ESRGAN's Poisson noise times a factor in ``poisson_scale_range``. Gaussian and Poisson
    noise are gray (the same in every channel) with probability ``gray_prob``.
    """
    out = []
    for xi in x:
        if not _coin(generator, noise_prob):
            out.append(xi)
            continue
        if _coin(generator, camera_prob):
            lo, hi = (math.log(v) for v in camera_gain_range)
            gain = math.exp(_uniform(generator, lo, hi))
            read = _uniform(generator, *camera_read_range) / 255.0
            out.append(add_poisson_gaussian_noise(xi, gain, read, generator).clamp(0, 1))
            continue
        gaussian = _coin(generator, gaussian_prob)
        strength = _uniform(generator, *(sigma_range if gaussian else poisson_scale_range))
        gray = _coin(generator, gray_prob)
        if gaussian:
            shape = (1 if gray else xi.shape[0], *xi.shape[1:])
            noise = torch.randn(shape, generator=generator, dtype=xi.dtype) * (strength / 255.0)
        else:
            noise = _poisson_noise(_gray(xi) if gray else xi, generator) * strength
        out.append((xi + noise).clamp(0, 1))  # a gray (1, H, W) noise broadcasts to all channels
    return torch.stack(out)


# ------------------------------------------------------------------------------------------------
# JPEG


def random_jpeg(
    x: torch.Tensor,
    generator: torch.Generator,
    quality_range: tuple[int, int] = (30, 95),
    jpeg_prob: float = 1.0,
) -> torch.Tensor:
    """JPEG round trip of (N, C, H, W) (C 1 or 3), each image at its own integer quality.

    Quality uniform in [quality_range[0], quality_range[1]] (inclusive); an image is left alone
    with probability 1 - ``jpeg_prob``. Values are clamped to [0, 1] first; compressed images come
    back on the uint8 grid. Loops over the batch with PIL (libjpeg, 4:2:0 chroma subsampling).
    """
    lo, hi = int(quality_range[0]), int(quality_range[1])
    out = []
    for xi in x:
        if not _coin(generator, jpeg_prob):
            out.append(xi)
            continue
        quality = min(hi, lo + int(_rand(generator) * (hi - lo + 1)))
        out.append(jpeg_compress(xi, quality))
    return torch.stack(out)


# ------------------------------------------------------------------------------------------------
# the full model


def _blur_resize_noise(
    x: torch.Tensor, g: torch.Generator, s: StageConfig, base_size: tuple[int, int]
) -> torch.Tensor:
    """The part of a stage before its JPEG, for one image (1, C, h, w)."""
    if _coin(g, s.blur_prob):
        k = random_kernel(
            g, s.kernel_sizes, s.kernel_types, s.kernel_probs, s.blur_sigma, s.betag_range,
            s.betap_range, s.sinc_prob,
        )  # fmt: skip
        x = apply_kernel(x, k)
    x = random_resize(x, g, s.resize_prob, s.resize_range, s.resize_modes, base_size)
    return add_random_noise(
        x, g, s.noise_prob, s.gaussian_noise_prob, s.noise_range, s.poisson_scale_range,
        s.gray_noise_prob, s.camera_noise_prob, s.camera_gain_range, s.camera_read_range,
    )  # fmt: skip


def _degrade_one(
    x: torch.Tensor, scale: int, g: torch.Generator, cfg: RealDegradeConfig
) -> torch.Tensor:
    h, w = x.shape[-2:]
    target = (h // scale, w // scale)
    # Stage 1 resizes relative to the HR size, stage 2 relative to the target LR size.
    x = _blur_resize_noise(x, g, cfg.stage1, (h, w))
    x = random_jpeg(x, g, cfg.stage1.jpeg_range, cfg.stage1.jpeg_prob)
    x = _blur_resize_noise(x, g, cfg.stage2, target)

    # Final stage. Real-ESRGAN found that other orders (sinc + JPEG + resize) twist lines.
    jpeg_first = _coin(g, cfg.final_jpeg_first_prob)
    mode = _pick(g, list(cfg.final_resize_modes))
    sinc = None
    if _coin(g, cfg.final_sinc_prob):
        size = int(_pick(g, list(cfg.final_sinc_sizes)))
        sinc = sinc_kernel(size, _uniform(g, *cfg.final_sinc_omega))
    s2 = cfg.stage2
    if jpeg_first:
        x = random_jpeg(x, g, s2.jpeg_range, s2.jpeg_prob)
    x = resize(x, target, mode)
    if sinc is not None:
        x = apply_kernel(x, sinc)
    if not jpeg_first:
        x = random_jpeg(x, g, s2.jpeg_range, s2.jpeg_prob)
    return x


def degrade_real(
    hr: torch.Tensor,
    scale: int,
    generator: torch.Generator,
    cfg: RealDegradeConfig = RealDegradeConfig(),
) -> torch.Tensor:
    """Real-ESRGAN second-order degradation of a batch of HR crops.

    Args:
        hr: (N, C, H, W) float in [0, 1], C 1 or 3 (RGB), H and W divisible by ``scale``.
        scale: downscaling factor (1 = same-size restoration: the intermediate resizes still
            happen but the final resize comes back to (H, W)).
        generator: CPU generator; the only source of randomness, so a seed reproduces the output.
        cfg: ranges and probabilities (defaults: Real-ESRGAN's train_realesrgan_x4plus.yml).

    Returns:
        (N, C, H/scale, W/scale) float32 on ``hr``'s device, on the uint8 grid (k/255), in [0, 1].
        Every image draws its own kernels, factors, noise and qualities, in batch order.
    """
    if hr.ndim != 4 or hr.shape[1] not in (1, 3):
        raise ValueError(f"hr must be (N, C, H, W) with C 1 or 3, got {tuple(hr.shape)}")
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive int, got {scale!r}")
    if hr.shape[-1] % scale or hr.shape[-2] % scale:
        raise ValueError(f"size {tuple(hr.shape[-2:])} is not a multiple of scale {scale}")
    if generator.device.type != "cpu":
        raise ValueError("degrade_real needs a CPU generator (JPEG runs on the CPU anyway)")
    x = hr.detach().to("cpu", torch.float32)
    with torch.no_grad():
        out = torch.cat([_degrade_one(x[i : i + 1], scale, generator, cfg) for i in range(len(x))])
    out = (out * 255.0).round().clamp(0, 255) / 255.0
    return out.to(hr.device)
