"""Small image classifiers whose penultimate layer is imagesmith's *domain feature space*.

FID/KID/precision-recall need an embedding of images. The standard one (ImageNet InceptionV3)
cannot be downloaded on offline machines and sees 28x28 gray digits and clothes poorly, so
imagesmith trains and ships small classifiers per domain (Fashion-MNIST, CIFAR-10) and reports
metrics in their feature space, always with the extractor's name and weights hash on the card.

Input (N, C, R, R) in [-1, 1] (the generators' range); ``features`` gives (N, feat_dim) after
ReLU and global average pooling; ``forward`` gives class logits (N, num_classes).
"""

from __future__ import annotations

import torch
from torch import nn

from imagesmith.models.registry import register_model

__all__ = ["FeatureCNN"]


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class FeatureCNN(nn.Module):
    """Three VGG-style stages (2 convs + BN + ReLU, then 2x2 max-pool), a feature layer, logits."""

    def __init__(
        self,
        channels: int = 1,
        num_classes: int = 10,
        resolution: int = 28,
        width: int = 32,
        feat_dim: int = 128,
    ) -> None:
        super().__init__()
        self.channels, self.num_classes, self.resolution = channels, num_classes, resolution
        self.stages = nn.Sequential(
            _block(channels, width),
            nn.MaxPool2d(2),
            _block(width, 2 * width),
            nn.MaxPool2d(2),
            _block(2 * width, 4 * width),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.embed = nn.Sequential(nn.Linear(4 * width, feat_dim), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feat_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, R, R) in [-1, 1] -> (N, feat_dim) non-negative features."""
        return self.embed(self.stages(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x)))


@register_model("feature-cnn", task="classify")
def feature_cnn(**kw) -> nn.Module:
    """Small VGG-style classifier; its penultimate layer is a domain feature space."""
    return FeatureCNN(**kw)
