import dataclasses
import re

import pytest

from imagesmith.errors import UserError
from imagesmith.training.config import (
    TrainConfig,
    check_config,
    expand,
    load_config,
    parse_set,
    to_dict,
)


def test_yaml_and_set_overrides(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("scale: 3\noptim:\n  lr: 1.0e-3\n  betas: [0.5, 0.9]\nmodel:\n  arch: sr-tiny\n")
    cfg = load_config(p, ["optim.lr=5e-4", "steps=7", "model.args={features: 8}"])
    assert cfg.scale == 3 and cfg.steps == 7 and cfg.model.arch == "sr-tiny"
    assert cfg.optim.lr == 5e-4 and cfg.optim.betas == (0.5, 0.9)
    assert cfg.model.args == {"features": 8}
    assert to_dict(cfg)["optim"]["betas"] == [0.5, 0.9]


def test_unknown_keys_fail(tmp_path):
    with pytest.raises(UserError, match="unknown config key 'optim.lrr'"):
        load_config(None, ["optim.lrr=1"])
    p = tmp_path / "c.yaml"
    p.write_text("stepz: 3\n")
    with pytest.raises(UserError, match="stepz"):
        load_config(p)


def test_type_errors_and_bad_items():
    with pytest.raises(UserError, match="expected int"):
        load_config(None, ["steps=abc"])
    with pytest.raises(UserError, match="expected int, got True"):
        load_config(None, ["steps=true"])
    with pytest.raises(UserError, match="key=value"):
        parse_set(["steps"])
    with pytest.raises(UserError, match="not a YAML value"):
        parse_set(["data.train_dirs=[${X}/a]"])
    with pytest.raises(UserError, match="not found"):
        load_config("/nonexistent.yaml")
    assert load_config(None, ["optim.lr=1"]).optim.lr == 1.0  # int promoted to float


def test_env_expansion(monkeypatch):
    monkeypatch.setenv("IMAGESMITH_DATA", "/data")
    assert expand("${IMAGESMITH_DATA}/x") == "/data/x"
    monkeypatch.delenv("IMAGESMITH_DATA")
    with pytest.raises(UserError, match="IMAGESMITH_DATA is not set"):
        expand("${IMAGESMITH_DATA}/x")  # the library has no default data folder
    assert expand("${NOPE_VAR:-d}") == "d"
    with pytest.raises(UserError):
        expand("${NOPE_VAR}")


def test_defaults_are_valid_and_point_at_no_data():
    cfg = TrainConfig()
    assert cfg.task == "upscale" and cfg.data.train_dirs == [] and cfg.data.val_dir is None


def test_paths_are_expanded_once_at_load(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGESMITH_DATA", str(tmp_path))
    cfg = load_config(
        None,
        ["data.train_dirs=['${IMAGESMITH_DATA}/a', /b]", "model.init_from=${IMAGESMITH_DATA}/m"],
    )
    assert cfg.data.train_dirs == [f"{tmp_path}/a", "/b"] and cfg.model.init_from == f"{tmp_path}/m"


def test_each_task_has_its_own_sections_only():
    restore = load_config(None, ["task=denoise", "restore.channels=1"])
    assert restore.restore.channels == 1 and "restore" in to_dict(restore)
    assert "gan" not in to_dict(restore) and "images" not in to_dict(restore)
    with pytest.raises(UserError, match="unknown config key 'restore'"):
        load_config(None, ["restore.channels=1"])  # task upscale has no restore section
    gan = load_config(None, ["task=gan"])
    assert set(to_dict(gan)) >= {"gan", "images"} and "restore" not in to_dict(gan)
    with pytest.raises(UserError, match="unknown training task"):
        load_config(None, ["task=paint"])


def test_recipes_inherit_from_a_base(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "task: denoise\nsteps: 9\nrestore: {patch: 32, channels: 1}\n"
    )
    (tmp_path / "mid.yaml").write_text("base: base.yaml\nrestore: {patch: 48}\nname: mid\n")
    (tmp_path / "leaf.yaml").write_text("base: mid.yaml\nsteps: 3\n")
    cfg = load_config(tmp_path / "leaf.yaml")
    assert (cfg.task, cfg.steps, cfg.name) == ("denoise", 3, "mid")
    assert (cfg.restore.patch, cfg.restore.channels) == (48, 1)  # nested keys merge
    (tmp_path / "loop.yaml").write_text("base: loop.yaml\n")
    with pytest.raises(UserError, match="loop"):
        load_config(tmp_path / "loop.yaml")
    (tmp_path / "orphan.yaml").write_text("base: missing.yaml\n")
    with pytest.raises(UserError, match="not found"):
        load_config(tmp_path / "orphan.yaml")


@pytest.mark.parametrize(
    "item,message",
    [
        ("steps=0", "'steps': expected a whole number >= 1"),
        ("steps=-3", "'steps': expected a whole number >= 1"),
        ("ckpt_every=0", "'ckpt_every'"),
        ("log_every=-1", "'log_every'"),
        ("val_every=-1", "'val_every': expected a whole number >= 0"),
        ("data.batch_size=0", "'data.batch_size'"),
        ("data.epoch_length=0", "'data.epoch_length'"),
        ("data.workers=-1", "'data.workers'"),
        ("threads=-2", "'threads'"),
        ("seed=-1", "'seed'"),
        ("ema_decay=1.5", "'ema_decay': expected a number from 0 to 1"),
        ("ema_decay=.nan", "'ema_decay'"),
        ("data.clean_prob=-0.1", "'data.clean_prob': expected a number from 0 to 1"),
        ("optim.lr=0", "'optim.lr': expected a learning rate > 0"),
        ("optim.lr=.inf", "'optim.lr'"),
        ("optim.betas=[0.9, 1.0]", "'optim.betas'"),
        ("optim.betas=[0.9]", "'optim.betas': expected 2 values"),
        ("optim.betas=[a, b]", "'optim.betas[0]': expected float"),
        ("optim.schedule=linear", "'optim.schedule': expected one of cosine, constant"),
        ("precision=fp8", "'precision'"),
        ("device=tpu", "'device': expected cpu, cuda, cuda:N or mps"),
        ("device=cuda:x", "'device'"),
        ("loss=l7", "'loss': expected one of l1"),
        ("name=a/b", "'name': expected a run name without path separators"),
        ("name=..", "'name'"),
        ("steps=", "'steps': expected int, got no value"),  # an empty --set value is None
        ("name=", "'name': expected str, got no value"),
        ("data.train_dirs=[1, 2]", "'data.train_dirs[0]': expected str"),
        ("data.val_dir=5", "'data.val_dir': expected str"),
        ("data=3", "config 'data': expected a mapping"),
    ],
)
def test_out_of_range_values_are_one_line_user_errors(item, message):
    with pytest.raises(UserError, match=re.escape(message)) as info:
        load_config(None, [item])
    assert "\n" not in str(info.value)


def test_valid_edge_values_pass():
    cfg = load_config(
        None,
        ["val_every=0", "threads=0", "ema_decay=0", "device=cuda:1", "data.val_dir=", "seed=0"],
    )
    assert (cfg.val_every, cfg.device, cfg.data.val_dir) == (0, "cuda:1", None)
    gan = load_config(None, ["task=gan", "images.split="])  # split is `str | None`
    assert gan.images.split is None


def test_check_config_catches_values_set_in_code():
    """train() re-checks: a config built with dataclasses.replace skips the loader."""
    cfg = dataclasses.replace(TrainConfig(), log_every=0)
    with pytest.raises(UserError, match="'log_every'"):
        check_config(cfg)
    assert check_config(TrainConfig()) == TrainConfig()
