"""Third-party denoisers to benchmark against, with imagesmith's own module definitions.

Weights are never stored in this repository; they are read from the peers folder
(``../shared/peers`` by convention):

    dncnn/dncnn_25_gray_kair.pth     DnCNN (Zhang et al. 2017), gray, sigma 25, KAIR release:
                                     17 convs of 64 features, batch norm folded into the convs,
                                     keys model.<i>.weight/bias; it predicts the noise.
    ffdnet/ffdnet_rgb_ipol.pth       FFDNet (Zhang et al. 2018), colour, IPOL release: 2x2 pixel
                                     unshuffle, noise map concatenated in front, 12 convs of 96
                                     features with batch norm, pixel shuffle back; it predicts
                                     the noise. Keys carry DataParallel's ``module.`` prefix.

Both load with ``strict=True`` and ``torch.load(..., weights_only=True)``. A loaded peer is a
function ``(noisy (C, H, W) float, sigma 0-255) -> (C, H, W) in [0, 1]``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "DNCNN_WEIGHTS",
    "FFDNET_WEIGHTS",
    "DnCNN",
    "FFDNet",
    "load_dncnn",
    "load_ffdnet",
    "DenoisePeer",
]

DenoisePeer = Callable[[torch.Tensor, float], torch.Tensor]
# The weight files, relative to the peers folder (see the module docstring)
DNCNN_WEIGHTS = "dncnn/dncnn_25_gray_kair.pth"
FFDNET_WEIGHTS = "ffdnet/ffdnet_rgb_ipol.pth"


class DnCNN(nn.Module):
    """conv-ReLU, (depth - 2) x conv-ReLU (BN folded), conv; returns the noise estimate."""

    def __init__(self, channels: int = 1, features: int = 64, depth: int = 17) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, features, 3, padding=1), nn.ReLU()]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(features, features, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv2d(features, channels, 3, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class _FFDNetBody(nn.Module):
    def __init__(self, cin: int, cout: int, features: int, depth: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(cin, features, 3, padding=1, bias=False), nn.ReLU()]
        for _ in range(depth - 2):
            layers += [
                nn.Conv2d(features, features, 3, padding=1, bias=False),
                nn.BatchNorm2d(features),
                nn.ReLU(),
            ]
        layers.append(nn.Conv2d(features, cout, 3, padding=1, bias=False))
        # The IPOL code's attribute name, typo included, so the official keys load strictly.
        self.itermediate_dncnn = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.itermediate_dncnn(x)


class FFDNet(nn.Module):
    """FFDNet on even-sized inputs: returns the noise estimate at full resolution.

    ``sigma`` is (N,) on the [0, 1] scale. The 2x2 sub-images are ordered like
    ``pixel_unshuffle`` (channel c * 4 + 2 * i + j), and the noise map (C channels) comes first.
    """

    def __init__(self, channels: int = 3, features: int = 96, depth: int = 12) -> None:
        super().__init__()
        self.channels = channels
        self.intermediate_dncnn = _FFDNetBody(5 * channels, 4 * channels, features, depth)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        down = F.pixel_unshuffle(x, 2)
        noise_map = sigma.view(n, 1, 1, 1).expand(n, c, h // 2, w // 2).to(x.dtype)
        return F.pixel_shuffle(self.intermediate_dncnn(torch.cat([noise_map, down], 1)), 2)


def _load(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state)
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_dncnn(path: str | Path) -> DenoisePeer:
    """DnCNN gray sigma 25 (KAIR): a peer for gray images at sigma 25 only."""
    net = DnCNN()
    net.load_state_dict(_load(Path(path)), strict=True)
    net.eval()

    @torch.inference_mode()
    def run(noisy: torch.Tensor, sigma: float) -> torch.Tensor:
        if noisy.shape[0] != 1 or sigma != 25:
            raise ValueError("this DnCNN release is for gray images at sigma 25")
        x = noisy[None].float()
        return (x - net(x))[0].clamp(0, 1)

    return run


def load_ffdnet(path: str | Path) -> DenoisePeer:
    """FFDNet colour (IPOL): any sigma; odd sizes are padded by replication like the IPOL code."""
    net = FFDNet()
    net.load_state_dict(_load(Path(path)), strict=True)
    net.eval()

    @torch.inference_mode()
    def run(noisy: torch.Tensor, sigma: float) -> torch.Tensor:
        if noisy.shape[0] != 3:
            raise ValueError("this FFDNet release is for colour images")
        h, w = noisy.shape[-2:]
        x = F.pad(noisy[None].float(), (0, w % 2, 0, h % 2), mode="replicate")
        out = x - net(x, torch.tensor([sigma / 255.0]))
        return out[0, :, :h, :w].clamp(0, 1)

    return run
