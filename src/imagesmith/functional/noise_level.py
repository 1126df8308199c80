"""Blind estimation of the noise level of an image (for ``--sigma auto``).

Two estimators, one for each kind of noise:

* :func:`estimate_noise_sigma`, the patch-PCA method of Chen, Zhu and Heng (ICCV 2015), for white
  Gaussian noise: the covariance of all overlapping d x d patches has eigenvalues that are the
  image's structure plus sigma^2 in every direction. Structure lives in a few large eigenvalues;
  the noise-only ones are the smallest, and they are recognised as the largest tail whose mean
  equals its median. sigma is the square root of that mean. It works on textured images where
  wavelet-MAD estimators read texture as noise, but it sees only the noise power in the least
  structured (highest-frequency) directions: on camera photos, whose noise went through
  demosaicking, in-camera noise reduction and JPEG, it reads a tenth of the real level.
* :func:`estimate_noise`, a noise level function from flat blocks for that real noise (after
  Foi et al. 2008 and Liu et al. 2014, with the correlation handled by block size): the variance
  left in 16 x 16 blocks after a plane fit, in intensity bins, from the flattest blocks of each
  bin, extrapolated to the noise power at scales beyond the block. It also runs the patch-PCA
  estimate and keeps that one when the noise is white.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from imagesmith.functional.degrade import poisson_gaussian_sigma

__all__ = ["NoiseEstimate", "estimate_noise", "estimate_noise_sigma", "signal_dependent_level"]


def estimate_noise_sigma(
    image: torch.Tensor, patch: int = 8, stride: int | None = None, max_patches: int = 200_000
) -> float:
    """Standard deviation of additive white Gaussian noise, on the image's own value scale.

    Args:
        image: (C, H, W) or (H, W) float; e.g. values in [0, 1] give sigma in [0, 1] units
            (multiply by 255 for the usual "sigma 25" scale). Channels are pooled: the patch
            vectors are C * patch * patch long, so colour noise is estimated jointly.
        patch: patch side d.
        stride: patch step; None picks the largest of 3, 2, 1 that still gives 50 patches per
            dimension (few patches spread the noise eigenvalues and bias sigma low).
        max_patches: larger images use an evenly spaced subset of patches (bounded cost).

    Returns:
        sigma >= 0 as a Python float.
    """
    x = image.detach().to(torch.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"estimate_noise_sigma expects (C, H, W) or (H, W), got {tuple(x.shape)}")
    if min(x.shape[-2:]) < patch:
        raise ValueError(f"image {tuple(x.shape[-2:])} is smaller than one {patch}x{patch} patch")
    if stride is None:
        dim = x.shape[0] * patch * patch
        h, w = x.shape[-2:]
        stride = next(
            (s for s in (3, 2) if ((h - patch) // s + 1) * ((w - patch) // s + 1) >= 50 * dim), 1
        )
    cols = F.unfold(x[None], patch, stride=stride)[0]  # (C*d*d, n_patches)
    if cols.shape[1] > max_patches:
        keep = torch.linspace(0, cols.shape[1] - 1, max_patches).round().long()
        cols = cols[:, keep]
    cols = cols - cols.mean(dim=1, keepdim=True)
    cov = cols @ cols.T / cols.shape[1]
    eig = torch.linalg.eigvalsh(cov)  # ascending
    for n in range(eig.numel(), 0, -1):  # tails eig[:n] from the largest to a single value
        tail = eig[:n]
        tau = tail.mean()
        if int((tail > tau).sum()) == int((tail < tau).sum()):
            return float(tau.clamp_min(0).sqrt())
    return 0.0  # unreachable: a one-value tail always satisfies the test


BLOCK = 16
"""Side of the blocks of :func:`estimate_noise`: camera noise is correlated over a few pixels,
so smaller blocks miss much of it (measured on PolyU: an 8 x 8 plane fit keeps 61% of the noise
variance, 16 x 16 77%, 32 x 32 89%), and larger ones find fewer flat places."""
FLAT_FRACTION = 0.1
"""The flattest tenth of each intensity bin's blocks is taken as noise only."""
MAX_BINS = 8
MAX_BLOCKS = 16384
"""Larger images use an evenly spaced subset of blocks (a 12 MP photo has 47k)."""
WHITE_SIDE = 1024
"""The patch-PCA estimate looks at a central crop of at most this side (its cost grows with
the pixels; noise is stationary across a photo)."""
WHITE_RATIO = 0.5
"""White noise: patch-PCA finds at least this fraction of the flat-block level (measured:
white Gaussian noise 0.9-1.1, camera noise 0.02-0.15, clean photos 0.05-0.2)."""
WHITE_FLOOR = 1.5 / 255
"""... or at least this much in absolute terms: then white noise is there for sure, and the flat
blocks may be texture (a textured photo with white noise sigma 5 reads 15-22 in its flattest
blocks). Camera JPEGs read 0.1-0.4 / 255 (PolyU), clean photos 0.2-1.4 / 255 (CBSD68, Kodak24)."""
REAL_SCALE = 1.51
"""Flat-block level -> noise standard deviation: the flattest tenth of a bin is below the bin's
mean noise, and the extrapolation past 16 pixels is partial. Calibrated on the PolyU real-noise
pairs (median estimate / measured std = 1; fitted on the Canon or the Nikon + Sony cameras alone
the factor is within 3%: benchmarks/noise_levels.py)."""


