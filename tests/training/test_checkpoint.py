"""Checkpoints load as plain data only; anything else is a one-line UserError, never run."""

import os
import pickle

import pytest
import torch

from imagesmith.errors import UserError
from imagesmith.training.checkpoint import load_checkpoint, rng_state, save_checkpoint


def _state(**changes):
    state = {
        "step": 3,
        "phases": [{"module": {"w": torch.ones(2)}, "optimizer": {}, "scheduler": {}}],
        "ema": {"module": {"w": torch.ones(2)}},
        "rng": rng_state(),
        "train_time": 1.5,
    }
    return {**state, **changes}


def test_round_trip(tmp_path):
    path = save_checkpoint(_state(), tmp_path / "last.pt")
    state = load_checkpoint(path)
    assert state["step"] == 3 and torch.equal(state["phases"][0]["module"]["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp file left


class _RunsCode:
    """Unpickling this would create ``marker``: proof that the file's code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("how", ["torch.save", "pickle-2", "pickle-5"])
def test_a_pickle_with_code_is_refused_unrun(tmp_path, how):
    marker, path = tmp_path / "ran", tmp_path / "last.pt"
    payload = {"version": 1, "step": 1, "x": _RunsCode(marker)}
    if how == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=int(how[-1])))
    with pytest.raises(UserError, match="not a training checkpoint.*nothing in it was run"):
        load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda good: good[: len(good) // 2],  # truncated by a full disk or a killed copy
        lambda good: b"",
        lambda good: b"hello, not a checkpoint\n",
        lambda good: good[:100] + bytes(len(good) - 100),  # zeroed tail
    ],
    ids=["truncated", "empty", "text", "zeroed"],
)
def test_damaged_files_are_one_line_user_errors(tmp_path, damage):
    good = save_checkpoint(_state(), tmp_path / "good.pt").read_bytes()
    path = tmp_path / "last.pt"
    path.write_bytes(damage(good))
    with pytest.raises(UserError, match="last.pt: not a .*checkpoint") as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "state,message",
    [
        ([1, 2], "holds a list"),
        ({"step": 1}, "version None"),
        ({"version": 2, "step": 1}, "version 2"),
        ({"version": 1, **_state(step=-1)}, "step -1"),
        ({"version": 1, **_state(step="3")}, "step '3'"),
        ({"version": 1, **_state(phases=[])}, "no phases"),
        ({"version": 1, **_state(phases=[{"module": {}}])}, "a phase without"),
        ({"version": 1, **_state(ema=None)}, "no EMA"),
        ({"version": 1, **_state(rng={"torch": torch.zeros(3)})}, "no RNG state"),
    ],
)
def test_loadable_files_of_another_layout_are_refused(tmp_path, state, message):
    path = tmp_path / "last.pt"
    torch.save(state, path)  # plain data: weights_only loads it, the layout check refuses it
    with pytest.raises(UserError, match=message):
        load_checkpoint(path)


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "last.pt")
    os.mkdir(tmp_path / "dir.pt")
    with pytest.raises(UserError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "dir.pt")
