"""Sampling from trained generators (GANs and VAEs): grids, single images, latent walks.

    gen = GeneratePipeline.from_pretrained("gan-fashion")     # zoo name, model or run folder
    images = gen(16, seed=0)                                  # 16 imagesmith Images (uint8)
    x = gen.sample(64, seed=0)                                # (64, C, R, R) floats in [-1, 1]
    frames = gen.interpolate(seed=0, keyframes=4, steps=16)   # a looping latent walk

The same seed always gives the same images (z is drawn on the CPU from a seeded generator).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from imagesmith.errors import UserError
from imagesmith.functional.grid import make_grid, to_uint8
from imagesmith.io.image import Image
from imagesmith.models.spec import ModelSpec
from imagesmith.pipelines.base import Pipeline
from imagesmith.zoo import default_model

__all__ = ["GeneratePipeline", "truncated_normal", "slerp"]


def truncated_normal(
    shape: tuple[int, int], truncation: float | None, generator: torch.Generator
) -> torch.Tensor:
    """(n, d) samples of N(0, I), drawn row by row so row i never depends on n.

    With ``truncation`` t, every |value| > t is redrawn (BigGAN's truncation trick): smaller t
    trades variety for typical, cleaner samples. None or 0 means no truncation.
    """
    if truncation is not None and truncation < 0:
        raise UserError(f"truncation must be positive, got {truncation}")
    n, d = shape
    rows = []
    for _ in range(n):
        # One draw per row: torch's CPU normal sampler changes algorithm with the tensor size,
        # so drawing (n, d) at once would make sample i depend on how many were asked for.
        z = torch.randn(d, generator=generator)
        if truncation:
            for _ in range(1000):
                bad = z.abs() > truncation
                if not bad.any():
                    break
                z[bad] = torch.randn(d, generator=generator)[bad]
            z = z.clamp(-truncation, truncation)  # guard against a pathologically small t
        rows.append(z)
    return torch.stack(rows)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between latents a and b (D,) at fractions t (T,) -> (T, D).

    Gaussian latents live near a sphere; a straight line between two of them passes through
    low-norm points the generator rarely saw, slerp keeps the norm typical.
    """
    an, bn = a / a.norm(), b / b.norm()
    omega = torch.arccos((an * bn).sum().clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    t = t[:, None]
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


class GeneratePipeline(Pipeline):
    """Sample images from a generator that maps z (N, z_dim) [and labels (N,)] to [-1, 1].

    Calling it returns :class:`~imagesmith.io.image.Image` samples like every other pipeline;
    :meth:`sample`, :meth:`decode` and :meth:`interpolate` give the [-1, 1] tensors that grids,
    animations and metrics work on.
    """

    tasks = ("generate",)
    what = "a generative model"

    def __init__(
        self,
        model: nn.Module,
        spec: ModelSpec,
        name: str = "model",
        device: str | None = "cpu",
    ) -> None:
        super().__init__(name, device)
        self.model = model.eval().to(self.device)
        self.spec = spec
        self.z_dim = int(spec.z_dim or model.z_dim)
        self.kind = spec.kind or "gan"
        self.class_names: list[str] = list(spec.class_names)

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | Path | None = None, device: str | None = "cpu"
    ) -> GeneratePipeline:
        """A zoo name, a model folder, a training run folder (its ``model/`` is used), or None
        for the shipped default."""
        if name_or_path is None:
            name_or_path = default_model("generate")
        model, spec = cls.load(name_or_path)
        return cls(model, spec, name=str(name_or_path), device=device)

    def labels(self, n: int, label: int | str | None) -> torch.Tensor | None:
        """Labels for a conditional model: one class, or classes in turn when ``label`` is None."""
        if not self.class_names:
            if label is not None:
                raise UserError(f"{self.name} is not class-conditional; drop --class")
            return None
        if label is None:
            return torch.arange(n) % len(self.class_names)
        if isinstance(label, str) and not label.isdigit():
            if label not in self.class_names:
                raise UserError(f"unknown class {label!r}; known: {', '.join(self.class_names)}")
            return torch.full((n,), self.class_names.index(label))
        k = int(label)
        if not 0 <= k < len(self.class_names):
            raise UserError(f"class index {k} out of range 0..{len(self.class_names) - 1}")
        return torch.full((n,), k)

    def latents(self, n: int, seed: int = 0, truncation: float | None = None) -> torch.Tensor:
        """(n, z_dim) latents from ``seed``; ``truncation`` as in :func:`truncated_normal`."""
        if n < 1:
            raise UserError(f"the number of samples must be positive, got {n}")
        g = torch.Generator().manual_seed(seed)
        return truncated_normal((n, self.z_dim), truncation, g)

    @torch.no_grad()
    def decode(
        self, z: torch.Tensor, labels: torch.Tensor | None = None, batch: int = 256
    ) -> torch.Tensor:
        """Latents (N, z_dim) -> images (N, C, R, R) in [-1, 1] on the CPU, in batches."""
        out = []
        for i in range(0, len(z), batch):
            y = labels[i : i + batch].to(self.device) if labels is not None else None
            out.append(self.model(z[i : i + batch].to(self.device), y).float().cpu())
        return torch.cat(out).clamp(-1, 1)

    def sample(
        self,
        n: int,
        seed: int = 0,
        truncation: float | None = None,
        label: int | str | None = None,
    ) -> torch.Tensor:
        """``n`` images (N, C, R, R) in [-1, 1]; the same seed gives the same images."""
        return self.decode(self.latents(n, seed, truncation), self.labels(n, label))

    def __call__(
        self,
        n: int = 1,
        seed: int = 0,
        truncation: float | None = None,
        label: int | str | None = None,
    ) -> list[Image]:
        """``n`` samples as 8-bit :class:`Image` s (gray or RGB); the same seed gives the same
        images."""
        return [Image(a) for a in self.to_arrays(self.sample(n, seed, truncation, label))]

    def interpolate(
        self,
        seed: int = 0,
        keyframes: int = 4,
        steps: int = 16,
        truncation: float | None = None,
        label: int | str | None = None,
        n: int = 1,
    ) -> torch.Tensor:
        """``n`` looping walks, each through ``keyframes`` random latents, ``steps`` frames apart.

        Returns (keyframes * steps, n, C, R, R) in [-1, 1]: frame t of every walk; the last
        frame leads back to the first, so the animation loops without a jump.
        """
        if keyframes < 2 or steps < 1:
            raise UserError("an interpolation needs at least 2 keyframes and 1 step")
        keys = self.latents(n * keyframes, seed, truncation).view(n, keyframes, self.z_dim)
        t = torch.arange(steps, dtype=torch.float32) / steps
        walks = torch.stack(
            [
                torch.cat([slerp(k[i], k[(i + 1) % keyframes], t) for i in range(keyframes)])
                for k in keys
            ],
            1,
        )  # (frames, n, z_dim)
        labels = self.labels(n, label)
        frames = self.decode(
            walks.flatten(0, 1), labels.repeat(len(walks)) if labels is not None else None
        )
        return frames.view(len(walks), n, *frames.shape[1:])

    @staticmethod
    def to_arrays(images: torch.Tensor) -> list[np.ndarray]:
        """(N, C, R, R) in [-1, 1] -> N uint8 arrays (R, R) for gray or (R, R, C)."""
        arr = to_uint8(images)
        return list(arr)

    @staticmethod
    def grid(images: torch.Tensor, nrow: int | None = None) -> np.ndarray:
        """One uint8 sheet (H, W) or (H, W, C) of the images."""
        return make_grid(images, nrow=nrow)