@dataclass(frozen=True)
class NoiseEstimate:
    """What :func:`estimate_noise` found, on the image's value scale (e.g. [0, 1]).

    Attributes:
        sigma: the noise level to use: the per-pixel standard deviation of the noise.
        correlated: True for camera-like noise (spatially correlated, signal-dependent, seen in
            flat blocks); False for white noise, where ``sigma`` is the patch-PCA estimate.
        white_sigma: the patch-PCA (white noise) estimate.
        curve: (mean intensity, noise std) per intensity bin, dark to bright, from flat blocks.
        gain, read_sigma: the Poisson-Gaussian fit var = gain * x + read_sigma^2 of ``curve``
            (the model of ``--gain``), x the intensity.
    """

    sigma: float
    correlated: bool
    white_sigma: float
    curve: tuple[tuple[float, float], ...] = ()
    gain: float = 0.0
    read_sigma: float = 0.0

    def describe(self, scale: float = 255.0) -> str:
        """A short note such as "correlated noise, std 2.2..5.6 by intensity (3.4 dark, 2.2
        bright)" (``scale`` 255: the 0-255 scale for an image in [0, 1])."""
        if not self.correlated:
            return "white noise"
        if len(self.curve) < 2:
            return "correlated noise"
        levels = [s * scale for _, s in self.curve]
        return (
            f"correlated noise, std {min(levels):.1f}..{max(levels):.1f} by intensity "
            f"({levels[0]:.1f} dark, {levels[-1]:.1f} bright)"
        )


def _plane_residual_variance(blocks: torch.Tensor, side: int) -> torch.Tensor:
    """(N, C, side*side) -> (N,): the variance left after a least-squares plane per channel,
    averaged over channels (unbiased: divided by side^2 - 3)."""
    u = torch.arange(side, dtype=torch.float64) - (side - 1) / 2
    basis = torch.stack(
        [torch.ones(side, side), u[None, :].expand(side, side), u[:, None].expand(side, side)]
    ).reshape(3, -1)
    q = torch.linalg.qr(basis.T.to(torch.float64))[0].to(blocks.dtype)  # (side^2, 3)
    centred = blocks - blocks.mean(dim=-1, keepdim=True)
    left = (centred**2).sum(-1) - ((centred @ q) ** 2).sum(-1)  # the constant is already gone
    return (left.clamp_min(0) / (side * side - 3)).mean(-1)


def _blocks(x: torch.Tensor, side: int, max_blocks: int) -> torch.Tensor:
    """(C, H, W) -> (N, C, side, side): whole blocks on an evenly thinned grid."""
    c, h, w = x.shape
    rows, cols = h // side, w // side
    step = max(1, math.ceil(math.sqrt(rows * cols / max_blocks)))
    grid = x[:, : rows * side, : cols * side].reshape(c, rows, side, cols, side)
    return grid[:, ::step, :, ::step].permute(1, 3, 0, 2, 4).reshape(-1, c, side, side)


