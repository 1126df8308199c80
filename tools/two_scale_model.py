"""Write a harmonic-prefill inpainter as an ``inpaint-ffc-s-2scale`` model folder.

    python tools/two_scale_model.py runs/inpaint-ffc-s-coarse-probe/model /tmp/coarse-2scale \
        --downscale 3
    python benchmarks/inpaint.py --validation --methods harmonic exemplar /tmp/coarse-2scale

The network's weights are stored under ``net.`` unchanged; the folder's model runs that network
on the image shrunk ``downscale`` times and adds its change to the full-size textured fill
(:class:`imagesmith.models.inpainters.TwoScaleInpainter`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from imagesmith.errors import UserError
from imagesmith.models.spec import ModelSpec, read_spec, write_spec


def write_two_scale(src: Path, dst: Path, downscale: int) -> dict[str, Any]:
    """Write folder ``dst`` from model folder ``src`` (an ``inpaint-ffc-s`` on the harmonic
    prefill); return the new config."""
    config = read_spec(src).to_dict()
    args = dict(config.get("arch_args", {}))
    if config.get("arch") != "inpaint-ffc-s" or args.pop("prefill", "harmonic") != "harmonic":
        raise UserError(f"{src}: a two-scale model needs inpaint-ffc-s on the harmonic prefill")
    if downscale < 1:
        raise UserError(f"downscale must be >= 1, got {downscale}")
    dst.mkdir(parents=True, exist_ok=True)
    inner = load_file(str(src / "model.safetensors"))
    save_file({f"net.{k}": v for k, v in inner.items()}, str(dst / "model.safetensors"))
    config = {
        **config,
        "arch": "inpaint-ffc-s-2scale",
        "arch_args": {**args, "downscale": downscale},
    }
    write_spec(ModelSpec.from_dict(config), dst)
    return config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path, help="model folder (a run's model/)")
    ap.add_argument("dst", type=Path)
    ap.add_argument("--downscale", type=int, default=3)
    args = ap.parse_args()
    try:
        write_two_scale(args.src, args.dst, args.downscale)
    except UserError as e:
        raise SystemExit(f"error: {e}") from None
    print(args.dst)


if __name__ == "__main__":
    main()
