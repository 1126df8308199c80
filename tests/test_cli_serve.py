"""imagesmith serve: refusals, and a real server on loopback answering the API."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from imagesmith.cli import main

pytest.importorskip("uvicorn")


def test_refuses_other_addresses_without_a_token(capsys):
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "--token" in err and err.count("\n") == 1
    assert main(["serve", "--port", "0"]) == 2
    assert "--port" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serves_the_page_and_the_api_on_loopback():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "imagesmith.cli", "serve", "--port", str(port), "--token", "t0k"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/?token=t0k" in line
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(base + "/api/health", timeout=5)
        assert e.value.code == 401 and "token" in json.loads(e.value.read())["error"]
        req = urllib.request.Request(base + "/api/health", headers={"Authorization": "Bearer t0k"})
        assert json.loads(urllib.request.urlopen(req, timeout=5).read())["ok"] is True
    finally:
        proc.terminate()
        proc.wait(timeout=10)
