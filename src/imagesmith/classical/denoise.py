"""Classical denoisers: OpenCV non-local means, scikit-image TV and wavelet, BM3D (optional).

Each takes the noisy image as a (C, H, W) float tensor (values may leave [0, 1]) and the noise
sigma on the 0-255 scale, and returns (C, H, W) in [0, 1]. Their strength parameters are set
from sigma by rules tuned on training images (T91 / BSD200, never a benchmark set); see
``benchmarks/tune_classical_denoise.py``. OpenCV's non-local means works on 8-bit images only, so
its input is clipped and rounded first (that is how a user would call it).

``bm3d`` needs the optional ``bm3d`` package (``pip install 'imagesmith[bm3d]'``); its licence
allows non-commercial use only, so it is not part of the default install.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from imagesmith.errors import UserError
from imagesmith.functional.tensor_image import to_chw, to_hwc

__all__ = ["CLASSICAL_DENOISERS", "classical_denoise", "nlm_h", "tv_weight"]


def nlm_h(sigma: float, channels: int) -> float:
    """OpenCV non-local means filter strength for a noise sigma (0-255).

    The colour variant compares patches in CIELAB, so it needs a smaller h than gray.
    """
    return (0.6 if channels == 3 else 0.95) * sigma


def tv_weight(sigma: float) -> float:
    """Chambolle TV weight (images in [0, 1]) for a noise sigma (0-255)."""
    return 0.0035 * sigma


def _hwc(x: torch.Tensor) -> np.ndarray:
    return to_hwc(x.float())


def _chw(a: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return to_chw(a).to(like.dtype).clamp(0, 1)


def _opencv_nlm(x: torch.Tensor, sigma: float) -> torch.Tensor:
    import cv2

    u8 = np.rint(np.clip(_hwc(x), 0, 1) * 255.0).astype(np.uint8)
    h = nlm_h(sigma, u8.shape[2])
    if u8.shape[2] == 3:
        out = cv2.fastNlMeansDenoisingColored(u8, None, h, h, 7, 21)
    else:
        out = cv2.fastNlMeansDenoising(u8[..., 0], None, h, 7, 21)
    return _chw(out.astype(np.float32) / 255.0, x)


def _skimage_tv(x: torch.Tensor, sigma: float) -> torch.Tensor:
    from skimage.restoration import denoise_tv_chambolle

    a = _hwc(x)
    out = denoise_tv_chambolle(a, weight=tv_weight(sigma), channel_axis=-1)
    return _chw(out, x)


def _skimage_wavelet(x: torch.Tensor, sigma: float) -> torch.Tensor:
    from skimage.restoration import denoise_wavelet

    a = _hwc(x)
    color = a.shape[2] == 3
    out = denoise_wavelet(
        a,
        sigma=sigma / 255.0,
        method="BayesShrink",
        mode="soft",
        channel_axis=-1,
        convert2ycbcr=color,
        rescale_sigma=True,
    )
    return _chw(out, x)


def _bm3d(x: torch.Tensor, sigma: float) -> torch.Tensor:
    try:
        import bm3d
    except ImportError:
        raise UserError(
            "bm3d is an optional extra (non-commercial licence): pip install 'imagesmith[bm3d]'"
        ) from None
    a = _hwc(x).astype(np.float64)
    if a.shape[2] == 3:
        out = bm3d.bm3d_rgb(a, sigma / 255.0)
    else:
        out = bm3d.bm3d(a[..., 0], sigma / 255.0)
    return _chw(np.asarray(out, dtype=np.float32), x)


CLASSICAL_DENOISERS: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "opencv-nlm": _opencv_nlm,
    "skimage-tv": _skimage_tv,
    "skimage-wavelet": _skimage_wavelet,
    "bm3d": _bm3d,
}


def classical_denoise(method: str, noisy: torch.Tensor, sigma: float) -> torch.Tensor:
    """Denoise with a classical method by name. Shape (C, H, W), C = 1 or 3; sigma 0-255."""
    if method not in CLASSICAL_DENOISERS:
        raise UserError(
            f"unknown classical denoiser {method!r}; known: {', '.join(CLASSICAL_DENOISERS)}"
        )
    if noisy.ndim != 3 or noisy.shape[0] not in (1, 3):
        raise ValueError(f"expected (C, H, W) with C 1 or 3, got {tuple(noisy.shape)}")
    if sigma <= 0:
        return noisy.clamp(0, 1)
    return CLASSICAL_DENOISERS[method](noisy, float(sigma))
