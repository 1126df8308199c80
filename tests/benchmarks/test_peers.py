"""Tests for benchmarks/peers.py (third-party SR models; weights live outside the repo)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
PEERS_DIR = SHARED / "peers"
SET5 = SHARED / "datasets" / "sr" / "Set5"

needs_peers = pytest.mark.skipif(
    not PEERS_DIR.is_dir(), reason=f"peer weights folder {PEERS_DIR} not present"
)


@pytest.fixture(scope="module")
def peers(load_benchmark):
    return load_benchmark("peers")


def _y_psnr(a: np.ndarray, b: np.ndarray, border: int) -> float:
    w = np.array([65.481, 128.553, 24.966]) / 255.0
    ya = 16.0 + a.astype(np.float64) @ w
    yb = 16.0 + b.astype(np.float64) @ w
    diff = (ya - yb)[border:-border, border:-border]
    return float(10.0 * np.log10(255.0**2 / np.mean(diff**2)))


def test_available_peers_empty_or_missing_dir(peers, tmp_path):
    assert peers.available_peers(tmp_path, 2) == []
    assert peers.available_peers(tmp_path / "does-not-exist", 4) == []


def test_broken_weights_are_skipped_with_warning(peers, tmp_path):
    (tmp_path / "imdn").mkdir()
    (tmp_path / "imdn" / "IMDN_x2.pth").write_bytes(b"not a checkpoint")
    with pytest.warns(RuntimeWarning, match="skipping IMDN x2"):
        assert peers.available_peers(tmp_path, 2) == []


def test_imdn_architecture_param_counts(peers):
    def count(model):
        return sum(p.numel() for p in model.parameters())

    assert count(peers.IMDN(2)) == 694_404
    assert count(peers.IMDN(4)) == 715_176


@needs_peers
def test_imdn_x2_loads_strict_and_beats_bicubic(peers):
    weights = PEERS_DIR / "imdn" / "IMDN_x2.pth"
    if not weights.is_file():
        pytest.skip(f"{weights} not present")
    if not (SET5 / "HR" / "baby.png").is_file():
        pytest.skip(f"Set5 not present under {SET5}")
    from PIL import Image

    peer = peers.load_imdn(weights, 2)  # load_state_dict(strict=True) inside
    assert peer.name == "IMDN" and peer.scale == 2
    assert peer.params == 694_404

    lr = np.asarray(Image.open(SET5 / "LR_bicubic" / "X2" / "babyx2.png").convert("RGB"))
    hr = np.asarray(Image.open(SET5 / "HR" / "baby.png").convert("RGB"))
    lr, hr = lr[80:144, 80:144], hr[160:288, 160:288]
    sr = peer.run(np.ascontiguousarray(lr))
    assert sr.shape == (128, 128, 3) and sr.dtype == np.uint8
    bicubic = np.asarray(Image.fromarray(lr).resize((128, 128), Image.BICUBIC))
    gain = _y_psnr(sr, hr, 2) - _y_psnr(bicubic, hr, 2)
    assert gain > 1.5, f"IMDN only {gain:.2f} dB over bicubic"


@needs_peers
def test_opencv_peer_shape_and_dtype(peers):
    pytest.importorskip("cv2")
    found = {p.name: p for p in peers.available_peers(PEERS_DIR, 3)}
    cv_peers = [p for name, p in found.items() if name.endswith("(OpenCV)")]
    if not cv_peers:
        pytest.skip("no OpenCV dnn_superres x3 weights present")
    if (PEERS_DIR / "opencv_dnn_superres" / "FSRCNN" / "FSRCNN_x3.pb").is_file():
        assert "FSRCNN (OpenCV)" in found and "FSRCNN-small (OpenCV)" not in found
    lr = np.random.default_rng(0).integers(0, 256, size=(20, 24, 3), dtype=np.uint8)
    for peer in cv_peers:
        assert peer.scale == 3
        assert peer.params is None or peer.params > 0
        sr = peer.run(lr)
        assert sr.shape == (60, 72, 3), peer.name
        assert sr.dtype == np.uint8, peer.name
