"""Adversarial losses and discriminator regularisers.

Discriminators return *logits* (N,) or (N, 1). For the classic DCGAN the sigmoid at the end of the
discriminator and the binary cross-entropy are computed together by
``binary_cross_entropy_with_logits``: mathematically the same as ``BCE(sigmoid(logit))`` but it
does not saturate to log(0) when D is confident.

Kinds:
  * ``"ns"``: binary cross-entropy as DCGAN ran it: D classifies real = 1 / fake = 0, G is trained
    with BCE towards "real", i.e. maximises log D(G(z)) (the non-saturating loss).
  * ``"minimax"``: the original game (Goodfellow et al. 2014): same D loss, G minimises
    log(1 - D(G(z))), which saturates when D is confident. Kept for comparison.
  * ``"hinge"``: D: relu(1 - real) + relu(1 + fake); G: -fake (SNGAN, BigGAN).
  * ``"wgan"``: D: fake - real; G: -fake; pair it with a gradient penalty (WGAN-GP).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "KINDS",
    "d_loss",
    "g_loss",
    "gradient_penalty",
    "r1_penalty",
    "discriminator_objective",
    "feature_matching",
]

KINDS = ("ns", "minimax", "hinge", "wgan")


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown adversarial loss {kind!r}; known: {', '.join(KINDS)}")


def d_loss(kind: str, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Discriminator loss (scalar) from logits on a real and a fake batch."""
    _check(kind)
    real, fake = real_logits.float().flatten(), fake_logits.float().flatten()
    if kind in ("ns", "minimax"):
        return F.binary_cross_entropy_with_logits(
            real, torch.ones_like(real)
        ) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    if kind == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    return fake.mean() - real.mean()


def g_loss(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """Generator loss (scalar) from the discriminator's logits on generated samples."""
    _check(kind)
    fake = fake_logits.float().flatten()
    if kind == "minimax":  # minimise log(1 - sigmoid(fake)) = -softplus(fake)
        return -F.softplus(fake).mean()
    if kind == "ns":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    return -fake.mean()


def gradient_penalty(
    d: torch.nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    *args: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): E[(||grad_x D(x_hat)||_2 - 1)^2] on random interpolates.

    ``args`` are passed to ``d`` after the image (e.g. class labels).
    """
    n = real.shape[0]
    eps = torch.rand((n, 1, 1, 1), generator=generator, device=real.device, dtype=real.dtype)
    x = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = d(x, *args)
    (grad,) = torch.autograd.grad(out.float().sum(), x, create_graph=True)
    return (grad.float().flatten(1).norm(dim=1) - 1).pow(2).mean()


def r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E[||grad_x D(x)||^2] on real data; ``real`` needs grad.

    Multiply by gamma / 2 in the caller.
    """
    (grad,) = torch.autograd.grad(real_logits.float().sum(), real, create_graph=True)
    return grad.float().flatten(1).pow(2).sum(dim=1).mean()


def discriminator_objective(
    d: torch.nn.Module, kind: str, real: torch.Tensor, fake: torch.Tensor, r1_gamma: float = 0.0
) -> tuple[torch.Tensor, dict[str, float]]:
    """The D phase of image-to-image GANs (SRGAN, inpainting): ``kind`` loss on ``real`` and
    ``fake`` batches (already in D's input range, ``fake`` detached), plus ``r1_gamma / 2`` x R1
    on the real batch. Returns the loss and its logs (loss, r1, mean real / fake logits)."""
    if r1_gamma:
        real = real.detach().requires_grad_(True)
    real_logits, fake_logits = d(real), d(fake)
    loss = d_loss(kind, real_logits, fake_logits)
    logs = {"loss": float(loss.detach())}
    if r1_gamma:
        r1 = r1_penalty(real_logits, real)
        loss = loss + 0.5 * r1_gamma * r1
        logs["r1"] = float(r1.detach())
    logs["real"] = float(real_logits.detach().float().mean())
    logs["fake"] = float(fake_logits.detach().float().mean())
    return loss, logs


def feature_matching(d: torch.nn.Module, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean L1 distance between ``d.feature_maps`` of ``fake`` and of ``real`` (no gradient
    through the real branch), averaged over the layers (pix2pixHD / SRGAN-style)."""
    with torch.no_grad():
        real_maps = d.feature_maps(real)
    fake_maps = d.feature_maps(fake)
    return sum((f - r).abs().mean() for f, r in zip(fake_maps, real_maps, strict=True)) / len(
        fake_maps
    )
