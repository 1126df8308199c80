"""VAE task: one phase maximising the ELBO (beta-weighted KL), reported in bits per dimension.

Validation: the ELBO on held-out images (the configured ``images.val_split``), a sample grid
from fixed seeds and a reconstruction grid. The importance-sampled NLL (a tighter bound) is
computed by ``imagesmith eval generate`` since it costs K decoder passes per image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from imagesmith.data.image_set_dataset import ImageSetDataset
from imagesmith.errors import UserError
from imagesmith.functional.grid import make_grid
from imagesmith.io.image import write_image
from imagesmith.losses.kl import elbo_terms
from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained
from imagesmith.models.spec import ModelSpec
from imagesmith.training.config import TrainConfig
from imagesmith.training.tasks.base import Phase
from imagesmith.training.tasks.image_data import data_options, fid_monitor, held_out, load_images

__all__ = ["VAEConfig", "VAETask"]


@dataclass
class VAEConfig:
    beta: float = 1.0  # weight of the KL term (beta-VAE for beta > 1)
    kl_warmup_steps: int = 0  # anneal beta linearly from 0 over these steps
    val_images: int = 2000  # held-out images for the validation ELBO (0 = all)
    samples: int = 64
    sample_seed: int = 0


class VAETask:
    def __init__(self, cfg: TrainConfig) -> None:
        if cfg.vae.beta < 0:
            raise UserError(f"vae.beta must be >= 0, got {cfg.vae.beta}")
        self.cfg = cfg
        self.data = load_images(cfg, cfg.images.split)
        self.args = {
            "resolution": cfg.images.resolution,
            "channels": self.data.images.shape[1],
            **cfg.model.args,
        }
        try:
            self.model = create_model(cfg.model.arch, **self.args)
        except (ValueError, TypeError) as e:
            raise UserError(f"cannot build the VAE: {e}") from None
        self.phases = [Phase("vae", self.model, self._loss)]
        self.dims = self.args["channels"] * cfg.images.resolution**2
        self.step = 0  # set by the loop before every step (restored on resume): KL warm-up
        self.val_data = held_out(cfg, self.data)  # for the ELBO, reconstructions and FID
        self.fid = fid_monitor(cfg, self.val_data, cfg.vae.sample_seed)

    def train_dataset(self) -> Dataset:
        return ImageSetDataset(self.data, seed=self.cfg.seed, hflip=self.cfg.images.hflip)

    def to_device(self, batch: Any, device: torch.device) -> Any:
        return batch[0].to(device, non_blocking=True)

    def _beta(self, step: int) -> float:
        warm = self.cfg.vae.kl_warmup_steps
        return self.cfg.vae.beta * (min(1.0, step / warm) if warm else 1.0)

    def _loss(self, x: torch.Tensor, net: nn.Module) -> tuple[torch.Tensor, dict[str, float]]:
        rec, kl = elbo_terms(net, x)  # (N,) nats each
        beta = self._beta(self.step)
        scale = 1.0 / (self.dims * math.log(2))  # nats per image -> bits per dimension
        loss = ((rec + beta * kl) * scale).mean()
        return loss, {
            "loss": float(loss.detach()),
            "recon_bpd": float((rec.detach() * scale).mean()),
            "kl_bpd": float((kl.detach() * scale).mean()),
        }

    @torch.no_grad()
    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Held-out ELBO in bits/dim (lower is better)."""
        x = self._val_images().to(device)
        was = model.training
        model.eval()
        total = 0.0
        for i in range(0, len(x), 256):
            rec, kl = elbo_terms(model, x[i : i + 256])
            total += float((rec + kl).sum())
        out = {"elbo_bpd": total / (len(x) * self.dims * math.log(2))}
        if self.fid is not None:
            out["fid"] = self.fid(lambda z: model(z.to(device)), model.z_dim)
        model.train(was)
        return out

    def _val_images(self) -> torch.Tensor:
        """Held-out images (the first ``vae.val_images``) in [-1, 1]."""
        imgs = self.val_data.images
        if self.cfg.vae.val_images:
            imgs = imgs[: self.cfg.vae.val_images]
        return imgs.float() / 127.5 - 1.0

    @torch.no_grad()
    def snapshot(self, model: nn.Module, device: torch.device, path: Path) -> None:
        """Left: fixed-seed samples; right: held-out images over their reconstructions."""
        g = torch.Generator().manual_seed(self.cfg.vae.sample_seed)
        z = torch.randn(self.cfg.vae.samples, model.z_dim, generator=g).to(device)
        was = model.training
        model.eval()
        samples = model(z).cpu()
        x = self._val_images()[:32].to(device)
        recon = model(model.encode(x)[0]).cpu()
        model.train(was)
        pairs = torch.stack([x.cpu(), recon], 1).flatten(0, 1)  # original, reconstruction, ...
        path.parent.mkdir(parents=True, exist_ok=True)
        for name, batch in (("samples", samples), ("recon", pairs)):
            grid = make_grid(batch, nrow=8)
            out = path.with_name(f"{path.stem}-{name}.png")
            write_image(grid, out)

    def release(self, model: nn.Module, folder: Path, **meta: Any) -> Path:
        c = self.cfg.images.channels
        spec = ModelSpec(
            arch=self.cfg.model.arch,
            task="generate",
            arch_args=self.args,
            channels_in=c,
            channels_out=c,
            value_range=(-1.0, 1.0),
            kind="vae",
            z_dim=model.z_dim,
            data_options=data_options(self.cfg),
            provenance={"data": self.data.source, "beta": self.cfg.vae.beta, **meta},
        )
        return save_pretrained(model, folder, spec)
