"""Inpainting generator with Fourier convolutions, and a PatchGAN discriminator.

:class:`FourierInpainter` follows LaMa's shape at a CPU-friendly size: a small strided encoder,
residual blocks at 1/4 resolution that mix a local 3x3 convolution with a *spectral* branch (a
1x1 convolution applied to the 2-D Fourier transform of the features, so every output position
sees the whole image from the first block on, which is what large holes need), and a decoder with
skip connections. The hole is first given a prefill: the smooth harmonic (Laplace) fill
(:func:`imagesmith.functional.fill.harmonic_fill`, ``prefill="harmonic"``) or the harmonic fill
plus detail copied from matched patches (:func:`imagesmith.functional.patch_fill.textured_fill`,
``prefill="textured"``, a PatchMatch search per image, so slower; ``"textured-ramp"`` fades
that detail in over the first pixels from the hole's edge); the network sees that image
and the mask, (N, C + 1, H, W) in [0, 1], and predicts a correction in logit space on top of the
fill, its last layer starting at zero. So an untrained model already returns the prefill, and
training only has to learn the detail (texture, edges across the hole), which is where its CPU
budget goes.
Output (N, C, H, W) in [0, 1]. Callers composite: ``out * m + x * (1 - m)``. Any H, W works
(padded to a multiple of 4 inside).

:class:`TwoScaleInpainter` runs such a network on a shrunk copy of the image and adds what it
changes there to the full-size textured fill (coarse structure learned, detail copied).

:class:`PatchDiscriminator` is a spectral-normalised PatchGAN: a logit per overlapping patch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from imagesmith.functional.fill import harmonic_fill
from imagesmith.functional.masks import shrink_mask
from imagesmith.functional.patch_fill import DETAIL_RAMP, textured_fill
from imagesmith.functional.resize import imresize
from imagesmith.models.gans import leaky_relu_maps
from imagesmith.models.registry import register_model
from imagesmith.models.spec import TilingNeeds

__all__ = [
    "FourierInpainter",
    "PatchDiscriminator",
    "SpectralTransform",
    "TwoScaleInpainter",
    "PREFILLS",
    "prefill_crop",
    "textured_prefill",
]


def textured_prefill(image: torch.Tensor, mask: torch.Tensor, ramp: int = 0) -> torch.Tensor:
    """The ``"textured"`` prefill of one image: (C, H, W) in [0, 1] -> float32 (C, H, W) in [0, 1].
    ``ramp`` > 0 fades the copied detail in from the hole's edge (the ``"textured-ramp"``
    prefill, see :func:`textured_fill`).

    Training data pipelines call this once per crop (it is a CPU search, the slow part of a
    training step) and hand the result to :meth:`FourierInpainter.forward`.
    """
    with torch.no_grad():
        x, m = image.detach().float().cpu(), mask.detach().float().cpu()
        return textured_fill(x, m, ramp=ramp).clamp(0, 1)


def _textured(image: torch.Tensor, mask: torch.Tensor, ramp: int = 0) -> torch.Tensor:
    """textured_prefill per image of the batch. (N, C, H, W)."""
    with torch.autocast(image.device.type, enabled=False):
        out = torch.stack(
            [textured_prefill(xi, mi, ramp) for xi, mi in zip(image, mask, strict=True)]
        )
    return out.to(device=image.device, dtype=image.dtype)


def _textured_ramp(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return _textured(image, mask, DETAIL_RAMP)


PREFILLS = {
    "harmonic": harmonic_fill,
    "textured": _textured,
    "textured-ramp": _textured_ramp,
}


def prefill_crop(name: str, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Prefill ``name`` of one crop, (C, H, W) and (1, H, W) -> (C, H, W): what training data
    pipelines hand to :meth:`FourierInpainter.forward` (``functools.partial(prefill_crop, name)``
    pickles, so loader workers can run it)."""
    with torch.no_grad():
        return PREFILLS[name](image[None], mask[None])[0]


# Pads to a multiple of 4 inside; the pipeline fills hole regions, never tiles of a whole image.
INPAINT_TILING = TilingNeeds(min_size=1, multiple=4, overlap=0)


