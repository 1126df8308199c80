"""GAN and VAE tasks inside the one training loop: tiny data, a few steps, CPU, seconds."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from imagesmith.errors import UserError
from imagesmith.models.spec import read_spec
from imagesmith.pipelines.generate import GeneratePipeline
from imagesmith.training.config import load_config
from imagesmith.training.loop import resume_config, train


@pytest.fixture
def shapes(tmp_path):
    """Two classes of 12x12 images (bright squares, dark discs) plus one unreadable file."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:12, 0:12]
    for cls in ("disc", "square"):
        d = tmp_path / "imgs" / cls
        d.mkdir(parents=True)
        for i in range(6):
            c = rng.integers(3, 9, 2)
            if cls == "square":
                m = (abs(yy - c[0]) < 3) & (abs(xx - c[1]) < 3)
            else:
                m = (yy - c[0]) ** 2 + (xx - c[1]) ** 2 < 9
            arr = np.where(m, 230, 30).astype(np.uint8)
            Image.fromarray(np.stack([arr, arr // 2, 255 - arr], -1)).save(d / f"{i}.png")
    (tmp_path / "imgs" / "disc" / "broken.png").write_text("not a png")
    return tmp_path / "imgs"


SN_D = "gan.discriminator.args={width: 4, batch_norm: false, spectral_norm: true}"


def _gan_cfg(data, steps, *extra):
    sets = [
        "task=gan",
        f"steps={steps}",
        "model.arch=dcgan-g",
        "model.args={width: 4, hidden: 8, z_dim: 5}",
        "gan.discriminator.args={width: 4}",
        f"images.source={data}",
        "images.split=null",
        "images.resolution=28",
        "images.channels=3",
        "data.batch_size=4",
        "val_every=3",
        "ckpt_every=2",
        "log_every=1",
        "optim.warmup_steps=0",
        "gan.samples=4",
        "seed=3",
    ]
    return load_config(None, sets + list(extra))


def _same_weights(a, b):
    wa, wb = (
        load_file(str(a / "model" / "model.safetensors")),
        load_file(str(b / "model" / "model.safetensors")),
    )
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize(
    "extra",
    [
        [],  # the textbook DCGAN: BCE (ns), D step then G step
        [
            "gan.loss=hinge",
            "gan.r1_gamma=1.0",
            "gan.diffaug=color,translation,cutout",
            "gan.conditional=true",
            SN_D,
        ],
        [  # the fast small-data recipe: bf16, channels-last, lazy R1 on its own fp32 pass
            "gan.loss=hinge",
            "gan.r1_gamma=1.0",
            "gan.r1_every=2",
            "gan.diffaug=color,translation,cutout",
            "precision=bf16",
            "channels_last=true",
            SN_D,
        ],
        [
            "gan.loss=wgan",
            "gan.gp_weight=10",
            "gan.n_critic=2",
            "model.arch=resgan-g",
            "model.args={width: 4, z_dim: 5}",
            "gan.discriminator.arch=resgan-d",
        ],
    ],
    ids=["dcgan", "hinge-r1-diffaug-cond", "bf16-lazy-r1", "wgan-gp-resnet"],
)
def test_gan_trains_resumes_exactly_and_samples(shapes, tmp_path, extra):
    straight = train(_gan_cfg(shapes, 5, *extra), tmp_path / "a", quiet=True)
    part = train(_gan_cfg(shapes, 5, *extra), tmp_path / "b", quiet=True, stop_at=2)
    resumed = train(resume_config(part), part, resume=True, quiet=True)
    assert _same_weights(straight, resumed)

    records = [json.loads(x) for x in (straight / "log.jsonl").read_text().splitlines()]
    d_keys = {k for r in records for k in r if k.startswith("d/")}
    assert "d/loss" in d_keys and any(k.startswith("g/") for r in records for k in r)
    assert any("val/diversity" in r for r in records)
    assert (straight / "samples" / "step-0000003.png").is_file()
    assert (straight / "curves.png").is_file()

    spec = read_spec(straight / "model")
    assert spec.task == "generate" and spec.kind == "gan" and spec.z_dim == 5
    gen = GeneratePipeline.from_pretrained(straight)  # a run folder works
    a, b = gen.sample(6, seed=1), gen.sample(6, seed=1)
    assert a.shape == (6, 3, 28, 28) and torch.equal(a, b)
    assert not torch.equal(a, gen.sample(6, seed=2))
    if "gan.conditional=true" in extra:
        assert gen.class_names == ["disc", "square"]
        gen.sample(2, label="square")


FASTGAN = [  # the sprites-fastgan recipe in miniature: 32 px, reconstruction loss on D
    "model.arch=fastgan-g",
    "model.args={width: 4, z_dim: 5}",
    "gan.discriminator.arch=fastgan-d",
    "gan.discriminator.args={width: 4}",
    "images.resolution=32",
    "gan.loss=hinge",
    "gan.diffaug=translation,cutout",
    "gan.recon_weight=1.0",
    "precision=bf16",
    "channels_last=true",
]


def test_fastgan_recon_loss_is_logged_and_resume_is_exact(shapes, tmp_path):
    from imagesmith.training.checkpoint import load_checkpoint

    straight = train(_gan_cfg(shapes, 4, *FASTGAN), tmp_path / "a", quiet=True)
    part = train(_gan_cfg(shapes, 4, *FASTGAN), tmp_path / "b", quiet=True, stop_at=2)
    resumed = train(resume_config(part), part, resume=True, quiet=True)
    assert _same_weights(straight, resumed)
    d_a = load_checkpoint(straight / "last.pt")["phases"][0]["module"]
    d_b = load_checkpoint(resumed / "last.pt")["phases"][0]["module"]
    assert any("decode_part" in k for k in d_a)  # the decoders were trained and saved with D
    assert d_a.keys() == d_b.keys() and all(torch.equal(d_a[k], d_b[k]) for k in d_a)

    records = [json.loads(x) for x in (straight / "log.jsonl").read_text().splitlines()]
    recon = [r["d/recon"] for r in records if "d/loss" in r]
    assert len(recon) == 4 and all(np.isfinite(v) and 0 < v < 2 for v in recon)
    gen = GeneratePipeline.from_pretrained(straight)
    assert gen.sample(3, seed=1).shape == (3, 3, 32, 32)


def test_recon_weight_needs_a_reconstructing_discriminator(shapes):
    from imagesmith.training.tasks.gan import GANTask

    with pytest.raises(UserError, match="recon_weight=1.0 needs a discriminator"):
        GANTask(_gan_cfg(shapes, 1, "gan.recon_weight=1.0"))  # dcgan-d
    no_decoders = "gan.discriminator.args={width: 4, reconstruction: false}"
    with pytest.raises(UserError, match="needs a discriminator"):
        GANTask(_gan_cfg(shapes, 1, *FASTGAN, no_decoders))
    GANTask(_gan_cfg(shapes, 1, *FASTGAN, no_decoders, "gan.recon_weight=0"))  # fine without
    with pytest.raises(UserError, match="gan.recon_weight must be >= 0"):
        GANTask(_gan_cfg(shapes, 1, *FASTGAN, "gan.recon_weight=-1"))
    with pytest.raises(UserError, match="unconditional"):
        GANTask(_gan_cfg(shapes, 1, *FASTGAN, "gan.conditional=true"))


def test_unreadable_files_are_skipped_with_a_count(shapes, tmp_path, capsys):
    train(_gan_cfg(shapes, 1, "val_every=0"), tmp_path / "s", quiet=True)
    err = capsys.readouterr().err
    assert "skipped 1 unusable file(s)" in err and "broken.png" in err


def test_n_critic_runs_g_less_often(shapes, tmp_path):
    run = train(
        _gan_cfg(shapes, 4, "gan.n_critic=2", "gan.loss=wgan", "gan.gp_weight=1"),
        tmp_path / "r",
        quiet=True,
    )
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    steps_with_g = [r["step"] for r in records if "g/loss" in r]
    assert steps_with_g == [2, 4]


def test_lazy_r1_runs_on_every_kth_d_step_only(shapes, tmp_path):
    run = train(
        _gan_cfg(shapes, 6, "gan.loss=hinge", "gan.r1_gamma=1", "gan.r1_every=3", SN_D),
        tmp_path / "r",
        quiet=True,
    )
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    r1 = {r["step"]: r["d/r1"] for r in records if "d/r1" in r}
    assert sorted(r1) == [1, 4]  # D steps 0 and 3 (0-based), logged after the step
    assert all(v > 0 and np.isfinite(v) for v in r1.values())


def test_gan_config_errors(shapes, tmp_path):
    with pytest.raises(UserError, match="gan.loss"):
        train(_gan_cfg(shapes, 2, "gan.loss=lsgan"), tmp_path / "x", quiet=True)
    with pytest.raises(UserError, match="resolution"):
        train(_gan_cfg(shapes, 2, "images.resolution=48"), tmp_path / "y", quiet=True)
    with pytest.raises(UserError, match="gan.r1_every"):
        train(_gan_cfg(shapes, 2, "gan.r1_every=0"), tmp_path / "w", quiet=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError):
        train(_gan_cfg(tmp_path / "empty", 2), tmp_path / "z", quiet=True)


def test_vae_trains_and_lowers_its_bound(shapes, tmp_path):
    sets = [
        "task=vae",
        "steps=30",
        "model.arch=conv-vae",
        "model.args={width: 8, latent: 4}",
        f"images.source={shapes}",
        "images.split=null",
        "images.val_split=null",
        "images.channels=1",
        "data.batch_size=6",
        "val_every=15",
        "ckpt_every=15",
        "log_every=5",
        "optim.lr=3e-3",
        "optim.warmup_steps=0",
        "vae.kl_warmup_steps=10",
        "vae.samples=4",
    ]
    run = train(load_config(None, sets), tmp_path / "v", quiet=True)
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    vals = [r["val/elbo_bpd"] for r in records if "val/elbo_bpd" in r]
    assert len(vals) == 2 and vals[1] < vals[0] < 9  # below 8 bits/dim: it learned something
    assert (run / "samples" / "step-0000015-samples.png").is_file()
    assert (run / "samples" / "step-0000015-recon.png").is_file()
    gen = GeneratePipeline.from_pretrained(run / "model")
    assert gen.kind == "vae" and gen.sample(3).shape == (3, 1, 28, 28)


def test_classifier_learns_two_shapes(shapes, tmp_path):
    sets = [
        "task=classify",
        "steps=150",
        "model.arch=feature-cnn",
        "model.args={width: 4, feat_dim: 8}",
        f"images.source={shapes}",
        "images.split=null",
        "images.val_split=null",
        "images.channels=1",
        "data.batch_size=6",
        "val_every=150",
        "ckpt_every=150",
        "log_every=10",
        "optim.lr=1e-2",
        "optim.warmup_steps=0",
        "ema_decay=0",
    ]
    run = train(load_config(None, sets), tmp_path / "c", quiet=True)
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [r["val/acc"] for r in records if "val/acc" in r][-1] >= 0.75  # chance is 0.5
    spec = read_spec(run / "model")
    assert spec.task == "features" and spec.class_names == ("disc", "square")


def test_fid_is_logged_with_training_time(shapes, tmp_path, tiny_features_dir):
    cfg = _gan_cfg(
        shapes, 3, f"fid_extractor={tiny_features_dir}", "fid_samples=16", "images.val_split=null"
    )
    run = train(cfg, tmp_path / "f", quiet=True)
    val = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    val = [r for r in val if "val/fid" in r]
    assert len(val) == 1 and val[0]["val/fid"] > 0 and 0 < val[0]["train_time"] <= val[0]["time"]


def test_health_warnings(shapes):
    from imagesmith.training.tasks.gan import GANTask

    task = GANTask(_gan_cfg(shapes, 1))
    winning = {"d/D(real)": 0.999, "d/D(fake)": 0.001}
    assert task.health(winning) == [] and task.health(winning) == []
    assert "winning outright" in task.health(winning)[0]  # the third window in a row
    assert task.health({"d/D(real)": 0.7, "d/D(fake)": 0.3}) == []
    assert "collapsing" in task.health({"val/diversity": 0.1})[0]
    assert task.health({"val/diversity": 0.8}) == []
