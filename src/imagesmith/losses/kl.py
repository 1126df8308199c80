"""KL divergence and likelihood terms for VAEs (values in nats)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "gaussian_kl",
    "gaussian_log_prob",
    "standard_normal_log_prob",
    "discretized_logistic_log_prob",
    "elbo_terms",
    "importance_sampled_nll",
]


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dims. Shape (N, D) -> (N,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def gaussian_log_prob(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, exp(logvar)) summed over the last dim. (..., D) -> (...)."""
    return -0.5 * ((z - mu).pow(2) / logvar.exp() + logvar + math.log(2 * math.pi)).sum(dim=-1)


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over the last dim."""
    return -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(dim=-1)


def discretized_logistic_log_prob(
    x: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor, bins: int = 256
) -> torch.Tensor:
    """Per-image log-likelihood of 8-bit data under a discretised logistic (PixelCNN++ style).

    ``x`` holds pixels in [-1, 1] on the grid of ``bins`` levels; ``mean`` and ``log_scale`` have
    the same shape (N, C, H, W). Each pixel gets the logistic mass of its bin, with the edge bins
    taking the tails, so this is a proper probability over the 256 levels: the result (N,) in nats
    gives bits per dimension as ``-result / (C*H*W * ln 2)``.
    """
    log_scale = log_scale.clamp(min=-7.0)
    half = 1.0 / (bins - 1)  # half a bin width in [-1, 1]
    centred = x - mean
    inv = torch.exp(-log_scale)
    plus = inv * (centred + half)
    minus = inv * (centred - half)
    cdf_delta = torch.sigmoid(plus) - torch.sigmoid(minus)
    log_cdf_plus = plus - F.softplus(plus)  # log sigmoid(plus), for the lowest bin
    log_one_minus_cdf_minus = -F.softplus(minus)  # log(1 - sigmoid(minus)), for the highest bin
    mid = inv * centred
    # When the bin is tiny relative to the scale, use the density times the bin width.
    log_pdf_mid = mid - log_scale - 2.0 * F.softplus(mid) + math.log(2 * half)
    inner = torch.where(cdf_delta > 1e-5, torch.log(cdf_delta.clamp(min=1e-12)), log_pdf_mid)
    log_probs = torch.where(
        x < -1 + half, log_cdf_plus, torch.where(x > 1 - half, log_one_minus_cdf_minus, inner)
    )
    return log_probs.flatten(1).sum(dim=1)


def elbo_terms(vae: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(-log p(x|z) with one reparameterised z ~ q(z|x), KL(q(z|x) || p(z))), both (N,) nats.

    ``vae`` has ``encode(x) -> (mu, logvar)`` and ``decode_params(z) -> (mean, log_scale)``;
    ``x`` is (N, C, H, W) in [-1, 1] on the 8-bit grid.
    """
    mu, logvar = vae.encode(x)
    z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
    mean, log_scale = vae.decode_params(z)
    rec = -discretized_logistic_log_prob(x, mean, log_scale)
    return rec, gaussian_kl(mu, logvar)


@torch.no_grad()
def importance_sampled_nll(
    vae: nn.Module, x: torch.Tensor, samples: int = 100, chunk: int = 25
) -> torch.Tensor:
    """-log p(x) estimated with ``samples`` importance samples from q(z|x) (Burda et al. 2016).

    log p(x) ~= logsumexp_k [log p(x|z_k) + log p(z_k) - log q(z_k|x)] - log K; a lower bound on
    log p(x) that tightens as K grows (K = 1 gives the ELBO in expectation). Returns (N,) nats.
    """
    mu, logvar = vae.encode(x)
    terms = []
    for start in range(0, samples, chunk):
        k = min(chunk, samples - start)
        eps = torch.randn((k, *mu.shape), device=mu.device, dtype=mu.dtype)
        z = mu + eps * (0.5 * logvar).exp()  # (k, N, D)
        mean, log_scale = vae.decode_params(z.flatten(0, 1))
        xk = x.unsqueeze(0).expand(k, *x.shape).flatten(0, 1)
        log_px_z = discretized_logistic_log_prob(xk, mean, log_scale).view(k, -1)
        log_pz = standard_normal_log_prob(z)
        log_qz = gaussian_log_prob(z, mu, logvar)
        terms.append(log_px_z + log_pz - log_qz)
    log_w = torch.cat(terms, 0)
    return -(torch.logsumexp(log_w, 0) - math.log(samples))
