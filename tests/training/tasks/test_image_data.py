"""The shared image-set helpers of the GAN, VAE and classifier tasks."""

from imagesmith.training.config import load_config
from imagesmith.training.tasks import make_task
from imagesmith.training.tasks.image_data import data_options, held_out, load_images


def _cfg(task, data, *sets):
    return load_config(None, [f"task={task}", f"images.source={data}", "images.channels=1", *sets])


def test_held_out_split_and_data_options(split_gray_folder):
    cfg = _cfg("vae", split_gray_folder)
    train = load_images(cfg, "train")
    test = held_out(cfg, train)
    assert len(train) == len(test) == 50 and test.class_names == train.class_names
    assert data_options(cfg) == {
        "alpha": "composite",
        "background": [255, 255, 255],
        "fit": "center-crop",
        "resample": "bicubic",
    }


def test_a_vae_monitors_fid_with_its_own_sections(split_gray_folder, tiny_features_dir):
    """The VAE config has no ``gan`` section: FID monitoring must not need one."""
    cfg = _cfg(
        "vae",
        split_gray_folder,
        "model.arch=conv-vae",
        "model.args={width: 4, latent: 3}",
        f"fid_extractor={tiny_features_dir}",
        "fid_samples=16",
    )
    task = make_task(cfg)
    assert task.fid is not None and task.fid.seed == cfg.vae.sample_seed
