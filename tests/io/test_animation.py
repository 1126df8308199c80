"""GIF and MP4 writing: frame count, content, atomicity, bad input."""

import numpy as np
import pytest
from PIL import Image as PILImage

from imagesmith.errors import UserError
from imagesmith.io.animation import write_animation


def _frames(n=5, h=9, w=11):
    return [np.full((h, w, 3), 40 * i, np.uint8) for i in range(n)]


def test_gif_has_every_frame(tmp_path):
    out = write_animation(_frames(), tmp_path / "walk.gif", fps=10)
    with PILImage.open(out) as im:
        assert im.n_frames == 5 and im.info["loop"] == 0 and im.info["duration"] == 100
        im.seek(3)
        assert np.asarray(im.convert("RGB"))[4, 4, 0] == 120
    assert not list(tmp_path.glob(".*.tmp-*"))


def test_gray_gif(tmp_path):
    frames = [np.full((8, 8), v, np.uint8) for v in (0, 255)]
    with PILImage.open(write_animation(frames, tmp_path / "g.gif")) as im:
        assert im.n_frames == 2


def test_mp4_is_written(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    out = write_animation(_frames(h=9, w=11), tmp_path / "walk.mp4", fps=8)
    data = out.read_bytes()
    assert len(data) > 100 and b"ftyp" in data[:64]


def test_bad_requests(tmp_path):
    with pytest.raises(UserError, match="gif or .mp4"):
        write_animation(_frames(), tmp_path / "walk.avi")
    with pytest.raises(UserError, match="no frames"):
        write_animation([], tmp_path / "walk.gif")
    (tmp_path / "x.gif").write_bytes(b"keep")
    with pytest.raises(UserError, match="already exists"):
        write_animation(_frames(), tmp_path / "x.gif")
    assert (tmp_path / "x.gif").read_bytes() == b"keep"
