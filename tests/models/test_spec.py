"""The model spec: one typed contract, old configs still load, bad ones are user errors."""

import json

import pytest
import torch

from imagesmith.errors import UserError
from imagesmith.models.denoisers import JPEG_LEVEL, NOISE_LEVEL, default_level
from imagesmith.models.registry import create_model
from imagesmith.models.saving import load_model, save_pretrained
from imagesmith.models.spec import (
    SPEC_VERSION,
    LevelEncoding,
    ModelSpec,
    TilingNeeds,
    read_spec,
    write_spec,
)


def _write(folder, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(data))
    return folder


def test_round_trip_keeps_every_field(tmp_path):
    spec = ModelSpec(
        "restore-unet-s",
        "denoise",
        {"channels": 1, "widths": [4, 8]},
        channels_in=1,
        channels_out=1,
        level=default_level("denoise", (0, 30)),
        weights_dtype="float16",
        tiling=TilingNeeds(1, 2, 32),
        metrics={"Set12": {"s25": {"psnr": 30.1}}},
        provenance={"run": "runs/x", "trained_steps": 5},
    )
    write_spec(spec, tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["spec_version"] == SPEC_VERSION and data["level"]["range"] == [0.0, 30.0]
    assert read_spec(tmp_path) == spec


def test_level_encodings_are_the_training_maps():
    assert NOISE_LEVEL.encode(25) == 25 / 255.0 and JPEG_LEVEL.encode(20) == 0.2
    assert default_level("dejpeg", [20, 80]).range == (20.0, 80.0)
    with pytest.raises(UserError):
        default_level("upscale")


@pytest.mark.parametrize(
    "v1,expect",
    [
        (
            {
                "arch": "sr-res-m",
                "arch_args": {"scale": 4},
                "task": "upscale",
                "scale": 4,
                "run": "runs/a",
                "trained_steps": 9,
            },
            {
                "scale": 4,
                "channels_in": 3,
                "level": None,
                "kind": "",
                "provenance": {"run": "runs/a", "trained_steps": 9},
            },
        ),
        (
            {
                "arch": "restore-unet-s",
                "arch_args": {"channels": 1},
                "task": "denoise",
                "channels": 1,
                "level_range": [0, 50],
            },
            {
                "channels_in": 1,
                "channels_out": 1,
                "level": LevelEncoding("sigma", 255.0, (0.0, 50.0)),
            },
        ),
        (
            {"arch": "restore-unet-s", "arch_args": {"channels": 3}, "task": "dejpeg"},
            {"level": JPEG_LEVEL},
        ),
        (
            {
                "arch": "dcgan-g",
                "arch_args": {"channels": 1, "z_dim": 100},
                "task": "generate",
                "kind": "gan",
                "z_dim": 100,
                "class_names": ["a", "b"],
                "weights_dtype": "float16",
                "data_options": {"fit": "pad"},
                "beta": 1.0,
            },
            {
                "channels_out": 1,
                "value_range": (-1.0, 1.0),
                "kind": "gan",
                "z_dim": 100,
                "class_names": ("a", "b"),
                "weights_dtype": "float16",
                "data_options": {"fit": "pad"},
                "provenance": {"beta": 1.0},
            },
        ),
        (
            {
                "arch": "feature-cnn",
                "arch_args": {"channels": 3},
                "task": "features",
                "input_range": [-1, 1],
                "odd_key": 3,
            },
            {"value_range": (-1.0, 1.0), "provenance": {"odd_key": 3}},
        ),
    ],
)
def test_version_1_configs_still_load(tmp_path, v1, expect):
    spec = read_spec(_write(tmp_path / "m", v1))
    for key, value in expect.items():
        assert getattr(spec, key) == value, key


@pytest.mark.parametrize(
    "data,message",
    [
        ([1, 2], "JSON object"),
        ({"spec_version": 2, "arch": "sr-tiny", "task": "upscale", "colour": 1}, "unknown keys"),
        ({"spec_version": 2, "arch": "sr-tiny", "task": "upscale", "scale": "4"}, "integer"),
        ({"spec_version": 2, "arch": "sr-tiny", "task": "upscale", "scale": True}, "integer"),
        ({"spec_version": 2, "arch": "sr-tiny", "task": "upscale", "scale": 4096}, "scale"),
        ({"spec_version": 2, "arch": "sr-tiny", "task": "paint"}, "unknown model task"),
        ({"spec_version": 2, "arch": "restore-unet-s", "task": "denoise"}, "level encoding"),
        ({"spec_version": 9, "arch": "sr-tiny", "task": "upscale"}, "newer"),
        ({"spec_version": 2, "arch": 3, "task": "upscale"}, "string"),
        (
            {
                "spec_version": 2,
                "arch": "restore-unet-s",
                "task": "denoise",
                "level": {"name": "sigma", "divisor": 0, "range": [0, 50]},
            },
            "divisor",
        ),
        (
            {"spec_version": 2, "arch": "sr-tiny", "task": "upscale", "weights_dtype": "int8"},
            "weights_dtype",
        ),
    ],
)
def test_malformed_specs_are_one_line_user_errors(tmp_path, data, message):
    with pytest.raises(UserError, match=message):
        read_spec(_write(tmp_path / "m", data))


def test_unreadable_config_files(tmp_path):
    with pytest.raises(UserError, match="not a model folder"):
        read_spec(tmp_path)
    (tmp_path / "config.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(UserError, match="invalid JSON"):
        read_spec(tmp_path)


def test_weights_that_do_not_fit_are_user_errors(tmp_path):
    model = create_model("sr-tiny", scale=2)
    folder = save_pretrained(
        model, tmp_path / "m", ModelSpec("sr-tiny", "upscale", {"scale": 2}, scale=2)
    )
    # The spec claims another width: the state dict no longer fits the architecture.
    write_spec(ModelSpec("sr-tiny", "upscale", {"scale": 2, "features": 8}, scale=2), folder)
    with pytest.raises(UserError, match="do not match"):
        load_model(folder)
    write_spec(ModelSpec("sr-tiny", "upscale", {"scale": 2, "colour": 1}, scale=2), folder)
    with pytest.raises(UserError, match="arch_args"):
        load_model(folder)
    # A pickle under the safetensors name is refused, never unpickled.
    write_spec(ModelSpec("sr-tiny", "upscale", {"scale": 2}, scale=2), folder)
    torch.save(model.state_dict(), folder / "model.safetensors")
    with pytest.raises(UserError, match="safetensors"):
        load_model(folder)


def test_float16_storage_loads_into_float32(tmp_path):
    model = create_model("sr-tiny", scale=2)
    spec = ModelSpec("sr-tiny", "upscale", {"scale": 2}, scale=2, weights_dtype="float16")
    loaded, got = load_model(save_pretrained(model, tmp_path / "m", spec))
    assert got.weights_dtype == "float16"
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    for a, b in zip(model.parameters(), loaded.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-3, rtol=1e-3)


def _v2(**fields):
    return {"spec_version": 2, "arch": "sr-res-m", "task": "upscale", **fields}


@pytest.mark.parametrize(
    "data,message",
    [
        (_v2(arch_args={"features": 10**9}), r"arch_args\.features: 1000000000 is outside"),
        (_v2(arch_args={"blocks": -1}), r"arch_args\.blocks: -1 is outside"),
        (_v2(arch_args={"res_scale": float("nan")}), "finite"),
        (_v2(arch_args={"widths": [8] * 1000}), "too long"),
        (_v2(arch_args={"widths": [[[[8]]]]}), "too deeply nested"),
        (_v2(arch_args={"prefill": "x" * 10_000}), "10000 characters"),
        (_v2(arch_args={"features": {"a": 1}}), "got dict"),
        (_v2(scale=1000), "scale 1000 is outside"),
        (_v2(channels_in=10**9), "channels_in must be 1..4"),
        (_v2(tiling={"overlap": 10**6}), r"tiling\.overlap: 1000000 is above the limit"),
        (_v2(tiling={"multiple": 4096}), r"tiling\.multiple: 4096 is above the limit"),
        (_v2(tiling={"min_size": 10**5}), r"tiling\.min_size: 100000 is above the limit"),
        (_v2(z_dim=10**9), "z_dim 1000000000 is outside"),
        (_v2(class_names=["c"] * 20_000), "20000 class names"),
    ],
)
def test_sizes_beyond_sane_bounds_are_refused_when_read(tmp_path, data, message):
    # A config from a stranger must not make imagesmith build a network of 10^9 features.
    with pytest.raises(UserError, match=message) as err:
        read_spec(_write(tmp_path / "m", data))
    assert "\n" not in str(err.value)


def test_deeply_nested_json_is_a_user_error(tmp_path):
    (tmp_path / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UserError, match="nested too deeply"):
        read_spec(tmp_path)
