"""A small explicit model registry.

Architecture files call ``@register_model`` on one-line factories; this module imports those files
explicitly (no folder scanning, no dotted strings), so ``create_model("name")`` always knows every
model. Each entry records its task so pipelines and tests can filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from imagesmith.errors import UserError
from imagesmith.models.spec import TilingNeeds

__all__ = ["register_model", "create_model", "list_models", "model_info", "ModelInfo"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    task: str
    factory: Callable[..., nn.Module]
    description: str
    tiling: TilingNeeds = TilingNeeds()


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(name: str, task: str, description: str = "", tiling: TilingNeeds | None = None):
    """Decorator: register ``factory(**overrides) -> nn.Module`` under ``name``.

    ``tiling``: what tiled inference must respect (default: any size, 16 px overlap).
    """

    def wrap(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        text = description or ((factory.__doc__ or "").strip().splitlines() or [""])[0]
        _REGISTRY[name] = ModelInfo(name, task, factory, text, tiling or TilingNeeds())
        return factory

    return wrap


def _ensure_loaded() -> None:
    # Explicit imports of every architecture file; each import fills the registry once.
    from imagesmith.models import (  # noqa: F401
        classifiers,
        denoisers,
        discriminators,
        fastgan,
        gans,
        inpainters,
        srnets,
        vaes,
    )


def list_models(task: str | None = None) -> list[str]:
    """Registered architecture names, optionally only those of one task (e.g. "upscale")."""
    _ensure_loaded()
    return sorted(n for n, i in _REGISTRY.items() if task is None or i.task == task)


def model_info(name: str) -> ModelInfo:
    _ensure_loaded()
    if name not in _REGISTRY:
        raise UserError(f"unknown architecture {name!r}; known: {', '.join(list_models())}")
    return _REGISTRY[name]


def create_model(name: str, **overrides) -> nn.Module:
    """Build a registered architecture; ``overrides`` change its constructor arguments.

    An argument the architecture does not take (a typo in a recipe's ``model.args``) is a
    UserError naming it.
    """
    factory = model_info(name).factory
    try:
        return factory(**overrides)
    except TypeError as e:
        # Factories pass **kw on to the network's constructor, so only the call can tell; other
        # TypeErrors are bugs and keep their traceback.
        unknown = re.search(r"unexpected keyword argument '([^']*)'", str(e))
        if unknown is None:
            raise
        raise UserError(f"architecture {name!r} takes no argument {unknown.group(1)!r}") from None
