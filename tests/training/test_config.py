import pytest

from imagesmith.errors import UserError
from imagesmith.training.config import TrainConfig, expand, load_config, parse_set, to_dict


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
    with pytest.raises(UserError, match="not found"):
        load_config("/nonexistent.yaml")
    assert load_config(None, ["optim.lr=1"]).optim.lr == 1.0  # int promoted to float


def test_env_expansion(monkeypatch):
    monkeypatch.setenv("IMAGESMITH_DATA", "/data")
    assert expand("${IMAGESMITH_DATA}/x") == "/data/x"
    monkeypatch.delenv("IMAGESMITH_DATA")
    assert expand("${IMAGESMITH_DATA}/x") == "../shared/datasets/x"
    assert expand("${NOPE_VAR:-d}") == "d"
    with pytest.raises(UserError):
        expand("${NOPE_VAR}")


def test_defaults_are_valid():
    assert TrainConfig().task == "upscale"
