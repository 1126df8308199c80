import itertools

import numpy as np
import pytest
import torch
from torch.utils.data import DistributedSampler

from imagesmith.data.crops import load_folder
from imagesmith.data.sampling import ResumableBatchSampler
from imagesmith.data.sr_patches import SRPatchDataset
from imagesmith.errors import UserError
from imagesmith.functional.resize import imresize
from imagesmith.io.image import write_image


def _images(n=3, h=50, w=60):
    g = torch.Generator().manual_seed(0)
    return [(torch.rand(3, h, w, generator=g) * 255).round().byte() for _ in range(n)]


def test_pairs_are_consistent_and_reproducible():
    ds = SRPatchDataset(_images(), scale=3, lr_patch=8, length=10, seed=1)
    lr, hr = ds[(4, 2)]
    assert lr.shape == (3, 8, 8) and hr.shape == (3, 24, 24)
    assert torch.equal(lr, imresize(hr.double(), 1 / 3, quantize=True).float())
    lr2, hr2 = ds[(4, 2)]
    assert torch.equal(hr, hr2) and torch.equal(lr, lr2)
    assert not torch.equal(ds[(4, 3)][1], hr)  # another epoch, another crop
    assert torch.allclose(hr * 255, (hr * 255).round(), atol=1e-4)


def test_too_small_images_rejected():
    with pytest.raises(UserError, match="side"):
        SRPatchDataset(_images(h=20, w=20), scale=4, lr_patch=8)


def test_sampler_resumes_mid_stream():
    full = list(itertools.islice(iter(ResumableBatchSampler(10, 3, seed=2)), 8))
    tail = list(itertools.islice(iter(ResumableBatchSampler(10, 3, seed=2, start_step=5)), 3))
    assert full[5:] == tail


def test_sampler_shards_like_distributed_sampler():
    n, bs, seed, world = 23, 2, 7, 2
    for rank in range(world):
        ours = list(itertools.islice(iter(ResumableBatchSampler(n, bs, seed, 0, rank, world)), 5))
        ref = DistributedSampler(range(n), world, rank, shuffle=True, seed=seed, drop_last=True)
        ref.set_epoch(0)
        # DistributedSampler seeds with seed + epoch, as ours does; epoch 0 has 5 batches of 2
        ref_idx = list(ref)[: 5 * bs]
        assert [i for batch in ours for i, _ in batch] == ref_idx
    a = {
        i
        for b in itertools.islice(iter(ResumableBatchSampler(n, bs, seed, 0, 0, 2)), 5)
        for i, _ in b
    }
    b = {
        i
        for b in itertools.islice(iter(ResumableBatchSampler(n, bs, seed, 0, 1, 2)), 5)
        for i, _ in b
    }
    assert not a & b


def test_load_folder_handles_gray_and_16bit(tmp_path):
    write_image(np.full((10, 12), 65535, np.uint16), tmp_path / "g16.png")
    write_image(np.zeros((9, 9, 4), np.uint8), tmp_path / "rgba.png")
    ims = load_folder(tmp_path)
    assert [tuple(t.shape) for t in ims] == [(3, 10, 12), (3, 9, 9)]
    assert ims[0].dtype == torch.uint8 and int(ims[0].max()) == 255
    with pytest.raises(UserError):
        load_folder(tmp_path / "nope")
