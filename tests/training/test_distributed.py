"""Two CPU processes (gloo) train with DDP: gradients are synchronised, so both ranks end equal.

Each rank sees a different shard of the data; without gradient all-reduce their weights would
diverge. Every rank is made to write its own run folder so the test can compare them.
"""

import os
import socket

import numpy as np
import torch
import torch.multiprocessing as mp
from PIL import Image
from safetensors.torch import load_file


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SR = [
    "model.arch=sr-tiny",
    "model.args={features: 8, layers: 2}",
    "data.train_dirs=[{root}/train]",
    "data.val_dir=null",
    "data.lr_patch=8",
    "data.epoch_length=8",
]
# A GAN with an R1 penalty (a gradient w.r.t. the input through the DDP-wrapped D) and spectral
# norm (power-iteration buffers): the D and G phases must both stay in sync across ranks.
GAN = [
    "task=gan",
    "model.arch=dcgan-g",
    "model.args={width: 4, hidden: 8, z_dim: 5}",
    "gan.discriminator.args={width: 4, batch_norm: false, spectral_norm: true}",
    "gan.loss=hinge",
    "gan.r1_gamma=1.0",
    "images.source={root}/train",
    "images.split=null",
    "images.resolution=28",
    "images.channels=3",
]


def _worker(rank: int, world: int, port: int, root: str, recipe: list[str]) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
    )
    torch.set_num_threads(1)
    import imagesmith.training.loop as loop
    from imagesmith.training.config import load_config

    loop.is_main = lambda info: True  # every rank writes (its own folder) for the comparison
    common = ["steps=4", "data.batch_size=2", "val_every=0", "ckpt_every=4", "log_every=2"]
    common.append("optim.warmup_steps=0")
    cfg = load_config(None, common + [x.replace("{root}", root) for x in recipe])
    loop.train(cfg, loop.Path(root) / f"rank{rank}", quiet=True)
    torch.distributed.destroy_process_group()


def _data(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "train").mkdir()
    for i in range(8):
        arr = (rng.random((32, 32, 3)) * 255).astype(np.uint8)
        Image.fromarray(arr).save(tmp_path / "train" / f"{i}.png")


def _run(tmp_path, recipe):
    mp.start_processes(
        _worker, args=(2, _free_port(), str(tmp_path), recipe), nprocs=2, start_method="spawn"
    )
    a = load_file(str(tmp_path / "rank0" / "model" / "model.safetensors"))
    b = load_file(str(tmp_path / "rank1" / "model" / "model.safetensors"))
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k
    return a


def test_ddp_two_ranks_stay_in_sync(tmp_path):
    _data(tmp_path)
    a = _run(tmp_path, SR)
    init = torch.zeros_like(a["up.conv.weight"])
    moved = not torch.equal(a["up.conv.weight"], init)
    assert moved  # training really happened


def test_ddp_gan_phases_stay_in_sync(tmp_path):
    _data(tmp_path)
    _run(tmp_path, GAN)
