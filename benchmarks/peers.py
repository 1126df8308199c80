"""Third-party super-resolution models to benchmark against ("peers").

Each peer is wrapped as a :class:`Peer` whose ``run`` maps an LR uint8 RGB image
``(H, W, 3)`` to an SR uint8 RGB image ``(s*H, s*W, 3)``, so that a benchmark can run
them on the same images as our own models.

Weights are never stored in this repository. They are read from a peers folder
(by convention ``../shared/peers`` relative to the repo root) laid out as::

    opencv_dnn_superres/ESPCN/ESPCN_x{2,3,4}.pb
    opencv_dnn_superres/FSRCNN/FSRCNN_x{2,3,4}.pb        (or FSRCNN-small_x{2,3,4}.pb)
    opencv_dnn_superres/LapSRN/LapSRN_x{2,4,8}.pb
    imdn/IMDN_x{2,4}.pth

Peers:

* OpenCV ``dnn_superres`` (ESPCN, FSRCNN, LapSRN): run through
  ``cv2.dnn_superres.DnnSuperResImpl_create()``. These networks work on the Y channel
  internally and were trained on OpenCV-downscaled data, so they score below their
  papers on MATLAB-bicubic LR.
* IMDN (Hui et al., "Lightweight Image Super-Resolution with Information
  Multi-distillation Network", ACM MM 2019): our own torch definition that loads the
  official weights with ``strict=True``; input RGB in [0, 1].
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

__all__ = ["IMDN", "Peer", "available_peers", "load_imdn", "load_opencv_peer"]


@dataclass
class Peer:
    """A third-party SR model ready to run."""

    name: str
    scale: int
    params: int | None
    run: Callable[[np.ndarray], np.ndarray]


def _check_lr(img: np.ndarray) -> None:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3:
        raise ValueError("expected an LR uint8 RGB array of shape (H, W, 3)")
    if img.shape[2] != 3:
        raise ValueError(f"expected 3 channels (RGB), got shape {img.shape}")


def _check_sr(out: np.ndarray, img: np.ndarray, scale: int, name: str) -> None:
    want = (img.shape[0] * scale, img.shape[1] * scale, 3)
    if out.shape != want or out.dtype != np.uint8:
        raise RuntimeError(f"{name}: produced {out.shape} {out.dtype}, expected {want} uint8")


# --------------------------------------------------------------------------- OpenCV

# (algorithm name for setModel, folder, [(file stem, display name)] in order of preference)
_OPENCV_MODELS: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("espcn", "ESPCN", [("ESPCN", "ESPCN (OpenCV)")]),
    (
        "fsrcnn",
        "FSRCNN",
        [("FSRCNN", "FSRCNN (OpenCV)"), ("FSRCNN-small", "FSRCNN-small (OpenCV)")],
    ),
    ("lapsrn", "LapSRN", [("LapSRN", "LapSRN (OpenCV)")]),
]


def _count_dnn_params(path: Path) -> int | None:
    """Count the weights of a TensorFlow .pb model via ``cv2.dnn`` layer blobs.

    Counts convolution kernels, biases and PReLU slopes (the blobs OpenCV keeps per
    layer). Returns None when the graph cannot be read.
    """
    import cv2

    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        engine = getattr(cv2.dnn, "ENGINE_CLASSIC", None)
        if engine is None:  # OpenCV 4.x has a single engine
            net = cv2.dnn.readNetFromTensorflow(str(path))
        else:  # the OpenCV 5 new engine cannot parse these graphs' DepthToSpace
            net = cv2.dnn.readNetFromTensorflow(str(path), "", engine)
        total = 0
        for name in net.getLayerNames():
            try:
                layer = net.getLayer(net.getLayerId(name))
            except cv2.error:  # e.g. DepthToSpace cannot be instantiated; it has no weights
                continue
            total += sum(int(np.asarray(b).size) for b in (layer.blobs or ()))
        return total or None
    except cv2.error:
        return None
    finally:
        cv2.utils.logging.setLogLevel(level)


def load_opencv_peer(path: Path, algo: str, scale: int, name: str) -> Peer:
    """Wrap one OpenCV ``dnn_superres`` .pb model as a :class:`Peer`."""
    import cv2

    if not hasattr(cv2, "dnn_superres"):
        raise RuntimeError("cv2.dnn_superres missing: install opencv-contrib-python-headless")
    sr = cv2.dnn_superres.DnnSuperResImpl_create()
    sr.readModel(str(path))
    sr.setModel(algo, scale)

    def run(img: np.ndarray) -> np.ndarray:
        _check_lr(img)
        bgr = np.ascontiguousarray(img[:, :, ::-1])
        out = np.ascontiguousarray(sr.upsample(bgr)[:, :, ::-1])
        _check_sr(out, img, scale, name)
        return out

    return Peer(name=name, scale=scale, params=_count_dnn_params(path), run=run)


def _opencv_peers(peers_dir: Path, scale: int) -> list[Peer]:
    root = peers_dir / "opencv_dnn_superres"
    peers: list[Peer] = []
    for algo, folder, candidates in _OPENCV_MODELS:
        for stem, name in candidates:
            path = root / folder / f"{stem}_x{scale}.pb"
            if not path.is_file():
                continue
            try:
                peers.append(load_opencv_peer(path, algo, scale, name))
            except Exception as exc:  # a broken peer must not stop a benchmark
                _warn_skip(name, scale, path, exc)
            break  # first present candidate wins (full FSRCNN before FSRCNN-small)
    return peers


# --------------------------------------------------------------------------- IMDN


def _conv(cin: int, cout: int, k: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2, bias=True)


class _CCA(nn.Module):
    """Contrast-aware channel attention: per-channel (std + mean) -> 1x1 squeeze/excite."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.conv_du = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels // reduction, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = (x - mean).pow(2).mean(dim=(2, 3), keepdim=True).sqrt()
        return x * self.conv_du(std + mean)