class SpectralTransform(nn.Module):
    """Global branch: 1x1 conv down to c/2, FFT, 1x1 conv on (real, imag), inverse FFT, 1x1 up.

    The FFT runs in float32 (no bfloat16 FFT on CPUs) and is normalised ("ortho") so its scale
    does not depend on the image size.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        half = channels // 2
        self.reduce = nn.Conv2d(channels, half, 1)
        self.spectral = nn.Conv2d(2 * half, 2 * half, 1)
        self.expand = nn.Conv2d(half, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.reduce(x))
        size = h.shape[-2:]
        with torch.autocast(h.device.type, enabled=False):
            f = torch.fft.rfft2(h.float(), norm="ortho")
            f = torch.cat([f.real, f.imag], dim=1)
            f = F.relu(self.spectral(f))
            real, imag = f.chunk(2, dim=1)
            g = torch.fft.irfft2(torch.complex(real, imag), s=size, norm="ortho")
        return self.expand(h + g.to(h.dtype))


class _FFCBlock(nn.Module):
    """x + (local 3x3 + spectral) -> ReLU -> (local 3x3 + spectral)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.local1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.global1 = SpectralTransform(channels)
        self.local2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="reflect")
        self.global2 = SpectralTransform(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.local1(x) + self.global1(x))
        return x + self.local2(h) + self.global2(h)


