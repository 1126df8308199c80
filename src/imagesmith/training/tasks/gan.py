"""GAN task: a discriminator phase then a generator phase on every batch (G every n_critic).

D phase: fakes from G (no grad) and a real batch, both through DiffAugment when configured,
adversarial D loss + optional WGAN-GP or R1 penalty + optional L1 reconstruction loss on the
real batch (FastGAN's self-supervised D, ``gan.recon_weight``). G phase: fresh z, adversarial G
loss through a frozen D. The loop keeps an EMA of G, which is what validation, samples and
releases use. All randomness (z, augmentation, penalties, FastGAN's crop) comes from torch's
global RNG, which the checkpoint saves, so resume is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from imagesmith.data.image_set_dataset import ImageSetDataset
from imagesmith.errors import UserError
from imagesmith.functional.diffaug import diff_augment
from imagesmith.functional.grid import make_grid
from imagesmith.io.image import write_image
from imagesmith.losses.adversarial import KINDS, d_loss, g_loss, gradient_penalty, r1_penalty
from imagesmith.models.gans import standing_stats
from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained
from imagesmith.models.spec import ModelSpec
from imagesmith.training.config import ModelConfig, TrainConfig
from imagesmith.training.tasks.base import Phase
from imagesmith.training.tasks.image_data import data_options, fid_monitor, held_out, load_images

__all__ = [
    "GANConfig",
    "GANTask",
    "load_images",
    "held_out",
    "data_options",
    "fid_monitor",
    "pairwise_diversity",
]


@dataclass
class GANConfig:
    discriminator: ModelConfig = field(default_factory=lambda: ModelConfig(arch="dcgan-d"))
    loss: str = "ns"  # "ns" (BCE as in DCGAN), "minimax", "hinge", "wgan"
    gp_weight: float = 0.0  # WGAN-GP lambda (10 in the paper)
    r1_gamma: float = 0.0  # R1 penalty weight on real data
    # Lazy R1 (StyleGAN2): the penalty on every k-th D step only, weighted by k, in fp32 on a
    # separate pass. It costs a double backward, so k = 16 saves about a fifth of a D+G step.
    r1_every: int = 1
    n_critic: int = 1  # discriminator steps per generator step
    d_lr: float = 0.0  # 0: optim.lr
    g_lr: float = 0.0  # 0: optim.lr
    diffaug: str = ""  # DiffAugment policy for D's inputs, e.g. "color,translation,cutout"
    # FastGAN's self-supervised D: weight of the L1 loss between the real images D sees and its
    # decoders' reconstructions of them (0: off). Needs a D with reconstruct(), e.g. fastgan-d.
    recon_weight: float = 0.0
    conditional: bool = False  # class-conditional on the data set's labels
    samples: int = 64  # images in the fixed-seed sample grid written at every validation
    sample_seed: int = 0


def pairwise_diversity(x: torch.Tensor) -> float:
    """Mean pairwise L2 distance between the images of a batch (N, C, H, W)."""
    flat = x.flatten(1).float()
    d = torch.cdist(flat, flat)
    n = flat.shape[0]
    return float(d.sum() / (n * (n - 1)))


class GANTask:
    def __init__(self, cfg: TrainConfig) -> None:
        g = cfg.gan
        if g.loss not in KINDS:
            raise UserError(f"gan.loss must be one of {', '.join(KINDS)}, got {g.loss!r}")
        if g.n_critic < 1:
            raise UserError(f"gan.n_critic must be >= 1, got {g.n_critic}")
        if isinstance(g.r1_every, bool) or not isinstance(g.r1_every, int) or g.r1_every < 1:
            raise UserError(f"gan.r1_every must be a whole number >= 1, got {g.r1_every!r}")
        if g.recon_weight < 0:
            raise UserError(f"gan.recon_weight must be >= 0, got {g.recon_weight}")
        self.cfg = cfg
        self.data = load_images(cfg, cfg.images.split)
        if cfg.gan.conditional and not self.data.class_names:
            raise UserError("gan.conditional needs labels (class folders or an idx labels file)")
        self.num_classes = len(self.data.class_names) if g.conditional else 0
        shape = {
            "resolution": cfg.images.resolution,
            "channels": self.data.images.shape[1],
            "num_classes": self.num_classes,
        }
        try:
            self.g_args = {**shape, **cfg.model.args}
            self.G = create_model(cfg.model.arch, **self.g_args)
            self.d_args = {**shape, **g.discriminator.args}
            self.D = create_model(g.discriminator.arch, **self.d_args)
        except (ValueError, TypeError) as e:  # e.g. a resolution the architecture cannot make
            raise UserError(f"cannot build the GAN: {e}") from None
        if g.recon_weight and not getattr(self.D, "reconstructs", False):
            raise UserError(
                f"gan.recon_weight={g.recon_weight} needs a discriminator that reconstructs its "
                f"input (fastgan-d with reconstruction: true); {g.discriminator.arch} "
                f"with args {g.discriminator.args} does not"
            )
        self.z_dim = self.G.z_dim
        self.ema_module = self.G
        self.phases = [
            Phase("d", self.D, self._d_loss, lr=g.d_lr or None),
            Phase("g", self.G, self._g_loss, every=g.n_critic, lr=g.g_lr or None),
        ]
        self.fid = (
            fid_monitor(cfg, held_out(cfg, self.data), cfg.gan.sample_seed)
            if cfg.fid_extractor
            else None
        )
        self._fixed: tuple[torch.Tensor, torch.Tensor | None] | None = None
        self._real_diversity: float | None = None
        self._d_wins = 0
        self.step = 0  # set by the loop before each step (lazy R1)

    # -- data ------------------------------------------------------------------------------
    def train_dataset(self) -> Dataset:
        return ImageSetDataset(self.data, seed=self.cfg.seed, hflip=self.cfg.images.hflip)

    def to_device(self, batch: Any, device: torch.device) -> Any:
        x, y = batch
        return x.to(device, non_blocking=True), y.to(device, non_blocking=True)

    # -- phases ----------------------------------------------------------------------------
    def _labels(self, y: torch.Tensor) -> torch.Tensor | None:
        return y if self.num_classes else None

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        return diff_augment(x, self.cfg.gan.diffaug) if self.cfg.gan.diffaug else x

    def _d_loss(self, batch: Any, net: nn.Module) -> tuple[torch.Tensor, dict[str, float]]:
        real, y = batch
        labels = self._labels(y)
        g = self.cfg.gan
        with torch.no_grad():
            fake = self.G(torch.randn(real.shape[0], self.z_dim, device=real.device), labels)
        real_in, fake_in = self._augment(real), self._augment(fake)
        every_step_r1 = g.r1_gamma and g.r1_every == 1
        if every_step_r1:
            real_in = real_in.detach().requires_grad_(True)
        recon_l1 = None
        if g.recon_weight:
            # Through ``net`` (a keyword of forward, not d.reconstruct) so DDP syncs the decoders.
            real_logits, recon, target = net(real_in, labels, reconstruct=True)
            # FastGAN uses a perceptual (LPIPS) distance here; with no ImageNet weights offline
            # this is L1 on pixels, in fp32 (bf16 rounding would dominate small errors).
            recon_l1 = (recon.float() - target.float()).abs().mean()
        else:
            real_logits = net(real_in, labels)
        fake_logits = net(fake_in, labels)
        loss = d_loss(g.loss, real_logits, fake_logits)
        logs = {"loss": float(loss.detach())}
        if recon_l1 is not None:
            loss = loss + g.recon_weight * recon_l1
            logs["recon"] = float(recon_l1.detach())
        if g.gp_weight:
            gp = gradient_penalty(net, real_in, fake_in, *([labels] if labels is not None else []))
            loss = loss + g.gp_weight * gp
            logs["gp"] = float(gp.detach())
        if every_step_r1:
            r1 = r1_penalty(real_logits, real_in)
            loss = loss + 0.5 * g.r1_gamma * r1
            logs["r1"] = float(r1.detach())
        elif g.r1_gamma and self.step % g.r1_every == 0:
            r1 = self._lazy_r1(net, real_in, labels)
            loss = loss + 0.5 * g.r1_gamma * g.r1_every * r1
            logs["r1"] = float(r1.detach())
        logs.update(self._d_outputs(real_logits, fake_logits))
        return loss, logs

    @staticmethod
    def _lazy_r1(
        net: nn.Module, real_in: torch.Tensor, labels: torch.Tensor | None
    ) -> torch.Tensor:
        """R1 on its own D pass in fp32: a gradient norm squared is too coarse in bf16."""
        with torch.autocast(real_in.device.type, enabled=False):
            x = real_in.detach().float().requires_grad_(True)
            return r1_penalty(net(x, labels), x)

    def _d_outputs(self, real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        if self.cfg.gan.loss in ("ns", "minimax"):  # report D's probabilities, as in DCGAN
            return {
                "D(real)": float(torch.sigmoid(real.detach().float()).mean()),
                "D(fake)": float(torch.sigmoid(fake.detach().float()).mean()),
            }
        return {"real": float(real.detach().mean()), "fake": float(fake.detach().mean())}

    def _g_loss(self, batch: Any, net: nn.Module) -> tuple[torch.Tensor, dict[str, float]]:
        real, y = batch
        labels = self._labels(y)
        self.D.requires_grad_(False)  # D only passes gradients through to G here
        try:
            fake = net(torch.randn(real.shape[0], self.z_dim, device=real.device), labels)
            loss = g_loss(self.cfg.gan.loss, self.D(self._augment(fake), labels))
        finally:
            self.D.requires_grad_(True)
        return loss, {"loss": float(loss.detach())}

    # -- monitoring ------------------------------------------------------------------------
    def _fixed_inputs(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self._fixed is None:
            g = torch.Generator().manual_seed(self.cfg.gan.sample_seed)
            n = self.cfg.gan.samples
            z = torch.randn(n, self.z_dim, generator=g)
            y = torch.arange(n) % self.num_classes if self.num_classes else None
            self._fixed = (z, y)
        z, y = self._fixed
        return z.to(device), (y.to(device) if y is not None else None)

    @torch.no_grad()
    def samples(self, model: nn.Module, device: torch.device) -> torch.Tensor:
        """The fixed-seed sample batch (N, C, R, R) in [-1, 1] from ``model`` (eval mode)."""
        was = model.training
        standing_stats(model)  # the EMA weights need their own batch-norm statistics
        z, y = self._fixed_inputs(device)
        out = model(z, y).float().cpu()
        model.train(was)
        return out

    def snapshot(self, model: nn.Module, device: torch.device, path: Path) -> None:
        grid = make_grid(self.samples(model, device))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_image(grid, path)

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Sample diversity relative to real data (1 = as varied as the data; ~0 = collapse)."""
        fake = self.samples(model, device)
        if self._real_diversity is None:
            g = torch.Generator().manual_seed(0)
            idx = torch.randperm(len(self.data.images), generator=g)[: len(fake)]
            real = self.data.images[idx].float() / 127.5 - 1.0
            self._real_diversity = pairwise_diversity(real)
        out = {"diversity": pairwise_diversity(fake) / max(self._real_diversity, 1e-8)}
        if self.fid is not None:
            n = self.num_classes
            out["fid"] = self.fid(
                lambda z: model(z.to(device), (torch.arange(len(z)) % n).to(device) if n else None),
                self.z_dim,
            )
        return out

    def health(self, record: dict[str, float]) -> list[str]:
        """Warnings that stop a user from wasting hours: D winning outright, collapse."""
        out = []
        winning = None
        if "d/D(real)" in record and "d/D(fake)" in record:  # BCE: D's probabilities
            real, fake = record["d/D(real)"], record["d/D(fake)"]
            winning = real > 0.99 and fake < 0.01
        elif "d/real" in record and "d/fake" in record and self.cfg.gan.loss == "hinge":
            real, fake = record["d/real"], record["d/fake"]  # logits beyond the hinge margins
            winning = real > 2.0 and fake < -2.0
        if winning is not None:
            self._d_wins = self._d_wins + 1 if winning else 0
            if self._d_wins == 3:  # three logged windows in a row
                out.append(
                    f"the discriminator is winning outright (real {real:.3f}, fake {fake:.3f}): "
                    "G gets almost no useful gradient; try gan.loss=hinge, gan.r1_gamma, "
                    "gan.diffaug or a lower gan.d_lr"
                )
        div = record.get("val/diversity")
        if div is not None and div < 0.25:
            out.append(
                f"sample diversity fell to {div:.2f} of the data's: the generator is "
                "collapsing to a few modes"
            )
        return out

    def release(self, model: nn.Module, folder: Path, **meta: Any) -> Path:
        standing_stats(model)
        c = self.cfg.images.channels
        spec = ModelSpec(
            arch=self.cfg.model.arch,
            task="generate",
            arch_args=self.g_args,
            channels_in=c,
            channels_out=c,
            value_range=(-1.0, 1.0),
            kind="gan",
            z_dim=self.z_dim,
            class_names=tuple(self.data.class_names) if self.num_classes else (),
            data_options=data_options(self.cfg),
            provenance={"data": self.data.source, **meta},
        )
        return save_pretrained(model, folder, spec)
