"""A FastGAN-style generator and discriminator, scaled down for 32, 64 and 128 px images.

After Liu et al. 2021, "Towards Faster and Stabilized GAN Training for High-fidelity Few-shot
Image Synthesis" (FastGAN), which trains on 100-1000 images. Its two ideas, at small scale:

* **Skip-layer excitation (SLE)** in the generator: a low-resolution feature map (4x4, 8x8 or
  16x16) gates every channel of a map 8x larger (32x32, 64x64, 128x128) through a sigmoid. The
  coarse layers, which decide the layout, get a short gradient path to the fine ones and can
  switch whole channels (style) on and off; it costs one small gate per pair.
* A **self-supervised discriminator**: small decoders must reconstruct the real image (at half
  resolution) from D's 8x8 feature map, and a random quadrant of it (at full resolution) from
  the matching quadrant of D's 16x16 map. D has to keep features that describe the whole image,
  not only the few cues that separate a memorised real set from fakes, which is what makes
  small-data GANs collapse or diverge. The reconstruction loss is applied to real images only,
  by the training task (``gan.recon_weight``); ``forward`` alone returns plain logits, so D
  works with every adversarial loss and regulariser of ``losses/adversarial.py``.

Deviations from the paper, all to fit 64 px and CPU budgets: one discriminator branch (the paper
adds a second one on a half-size copy of the image and a third decoder for it), no noise
injection in G (it would make fixed-seed samples depend on the global RNG), no spectral norm in
G (see :class:`FastGANGenerator`), a plain 4x4 logit head, and no SLE inside D.

Shapes: G maps z (N, z_dim) ~ N(0, I) to (N, C, R, R) in [-1, 1]; D maps such images to logits
(N,). R is 32, 64 or 128. Both are unconditional.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn

from imagesmith.models.gans import dcgan_init
from imagesmith.models.registry import register_model

__all__ = ["FastGANGenerator", "FastGANDiscriminator", "SkipLayerExcitation", "RESOLUTIONS"]

RESOLUTIONS = (32, 64, 128)


def _check_resolution(name: str, resolution: int) -> None:
    if resolution not in RESOLUTIONS:
        raise ValueError(f"{name}: resolution must be 32, 64 or 128, got {resolution}")


def _check_unconditional(name: str, num_classes: int) -> None:
    if num_classes:
        raise ValueError(
            f"{name} is unconditional: class conditioning (num_classes={num_classes}, "
            "gan.conditional) is not supported; use resgan-g / resgan-d for that"
        )


def _conv(c_in: int, c_out: int, k: int, s: int, p: int, sn: bool, bias: bool = False) -> nn.Module:
    """A conv, spectral-normed when ``sn``; no bias by default (it feeds a batch norm)."""
    conv = nn.Conv2d(c_in, c_out, k, s, p, bias=bias)
    return _sn(conv) if sn else conv


class _Up(nn.Module):
    """Nearest x2 -> (3x3 conv -> BN -> GLU) * ``convs``: (N, c_in, s, s) -> (N, c_out, 2s, 2s).

    The conv makes 2 * c_out channels and the GLU gates one half with the sigmoid of the other
    (FastGAN's choice over ReLU/LeakyReLU). Nearest upsampling plus a 3x3 conv avoids the
    checkerboard artefacts of stride-2 transposed convolutions. ``convs=2`` is FastGAN's
    "UpBlockComp" (used at 8x8, 32x32 and 128x128), without its noise injection.
    """

    def __init__(self, c_in: int, c_out: int, convs: int = 1, sn: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Upsample(scale_factor=2.0, mode="nearest")]
        for i in range(convs):
            layers += [
                _conv(c_in if i == 0 else c_out, 2 * c_out, 3, 1, 1, sn),
                nn.BatchNorm2d(2 * c_out),
                nn.GLU(dim=1),
            ]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class SkipLayerExcitation(nn.Module):
    """FastGAN's SLE: a low-res map gates the channels of a high-res one.

    ``gate(low)``: (N, c_low, s, s) -> adaptive avg pool to 4x4 -> 4x4 conv (no padding, so
    1x1) -> LeakyReLU 0.1 -> 1x1 conv -> sigmoid: (N, c_high, 1, 1) in [0, 1].
    ``forward(low, high)``: ``high * gate(low)``, same shape as ``high`` (N, c_high, S, S).
    """

    def __init__(self, c_low: int, c_high: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            nn.Conv2d(c_low, c_high, 4, 1, 0),
            nn.LeakyReLU(0.1),
            nn.Conv2d(c_high, c_high, 1, 1, 0),
            nn.Sigmoid(),
        )

    def gate(self, low: torch.Tensor) -> torch.Tensor:
        return self.body(low)

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        return high * self.gate(low)


class FastGANGenerator(nn.Module):
    """z (N, z_dim) -> 4x4 -> nearest-x2/conv/BN/GLU blocks with SLE -> 3x3 conv -> tanh.

    * Start: z as a 1x1 map, 4x4 transposed conv to 2 * c(4) channels, BN, GLU: (N, c(4), 4, 4).
    * One up block per doubling to R; two convs at 8, 32 and 128 px (as FastGAN), one elsewhere.
    * SLE pairs (4 -> 32), (8 -> 64), (16 -> 128), those that fit in R.
    * Channels at side r: c(r) = width * max(64 // r, 1), i.e. 16w at 4x4 down to w at 64 px
      (FastGAN's table, flattened at the fine end where a 64 px sprite needs little width).
    * Output: 3x3 conv to ``channels`` + tanh: (N, channels, R, R) in [-1, 1].

    No spectral norm (FastGAN puts it on every conv, G included): batch norm already normalises
    G's activations, and an EMA copy of a spectral-normed G would pair averaged weights with the
    raw model's power-iteration vectors. Weights are drawn as in DCGAN (N(0, 0.02), BN N(1, 0.02)).
    """

    def __init__(
        self,
        z_dim: int = 128,
        resolution: int = 64,
        channels: int = 3,
        width: int = 32,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        _check_resolution("fastgan-g", resolution)
        _check_unconditional("fastgan-g", num_classes)
        self.z_dim, self.resolution, self.channels = z_dim, resolution, channels
        self.num_classes, self.width = num_classes, width
        sides = [4 * 2**i for i in range(resolution.bit_length() - 2)]  # 4, 8, ..., R
        ch = {r: width * max(64 // r, 1) for r in sides}
        self.init = nn.Sequential(
            nn.ConvTranspose2d(z_dim, 2 * ch[4], 4, 1, 0, bias=False),
            nn.BatchNorm2d(2 * ch[4]),
            nn.GLU(dim=1),
        )
        self.ups = nn.ModuleDict(
            {str(r): _Up(ch[r // 2], ch[r], convs=2 if r in (8, 32, 128) else 1) for r in sides[1:]}
        )
        # SLE: key "high" gated by the map 8x smaller.
        self.sle = nn.ModuleDict(
            {str(r): SkipLayerExcitation(ch[r // 8], ch[r]) for r in (32, 64, 128) if r in ch}
        )
        self.to_img = nn.Conv2d(ch[resolution], channels, 3, 1, 1)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z (N, z_dim) float -> images (N, channels, R, R) in [-1, 1]; ``y`` must be None."""
        if y is not None:
            raise ValueError("fastgan-g is unconditional: do not pass labels")
        h = self.init(z.view(z.shape[0], self.z_dim, 1, 1))
        feats = {4: h}
        for key, up in self.ups.items():
            r = int(key)
            h = up(h)
            if key in self.sle:
                h = self.sle[key](feats[r // 8], h)
            feats[r] = h
        return torch.tanh(self.to_img(h))


class _Down(nn.Module):
    """FastGAN's "DownBlockComp": (N, c_in, s, s) -> (N, c_out, s/2, s/2).

    Main path: 4x4 stride-2 conv, [BN], LeakyReLU 0.2, 3x3 conv, [BN], LeakyReLU 0.2. Shortcut:
    2x2 average pool, 1x1 conv, [BN], LeakyReLU 0.2. Output: the mean of the two (the shortcut
    keeps a smooth, low-frequency path to the logit).
    """

    def __init__(self, c_in: int, c_out: int, bn: bool, sn: bool) -> None:
        super().__init__()

        def norm(c: int) -> list[nn.Module]:
            return [nn.BatchNorm2d(c)] if bn else []

        self.main = nn.Sequential(
            _conv(c_in, c_out, 4, 2, 1, sn, bias=not bn),
            *norm(c_out),
            nn.LeakyReLU(0.2),
            _conv(c_out, c_out, 3, 1, 1, sn, bias=not bn),
            *norm(c_out),
            nn.LeakyReLU(0.2),
        )
        self.skip = nn.Sequential(
            nn.AvgPool2d(2),
            _conv(c_in, c_out, 1, 1, 0, sn, bias=not bn),
            *norm(c_out),
            nn.LeakyReLU(0.2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.main(x) + self.skip(x)) / 2


class _Decoder(nn.Module):
    """D's auxiliary decoder: (N, c_in, 8, 8) -> up blocks -> 3x3 conv -> tanh: (N, C, S, S).

    FastGAN's "SimpleDecoder" (nearest x2, 3x3 conv, BN, GLU per doubling). Channels at side s:
    max(width * 32 // s, 8), kept small: the decoder is only a probe of D's features.
    """

    def __init__(self, c_in: int, out_side: int, channels: int, width: int, sn: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        side, c = 8, c_in
        while side < out_side:
            side *= 2
            c_next = max(width * 32 // side, 8)
            layers.append(_Up(c, c_next, sn=sn))
            c = c_next
        layers += [nn.Conv2d(c, channels, 3, 1, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def _quadrant(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Quadrant ``idx[n]`` (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) of each
    sample of ``t`` (N, C, H, W), H and W even: (N, C, H/2, W/2)."""
    n, c, h, w = t.shape
    q = t.reshape(n, c, 2, h // 2, 2, w // 2).permute(0, 2, 4, 1, 3, 5)  # (N, 2, 2, C, h, w)
    q = q.reshape(n, 4, c, h // 2, w // 2)
    return q[torch.arange(n, device=t.device), idx]


class FastGANDiscriminator(nn.Module):
    """Images (N, C, R, R) in [-1, 1] -> logits (N,); optionally reconstructions of the input.

    * Input layer: 4x4 stride-2 conv + LeakyReLU 0.2 (no batch norm on raw pixels, as DCGAN).
    * :class:`_Down` blocks halve the side down to 4x4; channels double from ``width`` at R/2,
      capped at 8 * width (at 64 px and width 32: 32@32, 64@16, 128@8, 256@4).
    * Head: a 4x4 conv (no padding) on the 4x4 map: one logit per image.
    * Decoders (``reconstruction=True``): one from the 8x8 map to the whole image at R/2, one from
      a random quadrant of the 16x16 map to that quadrant of the image at full resolution (R/2).

    ``batch_norm`` and ``spectral_norm`` are both on by default, as in FastGAN, which uses hinge
    loss and no gradient penalty. Batch norm makes D's output for one image depend on the rest of
    its batch, which per-sample gradient penalties (WGAN-GP, R1) do not assume; turn it off when
    combining this D with them. Under DDP with ``gan.recon_weight`` 0 build it with
    ``reconstruction=False``: unused decoder weights would stall DDP's gradient reduction.
    """

    def __init__(
        self,
        resolution: int = 64,
        channels: int = 3,
        width: int = 32,
        num_classes: int = 0,
        batch_norm: bool = True,
        spectral_norm: bool = True,
        reconstruction: bool = True,
    ) -> None:
        super().__init__()
        _check_resolution("fastgan-d", resolution)
        _check_unconditional("fastgan-d", num_classes)
        self.resolution, self.channels, self.num_classes = resolution, channels, num_classes
        self.reconstructs = reconstruction
        sides = [resolution // 2**i for i in range(1, resolution.bit_length() - 2)]  # R/2 .. 4
        ch = {s: width * min(2**i, 8) for i, s in enumerate(sides)}
        stem = nn.Conv2d(channels, ch[sides[0]], 4, 2, 1)
        self.stem = nn.Sequential(_sn(stem) if spectral_norm else stem, nn.LeakyReLU(0.2))
        self.downs = nn.ModuleDict(
            {str(s): _Down(ch[s * 2], ch[s], batch_norm, spectral_norm) for s in sides[1:]}
        )
        head = nn.Conv2d(ch[4], 1, 4, 1, 0)
        self.head = _sn(head) if spectral_norm else head
        if reconstruction:
            half = resolution // 2
            self.decode_full = _Decoder(ch[8], half, channels, width, spectral_norm)
            self.decode_part = _Decoder(ch[16], half, channels, width, spectral_norm)
        dcgan_init(self)

    def _features(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        h = self.stem(x)
        feats = {x.shape[-1] // 2: h}
        for key, down in self.downs.items():
            h = down(h)
            feats[int(key)] = h
        return self.head(h).flatten(), feats

    def forward(
        self, x: torch.Tensor, y: torch.Tensor | None = None, reconstruct: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits (N,) for images ``x`` (N, C, R, R) in [-1, 1]; ``y`` must be None.

        ``reconstruct=True`` returns ``(logits, recon, target)`` as :meth:`reconstruct` does
        (a keyword of ``forward`` so that a DDP-wrapped D synchronises the decoders' gradients).
        """
        if y is not None:
            raise ValueError("fastgan-d is unconditional: do not pass labels")
        logits, feats = self._features(x)
        if not reconstruct:
            return logits
        if not self.reconstructs:
            raise ValueError("this fastgan-d was built with reconstruction=False")
        # One random quadrant per sample, from torch's global RNG (resume stays exact).
        idx = torch.randint(4, (x.shape[0],), device=x.device)
        recon = torch.cat([self.decode_full(feats[8]), self.decode_part(_quadrant(feats[16], idx))])
        # The input at R/2 by 2x2 averaging (exact area downsampling), and the chosen quadrant
        # at full resolution; no gradient flows into the input through the target.
        target = torch.cat([F.avg_pool2d(x, 2), _quadrant(x, idx)]).detach()
        return logits, recon, target

    def reconstruct(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(logits, recon, target)`` for images ``x`` (N, C, R, R) in [-1, 1].

        ``logits`` (N,) as :meth:`forward`. ``recon`` and ``target`` are (2N, C, R/2, R/2) in
        [-1, 1]: rows 0..N-1 are the whole image (target: ``x`` 2x2-average-pooled), rows N..2N-1
        a random quadrant of it (target: that quadrant of ``x``, full resolution).
        """
        return self(x, y, reconstruct=True)


@register_model("fastgan-g", task="gan-generator")
def fastgan_g(**kw) -> nn.Module:
    """FastGAN-style generator: GLU up blocks with skip-layer excitation, tanh."""
    return FastGANGenerator(**kw)


@register_model("fastgan-d", task="gan-discriminator")
def fastgan_d(**kw) -> nn.Module:
    """FastGAN-style discriminator with self-supervised reconstruction decoders."""
    return FastGANDiscriminator(**kw)
