"""Convolutional VAE with a discretised-logistic decoder.

Images are (N, C, R, R) in [-1, 1] on the 8-bit grid; R is 28, 32 or 64. The encoder gives the
mean and log-variance of q(z|x) (N, latent); the decoder gives, per pixel, the mean and log-scale
of a discretised logistic p(x|z) over the 256 levels, so the ELBO and the importance-sampled NLL
are proper log-likelihoods of 8-bit images (reported in bits per dimension).
"""

from __future__ import annotations

import torch
from torch import nn

from imagesmith.models.gans import start_size
from imagesmith.models.registry import register_model

__all__ = ["ConvVAE"]


class ConvVAE(nn.Module):
    def __init__(
        self,
        resolution: int = 28,
        channels: int = 1,
        latent: int = 32,
        width: int = 32,
    ) -> None:
        super().__init__()
        s0, n = start_size(resolution)
        self.resolution, self.channels, self.latent = resolution, channels, latent
        self.z_dim = latent  # the generator interface: decode(z) with z ~ N(0, I)
        widths = [width * 2**i for i in range(n)]  # encoder: 32, 64 (, 128, ...)
        enc: list[nn.Module] = []
        c_in = channels
        for c in widths:
            enc += [nn.Conv2d(c_in, c, 4, 2, 1), nn.SiLU()]
            c_in = c
        self.encoder = nn.Sequential(*enc, nn.Flatten())
        self.s0, self.c0 = s0, widths[-1]
        flat = self.c0 * s0 * s0
        self.to_posterior = nn.Linear(flat, 2 * latent)
        self.from_latent = nn.Sequential(nn.Linear(latent, flat), nn.SiLU())
        dec: list[nn.Module] = []
        rev = widths[::-1]
        for c_in, c_out in zip(rev[:-1], rev[1:], strict=True):
            dec += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.SiLU()]
        dec += [nn.ConvTranspose2d(rev[-1], rev[-1], 4, 2, 1), nn.SiLU()]
        dec += [nn.Conv2d(rev[-1], 2 * channels, 3, 1, 1)]  # mean and log-scale per pixel
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, C, R, R) in [-1, 1] -> mu, logvar (N, latent)."""
        mu, logvar = self.to_posterior(self.encoder(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode_params(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z (N, latent) -> mean (N, C, R, R), log_scale (N, C, R, R) of p(x|z)."""
        h = self.from_latent(z).view(-1, self.c0, self.s0, self.s0)
        mean, log_scale = self.decoder(h).chunk(2, dim=1)
        return mean, log_scale

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Decode latents to images in [-1, 1] (the mean of p(x|z), clamped)."""
        mean, _ = self.decode_params(z)
        return mean.clamp(-1.0, 1.0)


@register_model("conv-vae", task="vae")
def conv_vae(**kw) -> nn.Module:
    """Convolutional VAE, discretised-logistic likelihood (28/32/64 px)."""
    return ConvVAE(**kw)
