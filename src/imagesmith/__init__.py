"""imagesmith: image synthesis and restoration.

Public API (imports are lazy so ``import imagesmith`` stays cheap)::

    from imagesmith import load_pipeline, read_image, write_image
    up = load_pipeline("upscale", scale=4)
    out = up("photo.jpg")          # path, PIL image or numpy array in; Image out
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.4.0"
__all__ = ["load_pipeline", "read_image", "write_image", "list_models", "UserError", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from imagesmith.errors import UserError
    from imagesmith.io.image import read_image, write_image
    from imagesmith.models.registry import list_models
    from imagesmith.pipelines import load_pipeline

_LAZY = {
    "load_pipeline": "imagesmith.pipelines",
    "read_image": "imagesmith.io.image",
    "write_image": "imagesmith.io.image",
    "list_models": "imagesmith.models.registry",
    "UserError": "imagesmith.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'imagesmith' has no attribute {name!r}")
