"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

With few training images a GAN discriminator memorises the real set. DiffAugment applies the same
kind of random, differentiable transform to every image the discriminator sees, real and fake
alike (call :func:`diff_augment` on each batch separately, in both the D and the G step), so the
generator still receives gradients through the augmentation.

Images are (N, C, H, W) floats in [-1, 1], with C = 1 (gray), 3 (RGB) or 4 (RGB + alpha); for
C = 4 the colour ops touch only RGB, the geometric ops move all channels. Every parameter is drawn
per sample. Policies:

* ``color``: brightness + U(-0.5, 0.5); saturation (distance to the per-pixel channel mean)
  x U(0, 2), skipped for gray; contrast (distance to the image mean) x U(0.5, 1.5).
* ``translation``: an integer shift of up to 1/8 of the height / width in each direction,
  zero-filled.
* ``cutout``: one square of half the height and width, zeroed. The square is placed wholly inside
  the image, so each sample loses a quarter of its area (the reference code lets the square's
  centre reach the border and clips it, which masks between 1/16 and 1/4).

Random numbers come from ``generator`` (a :class:`torch.Generator` on the tensor's device) or,
when it is None, from torch's global RNG, so a training loop that saves the RNG state resumes
exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

__all__ = ["DIFFAUG_POLICIES", "diff_augment"]

_TRANSLATION_RATIO = 0.125
_CUTOUT_RATIO = 0.5


def _rand(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One U(0, 1) draw per sample, shaped (N, 1, 1, 1), in x's dtype."""
    u = torch.rand(x.shape[0], 1, 1, 1, generator=generator, device=x.device)
    return u.to(x.dtype)


def _randint(
    low: int, high: int, n: int, x: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """n integers in [low, high), as a (n,) long tensor on x's device."""
    return torch.randint(low, high, (n,), generator=generator, device=x.device)


def _color(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    c = x.shape[1]
    rgb, alpha = (x[:, :3], x[:, 3:]) if c == 4 else (x, None)
    rgb = rgb + (_rand(x, generator) - 0.5)
    if rgb.shape[1] == 3:
        m = rgb.mean(dim=1, keepdim=True)
        rgb = (rgb - m) * (_rand(x, generator) * 2) + m
    m = rgb.mean(dim=(1, 2, 3), keepdim=True)
    rgb = (rgb - m) * (_rand(x, generator) + 0.5) + m
    return rgb if alpha is None else torch.cat([rgb, alpha], dim=1)


def _translation(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * _TRANSLATION_RATIO + 0.5), int(w * _TRANSLATION_RATIO + 0.5)
    if sh == 0 and sw == 0:
        return x
    dy = _randint(-sh, sh + 1, n, x, generator)
    dx = _randint(-sw, sw + 1, n, x, generator)
    # Output pixel (i, j) reads input (i - dy, j - dx): index (i - dy + sh, j - dx + sw) in the
    # zero-padded image. Indexing (a gather) keeps the gradient path to x.
    padded = torch.nn.functional.pad(x, (sw, sw, sh, sh)).permute(0, 2, 3, 1)  # N, H', W', C
    rows = torch.arange(h, device=x.device).view(1, h, 1) - dy.view(n, 1, 1) + sh
    cols = torch.arange(w, device=x.device).view(1, 1, w) - dx.view(n, 1, 1) + sw
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded[batch, rows, cols].permute(0, 3, 1, 2).contiguous()


def _cutout(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * _CUTOUT_RATIO + 0.5), int(w * _CUTOUT_RATIO + 0.5)
    top = _randint(0, h - ch + 1, n, x, generator).view(n, 1, 1)
    left = _randint(0, w - cw + 1, n, x, generator).view(n, 1, 1)
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


DIFFAUG_POLICIES: dict[str, Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]] = {
    "color": _color,
    "translation": _translation,
    "cutout": _cutout,
}


def _parse(policy: str | Sequence[str]) -> list[str]:
    names = policy.split(",") if isinstance(policy, str) else list(policy)
    names = [p.strip() for p in names if p.strip()]
    unknown = [p for p in names if p not in DIFFAUG_POLICIES]
    if unknown:
        raise ValueError(
            f"unknown DiffAugment policy {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(DIFFAUG_POLICIES)}"
        )
    return names


def diff_augment(
    x: torch.Tensor,
    policy: str | Sequence[str] = "color,translation,cutout",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Randomly augment a batch (N, C, H, W) in [-1, 1], differentiably; see the module doc.

    ``policy`` is a comma-separated string (or a list) of ``color``, ``translation``,
    ``cutout``, applied in the order given; an empty policy returns ``x`` unchanged.
    """
    names = _parse(policy)
    if not names:
        return x
    if x.ndim != 4 or x.shape[1] not in (1, 3, 4):
        raise ValueError(f"expected (N, 1, 3 or 4, H, W) images, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"expected a floating-point tensor, got {x.dtype}")
    for name in names:
        x = DIFFAUG_POLICIES[name](x, generator)
    return x
