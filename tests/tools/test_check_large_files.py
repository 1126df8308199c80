"""tools/check_large_files.py and the pre-commit config that runs it."""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from check_large_files import main, too_large  # noqa: E402


def test_files_over_the_limit_are_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.txt").write_bytes(b"x" * 1000)
    (tmp_path / "big.bin").write_bytes(b"x" * 600 * 1024)
    zoo = tmp_path / "src/imagesmith/zoo/m"
    zoo.mkdir(parents=True)
    (zoo / "model.safetensors").write_bytes(b"x" * 600 * 1024)
    names = ["small.txt", "big.bin", "src/imagesmith/zoo/m/model.safetensors", "gone.txt"]
    assert too_large(names, 500, 16384) == ["big.bin (600 kB > 500 kB)"]
    assert main(["--max-kb", "500", *names]) == 1 and main(["small.txt"]) == 0


def test_pre_commit_runs_ruff_and_the_size_check():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    ids = {h["id"] for repo in config["repos"] for h in repo["hooks"]}
    assert {"ruff", "ruff-format", "large-files"} <= ids
