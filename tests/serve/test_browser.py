"""End to end in a real browser: Debian's chromium driven by Playwright.

The server runs in this process (uvicorn on a free loopback port); the page uploads a photo,
paints a stroke on the Inpaint tab, runs the fill, and the result must differ from the input
only under the stroke. Screenshots go to $IMAGESMITH_SCREENSHOTS when set (docs/images).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("skimage")
sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (.ci/run installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    from imagesmith.serve.app import Settings, create_app

    results = tmp_path_factory.mktemp("results")
    app = create_app(Settings(results_dir=results))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(timeout=10)


def _photo(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A real photo (scikit-image's cat, 150 x 226) as a PNG."""
    from skimage import data

    from imagesmith.io.image import Image, write_image

    arr = np.ascontiguousarray(data.chelsea()[::2, ::2])
    path = tmp_path / "photo.png"
    write_image(Image(arr), path)
    return path, arr


def _shot(page, name: str) -> None:
    folder = os.environ.get("IMAGESMITH_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name))


@pytest.mark.parametrize("width", [1280, 390])  # a laptop and a phone
def test_paint_a_stroke_and_inpaint_it(server, tmp_path, width):
    from imagesmith.io.image import read_image

    base, app = server
    photo, arr = _photo(tmp_path)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        page.set_input_files("#file", str(photo))
        page.click("#tabs button[data-task=inpaint]")
        canvas = page.locator("#mask-canvas")
        canvas.wait_for(state="visible")
        h, w = arr.shape[:2]
        page.wait_for_function(f"document.getElementById('mask-canvas').width === {w}")
        box = canvas.bounding_box()
        # a horizontal stroke across the middle, in page coordinates
        y = box["y"] + box["height"] * 0.5
        page.mouse.move(box["x"] + box["width"] * 0.3, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.7, y, steps=8)
        page.mouse.up()
        mask = np.array(
            page.evaluate(
                """() => { const c = document.getElementById('mask-canvas');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                const out = []; for (let i = 3; i < d.length; i += 4) out.push(d[i] > 127 ? 1 : 0);
                return out; }"""
            ),
            dtype=bool,
        ).reshape(h, w)
        assert 100 < mask.sum() < 0.5 * mask.size  # a stroke, not nothing and not everything
        _shot(page, f"studio_inpaint_stroke_{width}.png")
        page.click("#run")
        page.wait_for_function(
            "document.getElementById('after').src.startsWith('blob:')", timeout=60_000
        )
        page.wait_for_selector("#history li")
        _shot(page, f"studio_inpaint_result_{width}.png")
        assert not errors, errors
        browser.close()
    job = app.state.queue.jobs()[0]
    assert job.task == "inpaint" and job.state == "done"
    out = read_image(job.result).array
    changed = (out.astype(int) != arr.astype(int)).any(-1)
    assert changed.any() and not (changed & ~mask).any()  # only under the stroke
