"""benchmarks/serve_load.py: its hand-made multipart bodies are what the server reads."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")


def test_multipart_bodies_are_accepted_by_the_api(load_benchmark, tmp_path):
    from fastapi.testclient import TestClient

    from imagesmith.serve.app import Settings, create_app

    bench = load_benchmark("serve_load")
    body, ctype = bench._multipart(
        {"task": "inpaint"},
        {"image": ("p.png", bench._png(64, 0)), "mask": ("m.png", bench._mask(64))},
    )
    with TestClient(create_app(Settings(results_dir=tmp_path))) as c:
        r = c.post("/api/jobs", content=body, headers={"content-type": ctype})
        assert r.status_code == 202 and r.json()["task"] == "inpaint"
    assert bench._pct([]) == "-" and bench._pct([1.0, 2.0]).startswith("1.50")
