"""Super-resolution task: L1 (or other pixel loss) between SR output and HR patch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from imagesmith.data.crops import load_folders
from imagesmith.data.sr_patches import SRPatchDataset
from imagesmith.errors import UserError
from imagesmith.losses.pixel import pixel_loss
from imagesmith.metrics.evaluate import evaluate_upscaler, load_hr, mean_score
from imagesmith.models.registry import create_model
from imagesmith.models.saving import load_pretrained, save_pretrained, tiling_needs
from imagesmith.models.spec import ModelSpec
from imagesmith.models.srnets import ResBlock
from imagesmith.training.config import TrainConfig
from imagesmith.training.tasks.base import Phase
from imagesmith.zoo import resolve

__all__ = ["UpscaleTask", "init_from", "load_matching", "silence_fresh_blocks"]


def load_matching(model: nn.Module, source: nn.Module) -> list[str]:
    """Copy every tensor whose name and shape match (e.g. an x2 body into an x4 net).

    Returns the names that were NOT copied (left at their initial values).
    """
    src = source.state_dict()
    own = model.state_dict()
    keep = {k: v for k, v in src.items() if k in own and own[k].shape == v.shape}
    own.update(keep)
    model.load_state_dict(own)
    return sorted(set(own) - set(keep))


def silence_fresh_blocks(model: nn.Module, fresh: list[str]) -> list[str]:
    """Zero the last conv of every residual block whose tensors are all in ``fresh``.

    Such a block then passes its input through unchanged, so a net grown from trained weights
    (more blocks than its source) computes exactly what the source did at step 0 and training
    starts from the trained function, not from one scrambled by random blocks. Returns the
    names of the blocks silenced.
    """
    fresh_set, silenced = set(fresh), []
    for name, module in model.named_modules():
        if not isinstance(module, ResBlock):
            continue
        own = [f"{name}.{p}" for p, _ in module.named_parameters()]
        if own and all(p in fresh_set for p in own):
            nn.init.zeros_(module.conv2.weight)
            nn.init.zeros_(module.conv2.bias)
            silenced.append(name)
    return silenced


def init_from(model: nn.Module, source: str) -> str:
    """Start ``model`` from the matching tensors of a model folder or shipped model name
    (new residual blocks start as identities: :func:`silence_fresh_blocks`); returns a note
    naming the tensors left fresh (for the run log)."""
    missing = load_matching(model, load_pretrained(resolve(source)))
    silenced = silence_fresh_blocks(model, missing)
    note = f"initialised from {source}; fresh: {missing}"
    return note + (f"; identity blocks: {silenced}" if silenced else "")


class UpscaleTask:
    release_kind = ""  # the spec's kind: "gan" for adversarial fine-tunes (a subclass)

    def __init__(self, cfg: TrainConfig, scales: tuple[int, ...] = (2, 3, 4)) -> None:
        if cfg.scale not in scales:
            raise UserError(f"scale must be one of {scales}, got {cfg.scale}")
        self.cfg = cfg
        self.arch_args = {"scale": cfg.scale, **cfg.model.args}
        self.model = create_model(cfg.model.arch, **self.arch_args)
        if cfg.model.init_from:
            self.init_note = init_from(self.model, cfg.model.init_from)
        self.criterion = pixel_loss(cfg.loss)
        self.phases = [Phase("sr", self.model, self._loss)]
        self._val: list[tuple[str, torch.Tensor]] | None = None

    def _loss(
        self, batch: tuple[torch.Tensor, torch.Tensor], net: nn.Module
    ) -> tuple[torch.Tensor, dict]:
        lr, hr = batch
        loss = self.criterion(net(lr), hr)
        return loss, {"loss": float(loss.detach())}

    def train_dataset(self) -> Dataset:
        d = self.cfg.data
        images = load_folders(d.train_dirs)
        return SRPatchDataset(
            images, self.cfg.scale, d.lr_patch, d.epoch_length, self.cfg.seed, d.augment
        )

    def to_device(self, batch: Any, device: torch.device) -> Any:
        lr, hr = batch
        return lr.to(device, non_blocking=True), hr.to(device, non_blocking=True)

    @torch.no_grad()
    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Mean sr-y PSNR/SSIM on the validation folder (whole images, mod-cropped)."""
        if not self.cfg.data.val_dir:
            return {}
        if self._val is None:  # read once, reused at every validation
            self._val = load_hr(self.cfg.data.val_dir)
        was_training = model.training
        model.eval()
        rows = evaluate_upscaler(
            lambda lr: model(lr[None].to(device))[0].cpu(), self._val, self.cfg.scale
        )
        model.train(was_training)
        score = mean_score(rows)
        return {"psnr": score.psnr, "ssim": score.ssim}

    def release(self, model: nn.Module, folder: Path, **meta: Any) -> Path:
        arch = self.cfg.model.arch
        channels = int(self.arch_args.get("channels", 3))  # gray upscalers say so in the spec
        spec = ModelSpec(
            arch=arch,
            task="upscale",
            arch_args=self.arch_args,
            scale=self.cfg.scale,
            channels_in=channels,
            channels_out=channels,
            kind=self.release_kind,
            tiling=tiling_needs(model, arch),
            provenance=meta,
        )
        return save_pretrained(model, folder, spec)
