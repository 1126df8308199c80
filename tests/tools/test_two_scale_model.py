"""tools/two_scale_model.py: a harmonic inpainter as an inpaint-ffc-s-2scale model folder."""

import sys
from pathlib import Path

import pytest

from imagesmith.errors import UserError

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def test_two_scale_folder_refuses_other_models(tmp_path):
    sys.path.insert(0, str(TOOLS))
    from two_scale_model import write_two_scale

    from imagesmith.models.registry import create_model
    from imagesmith.models.saving import load_pretrained, save_pretrained
    from imagesmith.models.spec import ModelSpec

    args = {"widths": [4, 8, 8], "blocks": 1}
    for extra in ({"prefill": "textured"}, {}):
        model = create_model("inpaint-ffc-s", **args, **extra)
        spec = ModelSpec("inpaint-ffc-s", "inpaint", {**args, **extra})
        src = save_pretrained(model, tmp_path / f"src{len(extra)}", spec)
    with pytest.raises(UserError, match="harmonic prefill"):
        write_two_scale(tmp_path / "src1", tmp_path / "bad", 3)
    assert not (tmp_path / "bad").exists()
    with pytest.raises(UserError, match="downscale"):
        write_two_scale(src, tmp_path / "bad", 0)
    write_two_scale(src, tmp_path / "ok", 3)
    model = load_pretrained(tmp_path / "ok")
    assert model.downscale == 3 and model.net.prefill == "harmonic"
