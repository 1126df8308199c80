"""The studio's REST API through FastAPI's test client (real pipelines, tiny images)."""

import io
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from imagesmith.io.image import Image, decode_image, write_image  # noqa: E402
from imagesmith.serve import app as app_module  # noqa: E402
from imagesmith.serve.app import Settings, create_app  # noqa: E402
from imagesmith.serve.tasks import Limits  # noqa: E402


def _png(arr: np.ndarray, tmp_path, name="in.png") -> bytes:
    path = tmp_path / name
    write_image(Image(arr), path)
    return path.read_bytes()


def _photo(h=24, w=32, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([np.sin(x / 4 + k) * np.cos(y / 5) for k in range(3)], -1) * 80 + 128
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(Settings(results_dir=tmp_path / "results"))) as c:
        yield c


def _run(client, files, **fields):
    r = client.post("/api/jobs", data=fields, files=files)
    assert r.status_code == 202, r.text
    job = r.json()
    for _ in range(600):
        job = client.get(f"/api/jobs/{job['id']}").json()
        if job["state"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.05)
    return job


def _result(client, job) -> np.ndarray:
    r = client.get(job["result"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    return decode_image(r.content, "result.png").array


def test_health_and_models(client):
    assert client.get("/api/health").json()["ok"] is True
    models = client.get("/api/models").json()
    assert set(models) == {"restore", "upscale", "denoise", "dejpeg", "inpaint", "generate"}
    restore = {m["name"]: m for m in models["restore"]}
    assert restore["restore-real"]["default"] and "upscale-real-x4-gan" in restore
    assert "upscale-x4" in {m["name"] for m in models["upscale"]}
    assert client.get("/docs").status_code == 200
    assert "/api/jobs" in client.get("/openapi.json").json()["paths"]


def test_upscale_restore_denoise_dejpeg_jobs(client, tmp_path):
    png = _png(_photo(), tmp_path)
    up = _run(client, {"image": ("p.png", png)}, task="upscale", scale="2")
    assert up["state"] == "done" and up["progress"] == 1.0 and up["params"]["scale"] == 2
    assert _result(client, up).shape == (48, 64, 3)
    rs = _run(client, {"image": ("p.png", png)}, task="restore", strength="0.5")
    assert _result(client, rs).shape == (24, 32, 3)
    dn = _run(client, {"image": ("p.png", png)}, task="denoise", sigma="10")
    out = _result(client, dn)
    assert out.shape == (24, 32, 3) and not np.array_equal(out, _photo())
    assert dn["note"].startswith("sigma 10")
    buf = io.BytesIO()
    from PIL import Image as PILImage

    PILImage.fromarray(_photo()).save(buf, "JPEG", quality=30)
    dj = _run(client, {"image": ("p.jpg", buf.getvalue())}, task="dejpeg")
    assert dj["state"] == "done" and dj["note"].startswith("quality 30")
    listed = client.get("/api/jobs").json()
    assert [j["id"] for j in listed][:1] == [dj["id"]]  # newest first


def test_inpaint_changes_only_the_hole(client, tmp_path):
    photo = _photo(32, 32)
    mask = np.zeros((32, 32, 1), np.uint8)
    mask[10:18, 12:20] = 255
    job = _run(
        client,
        {
            "image": ("p.png", _png(photo, tmp_path)),
            "mask": ("m.png", _png(mask, tmp_path, "m.png")),
        },
        task="inpaint",
    )
    out = _result(client, job)
    hole = mask[..., 0] > 0
    assert np.array_equal(out[~hole], photo[~hole]) and not np.array_equal(out[hole], photo[hole])


def test_generate_grid(client):
    job = _run(client, {}, task="generate", n="4", seed="3")
    assert job["state"] == "done"
    grid = _result(client, job)
    assert grid.shape[0] >= 2 * 28 and grid.shape[1] >= 2 * 28


@pytest.mark.parametrize(
    ("fields", "files", "status", "words"),
    [
        ({"task": "sharpen"}, {}, 422, "unknown task"),
        ({"task": "upscale", "scale": "5"}, "png", 422, "scale"),
        ({"task": "upscale", "scale": "two"}, "png", 422, "number"),
        ({"task": "restore", "strength": "nan"}, "png", 422, "strength"),
        ({"task": "upscale", "colour": "red"}, "png", 422, "no parameter 'colour'"),
        ({"task": "upscale"}, {}, 422, "needs an image"),
        ({"task": "upscale"}, {"image": ("x.png", b"not an image")}, 422, "x.png"),
        ({"task": "inpaint"}, "png", 422, "needs a mask"),
        ({"task": "generate", "n": "1000"}, {}, 422, "n must be"),
        ({"task": "upscale", "model": "/etc"}, "png", 422, "unknown model"),
        (
            {"task": "upscale", "model": "../src/imagesmith/zoo/upscale-x4"},
            "png",
            422,
            "unknown model",
        ),
    ],
)
def test_bad_requests_are_json_errors(client, tmp_path, fields, files, status, words):
    if files == "png":
        files = {"image": ("p.png", _png(_photo(), tmp_path))}
    r = client.post("/api/jobs", data=fields, files=files)
    assert r.status_code == status and words in r.json()["error"]
    assert client.get("/api/health").status_code == 200  # still serving


def test_limits_queue_and_unknown_jobs(tmp_path):
    png = _png(_photo(), tmp_path)
    tiny = Settings(results_dir=tmp_path / "r", limits=Limits(max_bytes=100))
    with TestClient(create_app(tiny)) as c:
        r = c.post("/api/jobs", data={"task": "upscale"}, files={"image": ("p.png", png)})
        assert r.status_code == 413 and "limit" in r.json()["error"]
    few = Settings(results_dir=tmp_path / "r", limits=Limits(max_pixels=100))
    with TestClient(create_app(few)) as c:
        r = c.post("/api/jobs", data={"task": "upscale"}, files={"image": ("p.png", png)})
        assert r.status_code == 413 and "pixels" in r.json()["error"]
    full = Settings(results_dir=tmp_path / "r", max_queued=0)
    with TestClient(create_app(full)) as c:
        r = c.post("/api/jobs", data={"task": "upscale"}, files={"image": ("p.png", png)})
        assert r.status_code == 429 and "full" in r.json()["error"]
        assert c.get("/api/jobs/nope").status_code == 404
        assert c.delete("/api/jobs/nope").status_code == 404
        assert c.get("/api/jobs/nope/result").json()["error"].startswith("no job")


def test_result_before_done_is_409_and_cancel(tmp_path, monkeypatch):
    import threading

    gate = threading.Event()

    def plan(task, fields, files, results, cache, limits):
        def run(progress):
            progress.total(10)
            while not gate.wait(0.01):
                progress.advance(0)  # a cancel lands here
            out = results / "r.png"
            write_image(Image(_photo()), out)
            return out

        return {}, run

    monkeypatch.setattr(app_module, "plan_job", plan)
    with TestClient(create_app(Settings(results_dir=tmp_path / "r"))) as c:
        first = c.post("/api/jobs", data={"task": "upscale"}).json()
        r = c.get(f"/api/jobs/{first['id']}/result")
        assert r.status_code == 409 and "no result" in r.json()["error"]
        second = c.post("/api/jobs", data={"task": "upscale"}).json()
        assert c.delete(f"/api/jobs/{second['id']}").json()["state"] == "cancelled"  # queued
        gate.set()
        for _ in range(200):
            if c.get(f"/api/jobs/{first['id']}").json()["state"] == "done":
                break
            time.sleep(0.02)
        assert c.get(f"/api/jobs/{first['id']}/result").status_code == 200
        assert c.get(f"/api/jobs/{second['id']}/result").status_code == 409


def test_token(tmp_path):
    with TestClient(create_app(Settings(token="s3cret", results_dir=tmp_path / "r"))) as c:
        assert c.get("/api/health").status_code == 401
        assert "token" in c.get("/api/models").json()["error"]
        assert c.get("/api/health", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/api/health?token=s3cret").status_code == 200
        assert c.get("/api/health?token=wrong").status_code == 401
        assert c.get("/").status_code == 200  # the page asks for the token itself


def test_internal_errors_are_one_line_json(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(app_module, "plan_job", broken)
    app = create_app(Settings(results_dir=tmp_path / "r"))
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/api/jobs", data={"task": "upscale"})
        assert r.status_code == 500 and r.json() == {"error": "internal error: RuntimeError"}
        assert c.get("/api/health").status_code == 200
        r = c.post(
            "/api/jobs",
            content=b"--x\r\ngarbage",
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        assert r.status_code in (422, 500) and "error" in r.json()


def test_the_page_and_its_files_are_served_without_the_token(tmp_path):
    with TestClient(create_app(Settings(token="s3cret", results_dir=tmp_path / "r"))) as c:
        page = c.get("/")
        assert page.status_code == 200 and "imagesmith studio" in page.text
        for name in ("studio.js", "studio.css"):
            assert name in page.text and c.get(f"/static/{name}").status_code == 200
        assert c.get("/static/nope.js").json()["error"]  # a 404 is JSON too