def estimate_noise(image: torch.Tensor) -> NoiseEstimate:
    """Noise level of a photo, white or camera-like (correlated, signal-dependent).

    The image is cut into 16 x 16 blocks (a thinned grid on large images). Per block: its mean
    intensity, the variance left after a plane fit (v16, all channels pooled) and the same in its
    four 8 x 8 quarters (v8). Blocks with over 1% clipped pixels (exactly 0 or 1) are left out:
    clipping hides noise. Blocks are binned by intensity (up to 8 bins of equal count); in each
    bin the flattest tenth (lowest v16) is taken as noise only, and its median of
    max(2 v16 - v8, v16) -- the noise power the block misses beyond 16 pixels, extrapolated
    from what the 8 x 8 quarters miss -- is the bin's level. The bins' levels, weighted by their
    block counts, times :data:`REAL_SCALE`, give the standard deviation. When patch-PCA
    (:func:`estimate_noise_sigma`) finds at least half of that, or 1.5 / 255, the noise is white
    and its estimate (exact for white noise, blind to texture) is used instead.

    Args:
        image: (C, H, W) or (H, W) float in [0, 1].

    Returns:
        a :class:`NoiseEstimate` in [0, 1] units (multiply by 255 for the 0-255 scale).
    """
    x = image.detach().float()
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"estimate_noise expects (C, H, W) or (H, W), got {tuple(x.shape)}")
    h, w = x.shape[-2:]
    top, left = max(0, (h - WHITE_SIDE) // 2), max(0, (w - WHITE_SIDE) // 2)
    white = estimate_noise_sigma(x[:, top : top + WHITE_SIDE, left : left + WHITE_SIDE])
    if h < 2 * BLOCK or w < 2 * BLOCK:
        return NoiseEstimate(white, False, white)

    blocks = _blocks(x, BLOCK, MAX_BLOCKS)
    clipped = ((blocks == 0) | (blocks == 1)).flatten(1).float().mean(1) > 0.01
    if int((~clipped).sum()) >= 4:
        blocks = blocks[~clipped]
    n, c = blocks.shape[:2]
    half = BLOCK // 2
    v16 = _plane_residual_variance(blocks.reshape(n, c, -1), BLOCK)
    quarters = blocks.reshape(n, c, 2, half, 2, half).permute(0, 2, 4, 1, 3, 5)
    v8 = _plane_residual_variance(quarters.reshape(n * 4, c, -1), half).reshape(n, 4).mean(1)
    level = torch.maximum(2 * v16 - v8, v16)
    intensity = blocks.mean(dim=(1, 2, 3))

    bins = max(1, min(MAX_BINS, n // 32))  # >= 3 flat blocks per bin
    order = torch.argsort(intensity)
    curve, weights, levels = [], [], []
    for members in torch.tensor_split(order, bins):
        k = max(1, round(FLAT_FRACTION * len(members)))
        flattest = members[torch.argsort(v16[members])[:k]]
        lv = float(level[flattest].median())
        curve.append((float(intensity[members].median()), lv))
        levels.append(lv)
        weights.append(len(members))
    flat = math.sqrt(sum(lv * wt for lv, wt in zip(levels, weights, strict=True)) / sum(weights))
    correlated = white < min(WHITE_RATIO * flat, WHITE_FLOOR)
    sigma = REAL_SCALE * flat if correlated else white
    # The curve keeps its shape and takes the chosen level (its count-weighted rms is sigma).
    curve = [(at, sigma * math.sqrt(lv) / flat if flat > 0 else 0.0) for at, lv in curve]
    gain, read = _poisson_gaussian_fit(curve, weights)
    return NoiseEstimate(sigma, correlated, white, tuple(curve), gain, read)


def _poisson_gaussian_fit(
    curve: list[tuple[float, float]], weights: list[int]
) -> tuple[float, float]:
    """Weighted least squares of var = gain * x + read^2 on the curve, both terms >= 0."""
    if len(curve) < 2:
        return 0.0, curve[0][1] if curve else 0.0
    xs = torch.tensor([p[0] for p in curve], dtype=torch.float64)
    vs = torch.tensor([p[1] ** 2 for p in curve], dtype=torch.float64)
    wt = torch.tensor(weights, dtype=torch.float64)
    a = torch.stack([xs, torch.ones_like(xs)], 1) * wt.sqrt()[:, None]
    gain, read2 = torch.linalg.lstsq(a, vs * wt.sqrt()).solution.tolist()
    if read2 < 0:  # shot noise only
        gain, read2 = float((wt * xs * vs).sum() / (wt * xs * xs).sum()), 0.0
    if gain < 0:  # no signal dependence
        gain, read2 = 0.0, float((wt * vs).sum() / wt.sum())
    return max(gain, 0.0), math.sqrt(max(read2, 0.0))


def signal_dependent_level(
    noisy: torch.Tensor, gain: float, read_sigma: float, window: int = 5
) -> torch.Tensor:
    """Per-pixel sigma map sqrt(gain * s + read_sigma^2) of Poisson-Gaussian noise.

    The clean signal s is not known at inference, so it is estimated the same way in training and
    in use: the noisy image averaged over a ``window`` x ``window`` box (all channels), clipped
    to [0, 1]. Shape: (N, C, H, W) -> (N, 1, H, W), on the [0, 1] scale.
    """
    if noisy.ndim != 4:
        raise ValueError(f"signal_dependent_level expects (N, C, H, W), got {tuple(noisy.shape)}")
    pad = window // 2
    mean = noisy.mean(dim=1, keepdim=True)
    mean = F.pad(mean, (pad, pad, pad, pad), mode="replicate")
    return poisson_gaussian_sigma(F.avg_pool2d(mean, window, stride=1), gain, read_sigma)
