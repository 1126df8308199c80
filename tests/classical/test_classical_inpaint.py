"""Classical inpainters behind one call: only hole pixels change; exemplar is the ramped fill."""

import pytest
import torch

from imagesmith.classical.inpaint import CLASSICAL_INPAINTERS, classical_inpaint
from imagesmith.errors import UserError
from imagesmith.functional.patch_fill import DETAIL_RAMP, textured_fill


def _case() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    x = torch.rand(3, 40, 40)
    m = torch.zeros(1, 40, 40)
    m[:, 10:28, 12:30] = 1
    return x, m


@pytest.mark.parametrize("method", list(CLASSICAL_INPAINTERS))
def test_only_the_hole_changes_and_output_stays_in_range(method):
    x, m = _case()
    out = classical_inpaint(method, x, m)
    hole = m[0] > 0.5
    assert out.shape == x.shape and torch.equal(out[:, ~hole], x[:, ~hole])
    assert out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out[:, hole], x[:, hole])


def test_exemplar_is_the_textured_fill_with_the_detail_ramp():
    x, m = _case()
    expected = textured_fill(x, m, ramp=DETAIL_RAMP).clamp(0, 1)
    torch.testing.assert_close(classical_inpaint("exemplar", x, m), expected, atol=0, rtol=0)


def test_unknown_method_is_a_user_error():
    x, m = _case()
    with pytest.raises(UserError, match="unknown classical inpainter"):
        classical_inpaint("photoshop", x, m)
