"""Classification task: trains the domain feature extractors used by the generation metrics.

One phase with cross-entropy (label smoothing 0.1); validation is top-1 accuracy on the held-out
split. The released folder is a ``features`` model: its ``features(x)`` embedding is what FID,
KID and precision/recall are computed in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from imagesmith.data.image_set_dataset import ImageSetDataset
from imagesmith.data.image_sets import ImageSet
from imagesmith.errors import UserError
from imagesmith.models.registry import create_model
from imagesmith.models.saving import save_pretrained
from imagesmith.models.spec import ModelSpec
from imagesmith.training.config import TrainConfig
from imagesmith.training.tasks.base import Phase
from imagesmith.training.tasks.image_data import held_out, load_images

__all__ = ["ClassifyTask", "top1_accuracy"]


@torch.no_grad()
def top1_accuracy(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device | str = "cpu"
) -> float:
    """Fraction of uint8 images (N, C, H, W) whose argmax logit is the label, in eval mode."""
    was = model.training
    model.eval()
    correct = 0
    for i in range(0, len(images), 500):
        x = images[i : i + 500].to(device).float() / 127.5 - 1.0
        correct += int((model(x).argmax(1).cpu() == labels[i : i + 500]).sum())
    model.train(was)
    return correct / len(images)


class ClassifyTask:
    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.data = load_images(cfg, cfg.images.split)
        if self.data.labels is None:
            raise UserError(f"{self.data.source}: a classifier needs labels (class folders/idx)")
        self.args = {
            "channels": self.data.channels,
            "num_classes": len(self.data.class_names),
            "resolution": cfg.images.resolution,
            **cfg.model.args,
        }
        self.model = create_model(cfg.model.arch, **self.args)
        self.phases = [Phase("cls", self.model, self._loss)]
        self._val: ImageSet | None = None

    def train_dataset(self) -> Dataset:
        return ImageSetDataset(self.data, seed=self.cfg.seed, hflip=self.cfg.images.hflip)

    def to_device(self, batch: Any, device: torch.device) -> Any:
        return batch[0].to(device, non_blocking=True), batch[1].to(device, non_blocking=True)

    def _loss(self, batch: Any, net: nn.Module) -> tuple[torch.Tensor, dict[str, float]]:
        x, y = batch
        logits = net(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=0.1)
        acc = (logits.argmax(1) == y).float().mean()
        return loss, {"loss": float(loss.detach()), "acc": float(acc)}

    def validate(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        """Top-1 accuracy on the held-out split (or the training set when there is none)."""
        if self._val is None:
            self._val = held_out(self.cfg, self.data)
        return {"acc": top1_accuracy(model, self._val.images, self._val.labels, device)}

    def release(self, model: nn.Module, folder: Path, **meta: Any) -> Path:
        c = self.cfg.images.channels
        spec = ModelSpec(
            arch=self.cfg.model.arch,
            task="features",
            arch_args=self.args,
            channels_in=c,
            channels_out=c,
            value_range=(-1.0, 1.0),
            class_names=tuple(self.data.class_names),
            provenance={"data": self.data.source, **meta},
        )
        return save_pretrained(model, folder, spec)
