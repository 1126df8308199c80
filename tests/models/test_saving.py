"""load_model on untrusted folders: the weights file and the network are checked before use."""

from __future__ import annotations

import json
import struct

import pytest
import torch

from imagesmith.errors import UserError
from imagesmith.models import saving
from imagesmith.models.registry import create_model
from imagesmith.models.saving import MAX_PARAMETERS, load_model, save_pretrained
from imagesmith.models.spec import ModelSpec, write_spec


@pytest.fixture
def folder(tmp_path):
    """A released sr-tiny x2 folder."""
    spec = ModelSpec("sr-tiny", "upscale", {"scale": 2}, scale=2)
    return save_pretrained(create_model("sr-tiny", scale=2), tmp_path / "m", spec)


@pytest.fixture
def no_tensor_reads(monkeypatch):
    """Fail the test if load_model gets as far as reading tensors."""

    def refuse(*args, **kwargs):
        raise AssertionError("tensors were loaded before the folder was refused")

    monkeypatch.setattr(saving, "load_file", refuse)


def load_error(folder) -> str:
    with pytest.raises(UserError) as err:
        load_model(folder)
    message = str(err.value)
    assert "\n" not in message
    return message


def safetensors_bytes(header: dict, data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def test_a_good_folder_loads(folder):
    model, spec = load_model(folder)
    assert spec.scale == 2 and not model.training


def test_a_pickle_under_the_safetensors_name_is_never_unpickled(folder, no_tensor_reads):
    torch.save(create_model("sr-tiny", scale=2).state_dict(), folder / "model.safetensors")
    assert "pickle" in load_error(folder)


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "not a safetensors file"),
        (b"\xff" * 8 + b"{}", "declares a 18446744073709551615-byte header"),
        (struct.pack("<Q", 4) + b"{no}", "bad header"),
        (safetensors_bytes([]), "not a JSON object"),
        (safetensors_bytes({"w": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}), "dtype"),
        (
            safetensors_bytes({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}),
            "shape",
        ),
        (safetensors_bytes({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4]}}), "offsets"),
        # A huge tensor declared in a tiny file: refused from the header, nothing allocated.
        (
            safetensors_bytes(
                {"w": {"dtype": "F32", "shape": [100000, 100000], "data_offsets": [0, 4 * 10**10]}}
            ),
            "needs 40000000000 bytes",
        ),
        (
            safetensors_bytes(
                {
                    "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                    "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                },
                bytes(8),
            ),
            "overlaps or has gaps",
        ),
        (
            safetensors_bytes(
                {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(9)
            ),
            "5 bytes after the tensors",
        ),
    ],
)
def test_malformed_weight_files_are_refused_from_the_header(
    folder, no_tensor_reads, content, message
):
    (folder / "model.safetensors").write_bytes(content)
    assert message in load_error(folder)


def test_weights_of_another_network_are_refused_before_loading(folder, no_tensor_reads):
    # Same architecture, another width: the shapes in the header give it away.
    write_spec(ModelSpec("sr-tiny", "upscale", {"scale": 2, "features": 8}, scale=2), folder)
    message = load_error(folder)
    assert "do not match sr-tiny" in message and "needs (8, 3, 3, 3)" in message
    # Another architecture: names missing and unexpected.
    write_spec(ModelSpec("sr-res-s", "upscale", {"scale": 2}, scale=2), folder)
    assert "missing, e.g. head.weight" in load_error(folder)


def test_integer_weights_for_float_parameters_are_refused(folder, no_tensor_reads):
    state = create_model("sr-tiny", scale=2).state_dict()
    state = {k: v.to(torch.int32) for k, v in state.items()}
    from safetensors.torch import save_file

    save_file(state, str(folder / "model.safetensors"))
    assert "stored as I32" in load_error(folder)


def test_a_huge_network_is_refused_before_it_is_built(folder, no_tensor_reads, monkeypatch):
    built = []
    real_create = saving.create_model

    def create(name, **kw):  # only meta-device builds may happen before the refusal
        model = real_create(name, **kw)
        built.append(next(model.parameters()).device.type)
        return model

    monkeypatch.setattr(saving, "create_model", create)
    write_spec(
        ModelSpec("sr-res-s", "upscale", {"scale": 2, "features": 8192, "blocks": 8}, scale=2),
        folder,
    )
    assert f"more than the {MAX_PARAMETERS}" in load_error(folder)
    assert built == ["meta"]


def test_arguments_the_architecture_refuses_are_user_errors(folder):
    write_spec(ModelSpec("sr-tiny", "upscale", {"scale": 2, "colour": 1}, scale=2), folder)
    assert "arch_args do not fit sr-tiny" in load_error(folder)
    write_spec(ModelSpec("sr-tiny", "upscale", {"scale": 5}, scale=5), folder)
    assert "scale must be 2, 3 or 4" in load_error(folder)
    write_spec(ModelSpec("sr-huge", "upscale", {"scale": 2}, scale=2), folder)
    assert "unknown architecture 'sr-huge'" in load_error(folder)


def test_the_declared_scale_is_checked_against_the_network(folder):
    # Weights and arch_args of an x2 network under a spec that says x3.
    write_spec(ModelSpec("sr-tiny", "upscale", {"scale": 2}, scale=3), folder)
    message = load_error(folder)
    assert "declares scale 3" in message and "16x16 into 32x32" in message


def test_the_declared_channels_are_checked_against_the_network(folder):
    write_spec(ModelSpec("sr-tiny", "upscale", {"scale": 2}, scale=2, channels_in=1), folder)
    assert "does not take the 1-channel images" in load_error(folder)
    write_spec(ModelSpec("sr-tiny", "upscale", {"scale": 2}, scale=2, channels_out=1), folder)
    assert "declares 1 output channels, but the network gives 3" in load_error(folder)


def test_restorers_are_probed_with_their_level_map(tmp_path):
    from imagesmith.models.denoisers import default_level

    model = create_model("restore-unet-s", channels=1, widths=(4, 8), blocks=1)
    spec = ModelSpec(
        "restore-unet-s",
        "denoise",
        {"channels": 1, "widths": [4, 8], "blocks": 1},
        channels_in=1,
        channels_out=1,
        level=default_level("denoise"),
    )
    folder = save_pretrained(model, tmp_path / "d", spec)
    assert load_model(folder)[1].task == "denoise"
    write_spec(spec.with_(scale=2), folder)
    assert "declares scale 2" in load_error(folder)
