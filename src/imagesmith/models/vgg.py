"""VGG19 feature extractor for perceptual losses (ImageNet weights are optional, never shipped).

:class:`VGG19Features` is the 16-conv ``features`` stack of VGG19 (Simonyan & Zisserman) in plain
torch. Its state_dict keys are the ones of torchvision's ``vgg19`` checkpoint (``features.0.weight``
... ``features.34.bias``), so the official ImageNet file ``vgg19-dcbb9e9d.pth`` loads as is; its
``classifier.*`` keys are ignored. Taps are named after the paper's blocks: ``conv5_4`` is the 4th
conv of the 5th block before its ReLU (ESRGAN), ``relu5_4`` the same after the ReLU (SRGAN's
"VGG54"), ``pool5`` the last max-pool.

The net expects ImageNet-normalised RGB input (``IMAGENET_MEAN``/``IMAGENET_STD``); the perceptual
loss in :mod:`imagesmith.losses.perceptual` does that normalisation itself.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import nn

from imagesmith.errors import UserError
from imagesmith.zoo.hub import download

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "VGG19_LAYERS",
    "VGG19_SHA256",
    "VGG19_URL",
    "VGG19Features",
    "load_vgg19",
]

#: torchvision's ImageNet VGG19 (IMAGENET1K_V1), 574,673,361 bytes.
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_SHA256 = "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44"

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Output channels per conv, one inner list per block; every block ends with a 2x2 max-pool.
_BLOCKS = ((64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512), (512, 512, 512, 512))


def _layer_names() -> list[str]:
    names = []
    for b, convs in enumerate(_BLOCKS, start=1):
        for c in range(1, len(convs) + 1):
            names += [f"conv{b}_{c}", f"relu{b}_{c}"]
        names.append(f"pool{b}")
    return names


#: tap name -> index in ``features`` (e.g. conv1_1 -> 0, relu2_2 -> 8, conv5_4 -> 34, pool5 -> 36).
VGG19_LAYERS: dict[str, int] = {name: i for i, name in enumerate(_layer_names())}


class VGG19Features(nn.Module):
    """The VGG19 ``features`` stack; ``forward(x, layers)`` returns the named taps.

    The ReLUs are not in-place, so a ``conv*`` tap keeps its pre-activation values even when a
    later layer is also tapped. Only the layers up to the deepest requested tap are run.
    """

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for convs in _BLOCKS:
            for cout in convs:
                layers += [nn.Conv2d(cin, cout, kernel_size=3, padding=1), nn.ReLU()]
                cin = cout
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        self.features = nn.Sequential(*layers)

    @staticmethod
    def check_layers(layers: Iterable[str]) -> list[str]:
        """The tap names as a list; ValueError on an unknown one."""
        names = list(layers)
        unknown = [n for n in names if n not in VGG19_LAYERS]
        if unknown:
            raise ValueError(
                f"unknown VGG19 layer(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(VGG19_LAYERS)}"
            )
        return names

    def forward(
        self, x: torch.Tensor, layers: Iterable[str] = ("relu5_4",)
    ) -> dict[str, torch.Tensor]:
        """Features of normalised RGB ``x`` (N, 3, H, W): ``{name: tensor}`` for each tap."""
        names = self.check_layers(layers)
        wanted = {VGG19_LAYERS[n]: n for n in names}
        out: dict[str, torch.Tensor] = {}
        last = max(wanted, default=-1)
        for i, layer in enumerate(self.features):
            if i > last:
                break
            x = layer(x)
            if i in wanted:
                out[wanted[i]] = x
        return {n: out[n] for n in names}


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise UserError(f"{path}: VGG19 weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError) as e:
        raise UserError(f"{path}: not a readable PyTorch checkpoint ({e})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise UserError(f"{path}: expected a state_dict, found {type(state).__name__}")
    return state


def load_vgg19(
    weights: str | Path | None = None,
    *,
    url: str | None = None,
    sha256: str | None = None,
) -> VGG19Features:
    """A frozen :class:`VGG19Features` (eval mode, ``requires_grad`` False) with loaded weights.

    ``weights`` is a local torchvision-layout checkpoint; with ``None`` the file at ``url`` is
    fetched once into the imagesmith cache and checked against ``sha256`` (offline: put it in
    the cache folder by hand); they default to :data:`VGG19_URL` and :data:`VGG19_SHA256`.
    A checkpoint whose ``features.*`` tensors do not match the VGG19 layout is a
    :class:`~imagesmith.errors.UserError`; its ``classifier.*`` tensors are ignored.
    """
    if weights is None:
        path = download(url or VGG19_URL, sha256 or VGG19_SHA256)
    else:
        path = Path(weights)
    state = _read_state_dict(path)
    net = VGG19Features()
    expected = net.state_dict()
    feats = {k: v for k, v in state.items() if k.startswith("features.")}
    missing = sorted(set(expected) - set(feats))
    unexpected = sorted(set(feats) - set(expected))
    wrong = sorted(
        k
        for k in set(expected) & set(feats)
        if not isinstance(feats[k], torch.Tensor) or feats[k].shape != expected[k].shape
    )
    if missing or unexpected or wrong:
        parts = []
        for what, keys in (("missing", missing), ("unexpected", unexpected), ("bad shape", wrong)):
            if keys:
                more = f" (+{len(keys) - 4} more)" if len(keys) > 4 else ""
                parts.append(f"{what}: {', '.join(keys[:4])}{more}")
        raise UserError(f"{path}: not a torchvision VGG19 checkpoint ({'; '.join(parts)})")
    net.load_state_dict(feats, strict=True)
    net.eval().requires_grad_(False)
    return net