class _IMDB(nn.Module):
    """Information multi-distillation block (progressive refinement, 4 steps)."""

    def __init__(self, channels: int = 64, distillation_rate: float = 0.25) -> None:
        super().__init__()
        self.d = int(channels * distillation_rate)  # distilled channels (16)
        self.r = channels - self.d  # remaining channels (48)
        self.c1 = _conv(channels, channels, 3)
        self.c2 = _conv(self.r, channels, 3)
        self.c3 = _conv(self.r, channels, 3)
        self.c4 = _conv(self.r, self.d, 3)
        self.act = nn.LeakyReLU(0.05, inplace=True)
        self.c5 = _conv(self.d * 4, channels, 1)
        self.cca = _CCA(self.d * 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d1, r1 = torch.split(self.act(self.c1(x)), (self.d, self.r), dim=1)
        d2, r2 = torch.split(self.act(self.c2(r1)), (self.d, self.r), dim=1)
        d3, r3 = torch.split(self.act(self.c3(r2)), (self.d, self.r), dim=1)
        d4 = self.c4(r3)
        out = torch.cat([d1, d2, d3, d4], dim=1)
        return self.c5(self.cca(out)) + x


class IMDN(nn.Module):
    """IMDN (Hui et al. 2019); parameter names match the official checkpoints.

    Input and output are RGB tensors in [0, 1] (rgb_range 1, no mean shift).
    """

    def __init__(
        self, scale: int, in_ch: int = 3, out_ch: int = 3, nf: int = 64, num_blocks: int = 6
    ) -> None:
        super().__init__()
        self.scale = scale
        self.num_blocks = num_blocks
        self.fea_conv = _conv(in_ch, nf, 3)
        for i in range(1, num_blocks + 1):
            self.add_module(f"IMDB{i}", _IMDB(nf))
        self.c = nn.Sequential(_conv(nf * num_blocks, nf, 1), nn.LeakyReLU(0.05, inplace=True))
        self.LR_conv = _conv(nf, nf, 3)
        self.upsampler = nn.Sequential(_conv(nf, out_ch * scale * scale, 3), nn.PixelShuffle(scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fea = self.fea_conv(x)
        outs = []
        h = fea
        for i in range(1, self.num_blocks + 1):
            h = getattr(self, f"IMDB{i}")(h)
            outs.append(h)
        body = self.LR_conv(self.c(torch.cat(outs, dim=1))) + fea
        return self.upsampler(body)


def _strip_prefix(state: dict[str, torch.Tensor], prefix: str = "module.") -> dict:
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix) :]: v for k, v in state.items()}
    return dict(state)


def load_imdn(path: Path, scale: int) -> Peer:
    """Build IMDN, load the official weights strictly and wrap it as a :class:`Peer`."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    state = _strip_prefix(state)
    model = IMDN(scale)
    model.load_state_dict(state, strict=True)
    model.eval().requires_grad_(False)
    params = sum(int(v.numel()) for v in state.values())

    def run(img: np.ndarray) -> np.ndarray:
        _check_lr(img)
        x = torch.from_numpy(img.astype(np.float32) / np.float32(255.0))  # writable copy
        with torch.inference_mode():
            y = model(x.permute(2, 0, 1)[None])[0]
            y = y.clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8)
            out = np.ascontiguousarray(y.permute(1, 2, 0).numpy())
        _check_sr(out, img, scale, "IMDN")
        return out

    return Peer(name="IMDN", scale=scale, params=params, run=run)


def _imdn_peers(peers_dir: Path, scale: int) -> list[Peer]:
    path = peers_dir / "imdn" / f"IMDN_x{scale}.pth"
    if not path.is_file():
        return []
    try:
        return [load_imdn(path, scale)]
    except Exception as exc:  # a broken peer must not stop a benchmark
        _warn_skip("IMDN", scale, path, exc)
        return []


# --------------------------------------------------------------------------- registry


def _warn_skip(name: str, scale: int, path: Path, exc: BaseException) -> None:
    msg = f"peers: skipping {name} x{scale} ({path}): {type(exc).__name__}: {exc}"
    warnings.warn(msg, RuntimeWarning, stacklevel=3)


def available_peers(peers_dir: Path | str, scale: int) -> list[Peer]:
    """Every peer whose weights exist in ``peers_dir`` for ``scale``.

    A missing folder gives ``[]``; a peer that fails to load is skipped with a
    ``RuntimeWarning`` (shown on stderr) instead of raising.
    """
    peers_dir = Path(peers_dir)
    if not peers_dir.is_dir():
        return []
    return _opencv_peers(peers_dir, scale) + _imdn_peers(peers_dir, scale)
