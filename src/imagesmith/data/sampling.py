"""Reproducible data order: which sample each step sees is a pure function of (seed, step).

:class:`ResumableBatchSampler` shards epochs like ``DistributedSampler`` and can start at any
step (exact resume); :func:`item_seed` gives each (epoch, index) its own generator seed, so a
sample's crop, flips and degradations do not depend on which process draws it.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from imagesmith.errors import UserError

__all__ = ["ResumableBatchSampler", "item_seed"]


def item_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of sample ``index`` in ``epoch``: a fixed integer mix of the three."""
    # A fixed integer mix (Python's hash() is not promised stable across versions).
    return (seed * 0x9E3779B1 + epoch * 0x85EBCA77 + index * 0xC2B2AE3D) % (2**63 - 1)


class ResumableBatchSampler(Sampler):
    """Endless batches of ``(index, epoch)`` keys, starting at any global step.

    Each epoch is a permutation of ``range(len(dataset))`` seeded by ``seed + epoch``, sharded
    ``perm[rank::world_size]`` exactly like ``DistributedSampler`` (drop_last), then cut into
    batches. ``start_step`` skips the batches already consumed, so resume continues the same order.
    """

    def __init__(
        self,
        dataset_len: int,
        batch_size: int,
        seed: int = 0,
        start_step: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.n, self.batch_size, self.seed = dataset_len, batch_size, seed
        self.start_step, self.rank, self.world_size = start_step, rank, world_size
        self.steps_per_epoch = dataset_len // (batch_size * world_size)
        if self.steps_per_epoch < 1:
            raise UserError(
                f"dataset length {dataset_len} is smaller than one batch "
                f"({batch_size} x {world_size} ranks)"
            )

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start_step
        while True:
            epoch, offset = divmod(step, self.steps_per_epoch)
            g = torch.Generator().manual_seed(self.seed + epoch)
            perm = torch.randperm(self.n, generator=g)
            shard = perm[self.rank :: self.world_size].tolist()
            for k in range(offset, self.steps_per_epoch):
                chunk = shard[k * self.batch_size : (k + 1) * self.batch_size]
                yield [(i, epoch) for i in chunk]
                step += 1

    def __len__(self) -> int:  # endless; len() is one epoch, for progress estimates only
        return self.steps_per_epoch
