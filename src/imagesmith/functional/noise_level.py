"""Blind estimation of the Gaussian noise level of an image (for ``--sigma auto``).

The estimator is the patch-PCA method of Chen, Zhu and Heng (ICCV 2015): the covariance of all
overlapping d x d patches has eigenvalues that are the image's structure plus sigma^2 in every
direction. Structure lives in a few large eigenvalues; the noise-only ones are the smallest, and
they are recognised as the largest tail whose mean equals its median. sigma is the square root of
that mean. It works on textured images where wavelet-MAD estimators read texture as noise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from imagesmith.functional.degrade import poisson_gaussian_sigma

__all__ = ["estimate_noise_sigma", "signal_dependent_level"]


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
