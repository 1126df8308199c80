"""tools/release_model.py helpers: the card's training time from a run's log."""

import importlib.util
import json
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def _module():
    sys.path.insert(0, str(TOOLS))
    spec = importlib.util.spec_from_file_location("_release_model", TOOLS / "release_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _log(run: Path, records: list[dict]) -> None:
    run.mkdir()
    (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def test_wall_time_sums_resumed_segments(tmp_path):
    wall_time = _module()._wall_time
    # first segment: 2 validations; resumed at step 200 (``time`` restarts, train_time carries)
    _log(
        tmp_path / "resumed",
        [
            {"step": 100, "time": 50.0, "train_time": 45.0},
            {"step": 200, "time": 100.0, "train_time": 90.0},
            {"step": 250, "time": 20.0},
            {"step": 300, "time": 48.0, "train_time": 135.0},
        ],
    )
    assert wall_time(tmp_path / "resumed") == 135.0
    # logs without train_time (older runs): the longest elapsed time
    _log(tmp_path / "old", [{"step": 1, "time": 3.0}, {"step": 2, "time": 7.5}])
    assert wall_time(tmp_path / "old") == 7.5


def test_objective_cell_names_the_srgan_terms_and_the_schedule(monkeypatch):
    from imagesmith.training.config import load_config, to_dict

    monkeypatch.setenv("IMAGESMITH_DATA", "/data")
    objective_cell = _module().objective_cell
    srgan = to_dict(load_config(TOOLS.parent / "configs/upscale/srgan-x4.yaml"))
    cell = objective_cell(srgan)
    assert cell.startswith("SRGAN: L1 x 1.0 + adversarial (ns, D `dcgan-d`")
    assert "x 0.005 + feature (disc) x 1.0" in cell and "lr 0.0001 constant" in cell
    plain = {"loss": "l1", "optim": {"lr": 4e-4, "schedule": "cosine"}, "ema_decay": 0.999}
    assert objective_cell(plain) == "loss l1, Adam lr 0.0004 cosine, EMA 0.999"