class FourierInpainter(nn.Module):
    """Encoder (3 levels) -> Fourier residual blocks at 1/4 resolution -> decoder with skips.

    Args:
        channels: image channels (3 colour, 1 gray).
        widths: features at full, 1/2 and 1/4 resolution.
        blocks: Fourier residual blocks at 1/4 resolution.
        prefill: the fill the network corrects: ``"harmonic"``, ``"textured"`` or
            ``"textured-ramp"`` (textured with the detail faded in from the hole's edge).
    """

    def __init__(
        self,
        channels: int = 3,
        widths: tuple[int, int, int] = (32, 64, 128),
        blocks: int = 6,
        prefill: str = "harmonic",
    ) -> None:
        super().__init__()
        if prefill not in PREFILLS:
            raise ValueError(f"prefill must be one of {', '.join(PREFILLS)}, got {prefill!r}")
        w0, w1, w2 = widths
        self.channels, self.prefill = channels, prefill
        self.head = nn.Conv2d(channels + 1, w0, 5, padding=2, padding_mode="reflect")
        self.down1 = nn.Conv2d(w0, w1, 4, stride=2, padding=1)
        self.down2 = nn.Conv2d(w1, w2, 4, stride=2, padding=1)
        self.body = nn.Sequential(*[_FFCBlock(w2) for _ in range(blocks)])
        self.up2 = nn.ConvTranspose2d(w2, w1, 4, stride=2, padding=1)
        self.fuse1 = nn.Conv2d(2 * w1, w1, 3, padding=1, padding_mode="reflect")
        self.up1 = nn.ConvTranspose2d(w1, w0, 4, stride=2, padding=1)
        self.fuse0 = nn.Conv2d(2 * w0, w0, 3, padding=1, padding_mode="reflect")
        self.tail = nn.Conv2d(w0, channels, 3, padding=1, padding_mode="reflect")
        # Zero correction at the start: the untrained model returns the harmonic fill.
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(
        self, image: torch.Tensor, mask: torch.Tensor, prefill: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Fill the hole. ``prefill`` (N, C, H, W): this model's prefill of ``image`` if the
        caller already has it (training computes it in the data pipeline); computed if None."""
        n, c, h, w = image.shape
        if mask.shape != (n, 1, h, w):
            raise ValueError(f"mask {tuple(mask.shape)} does not fit image {tuple(image.shape)}")
        mask = mask.to(image.dtype)
        if prefill is None:
            prefill = PREFILLS[self.prefill](image, mask)
        elif prefill.shape != image.shape:
            raise ValueError(f"prefill {tuple(prefill.shape)} does not fit {tuple(image.shape)}")
        base, correction = self._logits(image, mask, prefill)
        return torch.sigmoid(base + correction)

    def _logits(
        self, image: torch.Tensor, mask: torch.Tensor, prefill: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(the prefill in logit space, the network's correction) for :meth:`forward`; their sum
        through a sigmoid is the output. float32 (N, C, H, W) each."""
        h, w = image.shape[-2:]
        prefill = prefill.to(image.dtype)
        x = torch.cat([prefill, mask], dim=1)
        ph, pw = (-h) % 4, (-w) % 4
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        f0 = F.relu(self.head(x))
        f1 = F.relu(self.down1(f0))
        f2 = self.body(F.relu(self.down2(f1)))
        u1 = F.relu(self.fuse1(torch.cat([F.relu(self.up2(f2)), f1], dim=1)))
        u0 = F.relu(self.fuse0(torch.cat([F.relu(self.up1(u1)), f0], dim=1)))
        # The correction is added in logit space so the output stays in (0, 1) without clamping.
        base = torch.logit(prefill.float().clamp(1e-3, 1 - 1e-3))
        return base, self.tail(u0)[..., :h, :w].float()

    def structure(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """What the network changes in its prefill: output minus the prefill (as the network sees
        it, clamped to [1e-3, 1 - 1e-3]), (N, C, H, W) float32, exactly 0 where the correction
        is 0 (an untrained model)."""
        mask = mask.to(image.dtype)
        base, correction = self._logits(image, mask, PREFILLS[self.prefill](image, mask))
        return torch.sigmoid(base + correction) - torch.sigmoid(base)


class TwoScaleInpainter(nn.Module):
    """Coarse structure from the network, fine detail from the exemplar fill.

    A :class:`FourierInpainter` trained on images shrunk by ``downscale`` (where a crop spans a
    scene and holes cover whole objects) runs on the input shrunk the same way, from its harmonic
    prefill; what it changes in that prefill (:meth:`FourierInpainter.structure`) is enlarged
    back (bicubic) and added to the full-size textured fill (harmonic shading plus detail copied
    from matched patches, faded in over ``ramp`` pixels). So the network decides the hole's
    coarse shape and shading, which the smooth fill only guesses, and the copied detail gives it
    the image's own texture, which a network trained for pixel error would blur.

    Input (N, C, H, W) in [0, 1] and mask (N, 1, H, W); output (N, C, H, W) in [0, 1]. With an
    untrained network the output is exactly the ``textured-ramp`` prefill.
    """

    def __init__(
        self,
        channels: int = 3,
        widths: tuple[int, int, int] = (32, 64, 96),
        blocks: int = 4,
        downscale: int = 3,
        ramp: int = DETAIL_RAMP,
    ) -> None:
        super().__init__()
        if downscale < 1:
            raise ValueError(f"downscale must be >= 1, got {downscale}")
        self.net = FourierInpainter(channels, widths, blocks, prefill="harmonic")
        self.channels, self.downscale, self.ramp = channels, downscale, ramp

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.to(image.dtype)
        h, w = image.shape[-2:]
        small, small_mask = image, mask
        if self.downscale > 1:
            small = imresize(image.float(), 1 / self.downscale).clamp(0, 1)
            small_mask = shrink_mask(mask, tuple(small.shape[-2:]))
        coarse = self.net.structure(small, small_mask)
        if self.downscale > 1:
            coarse = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False)
        fine = _textured(image, mask, self.ramp).float()
        return (fine + coarse * mask).clamp(0, 1)


class PatchDiscriminator(nn.Module):
    """PatchGAN (Isola et al.): stride-2 4x4 convs, LeakyReLU 0.2, spectral norm; a logit map.

    Input (N, C, H, W) in [-1, 1] (as the GAN losses expect); output (N, 1, H/8 - 2, W/8 - 2)
    logits for the default three stride-2 layers.
    """

    def __init__(self, channels: int = 3, width: int = 64, layers: int = 3) -> None:
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        convs: list[nn.Module] = []
        c_in = channels
        for i in range(layers):
            c_out = width * 2**i
            convs += [sn(nn.Conv2d(c_in, c_out, 4, 2, 1)), nn.LeakyReLU(0.2)]
            c_in = c_out
        convs += [sn(nn.Conv2d(c_in, c_in * 2, 4, 1, 1)), nn.LeakyReLU(0.2)]
        self.convs = nn.Sequential(*convs)
        self.out = sn(nn.Conv2d(c_in * 2, 1, 4, 1, 1))

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The activations after every LeakyReLU (for feature-matching losses)."""
        return leaky_relu_maps(self.convs, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.convs(x))


@register_model("inpaint-ffc-s", task="inpaint", tiling=INPAINT_TILING)
def inpaint_ffc_s(**kw) -> nn.Module:
    """Fourier inpainter: 32/64/96 features, 4 Fourier residual blocks at 1/4 res (~1.2M).

    Sized to train in about an hour on one CPU core."""
    return FourierInpainter(**{"widths": (32, 64, 96), "blocks": 4, **kw})


@register_model("inpaint-ffc-m", task="inpaint", tiling=INPAINT_TILING)
def inpaint_ffc_m(**kw) -> nn.Module:
    """Fourier inpainter: 48/96/192 features, 9 Fourier residual blocks (~8M; for GPUs)."""
    return FourierInpainter(**{"widths": (48, 96, 192), "blocks": 9, **kw})


@register_model("inpaint-ffc-s-2scale", task="inpaint", tiling=INPAINT_TILING)
def inpaint_ffc_s_2scale(**kw) -> nn.Module:
    """inpaint-ffc-s on a 1/downscale copy (default 3) for structure + full-size textured fill."""
    return TwoScaleInpainter(**kw)


@register_model("patch-d", task="inpaint-discriminator")
def patch_d(**kw) -> nn.Module:
    """PatchGAN discriminator with spectral norm (64 features, 3 stride-2 layers)."""
    return PatchDiscriminator(**kw)
