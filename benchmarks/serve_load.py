"""Load test of `imagesmith serve` on loopback: concurrent clients, mixed small jobs, a bounded
queue.

    python benchmarks/serve_load.py                          # 200 requests, 8 clients
    python benchmarks/serve_load.py --requests 400 --clients 16 --queue 4

Starts the server in a child process (`imagesmith serve`, one worker), then C client threads
send R submissions in all, mixed: small restore / upscale / denoise / dejpeg / inpaint jobs on
64-128 px images, a few bad requests (unknown task, a corrupt image, a bad parameter) and
status polls. A 429 (queue full) is retried after a pause, as a client should. Each accepted job
is followed to its end and its result downloaded.

Prints: submissions accepted / refused with 429 (and whether each 429 came with a JSON error),
expected 4xx answers, unexpected answers (errors: any 5xx, a 4xx on a good request, a non-JSON
error), lost jobs (accepted but never finished, or finished without a downloadable result),
and latency percentiles of submissions and of whole jobs (submit -> result downloaded).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _png(side: int, seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side]
    arr = np.stack([np.sin(x / 7 + k) * np.cos(y / 9) for k in range(3)], -1) * 70 + 128
    arr = np.clip(arr + rng.normal(0, 8, arr.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _mask(side: int) -> bytes:
    from PIL import Image

    m = np.zeros((side, side), np.uint8)
    m[side // 3 : side // 2, side // 4 : side // 2] = 255
    buf = io.BytesIO()
    Image.fromarray(m).save(buf, "PNG")
    return buf.getvalue()


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        )
    for k, (name, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _call(url: str, method: str = "GET", body: bytes | None = None, ctype: str | None = None):
    """(status, parsed JSON or raw bytes, is_json)."""
    req = urllib.request.Request(url, data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, data, kind = r.status, r.read(), r.headers.get("content-type", "")
    except urllib.error.HTTPError as e:
        status, data, kind = e.code, e.read(), e.headers.get("content-type", "")
    if "json" in kind:
        return status, json.loads(data), True
    return status, data, False


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: int = 0
    refused_429: int = 0
    refused_429_json: int = 0
    expected_4xx: int = 0
    unexpected: list[str] = field(default_factory=list)
    finished: int = 0
    lost: list[str] = field(default_factory=list)
    submit_s: list[float] = field(default_factory=list)
    job_s: list[float] = field(default_factory=list)

    def add(self, **kw) -> None:
        with self.lock:
            for k, v in kw.items():
                cur = getattr(self, k)
                if isinstance(cur, list):
                    cur.append(v)
                else:
                    setattr(self, k, cur + v)


GOOD = [
    ("restore", {"strength": "0.5"}),
    ("restore", {}),
    ("upscale", {"scale": "2"}),
    ("denoise", {"sigma": "15"}),
    ("dejpeg", {"quality": "40"}),
    ("inpaint", {}),
]
BAD = [  # (fields, files kind, status expected)
    ({"task": "sharpen"}, "png", 422),
    ({"task": "upscale", "scale": "9"}, "png", 422),
    ({"task": "denoise"}, "corrupt", 422),
]


def client(base: str, n: int, seed: int, tally: Tally, images: dict) -> None:
    rng = random.Random(seed)
    for _ in range(n):
        if rng.random() < 0.1:  # a bad request: answered with a JSON 4xx, nothing queued
            fields, kind, want = rng.choice(BAD)
            files = {"image": ("x.png", b"\x89PNG broken" if kind == "corrupt" else images[64])}
            body, ctype = _multipart(fields, files)
            status, data, is_json = _call(base + "/api/jobs", "POST", body, ctype)
            if status == want and is_json and "error" in data:
                tally.add(expected_4xx=1)
            else:
                tally.add(unexpected=f"bad request {fields}: {status} {str(data)[:80]}")
            continue
        task, params = rng.choice(GOOD)
        side = rng.choice([64, 96, 128])
        files = {"image": ("p.png", images[side])}
        if task == "inpaint":
            files["mask"] = ("m.png", images[f"mask{side}"])
        body, ctype = _multipart({"task": task, **params}, files)
        t0 = time.perf_counter()
        while True:
            status, data, is_json = _call(base + "/api/jobs", "POST", body, ctype)
            if status != 429:
                break
            tally.add(refused_429=1, refused_429_json=int(is_json and "error" in data))
            time.sleep(0.2 + rng.random() * 0.3)
        tally.add(submit_s=time.perf_counter() - t0)
        if status != 202:
            tally.add(unexpected=f"{task}: {status} {str(data)[:80]}")
            continue
        tally.add(accepted=1)
        job_id, end = data["id"], time.time() + 300
        while time.time() < end:
            status, job, _ = _call(f"{base}/api/jobs/{job_id}")
            if status != 200:
                tally.add(lost=f"{job_id}: status answered {status}")
                break
            if job["state"] in ("done", "failed", "cancelled"):
                break
            time.sleep(0.05)
        else:
            tally.add(lost=f"{job_id}: not finished after 300 s")
            continue
        if job["state"] != "done":
            tally.add(lost=f"{job_id}: {job['state']} {job.get('error')}")
            continue
        status, data, _ = _call(base + job["result"])
        if status != 200 or not data.startswith(b"\x89PNG"):
            tally.add(lost=f"{job_id}: result answered {status}")
            continue
        tally.add(finished=1, job_s=time.perf_counter() - t0)


def _pct(values: list[float]) -> str:
    if not values:
        return "-"
    p = np.percentile(values, [50, 90, 99])
    return f"{p[0]:.2f} / {p[1]:.2f} / {p[2]:.2f} (max {max(values):.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--queue", type=int, default=4, help="the server's --queue (small: 429s)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads of the server")
    args = ap.parse_args()
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imagesmith.cli",
            "serve",
            "--port",
            str(port),
            "--queue",
            str(args.queue),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if _call(base + "/api/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        images = {s: _png(s, s) for s in (64, 96, 128)} | {
            f"mask{s}": _mask(s) for s in (64, 96, 128)
        }
        # warm the models (first loads are slow and not what a load test measures)
        for task, params in GOOD:
            files = {"image": ("p.png", images[64])} | (
                {"mask": ("m.png", images["mask64"])} if task == "inpaint" else {}
            )
            body, ctype = _multipart({"task": task, **params}, files)
            _, job, _ = _call(base + "/api/jobs", "POST", body, ctype)
            while _call(f"{base}/api/jobs/{job['id']}")[1]["state"] in ("queued", "running"):
                time.sleep(0.05)
        tally = Tally()
        per = [
            args.requests // args.clients + (i < args.requests % args.clients)
            for i in range(args.clients)
        ]
        t0 = time.perf_counter()
        threads = [
            threading.Thread(target=client, args=(base, n, i, tally, images))
            for i, n in enumerate(per)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        alive = server.poll() is None and _call(base + "/api/health")[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(
        f"# serve load test: {args.requests} requests, {args.clients} clients, queue {args.queue}, "
        f"1 worker; {platform.processor() or platform.machine()}, {args.threads} torch threads, "
        f"{time.strftime('%Y-%m-%d')}\n"
    )
    print("| measure | value |\n|---|---|")
    rows = [
        ("wall time (s)", f"{wall:.1f}"),
        ("jobs accepted (202)", tally.accepted),
        ("jobs finished with a result", tally.finished),
        ("lost jobs", len(tally.lost)),
        ("429 answers (queue full), retried", tally.refused_429),
        ("429 answers with a JSON error", f"{tally.refused_429_json} of {tally.refused_429}"),
        ("bad requests answered with the expected JSON 4xx", tally.expected_4xx),
        ("errors (5xx, wrong status, non-JSON error)", len(tally.unexpected)),
        ("server alive after the run", "yes" if alive else "NO"),
        ("submit latency p50 / p90 / p99 (s), 429 retries included", _pct(tally.submit_s)),
        ("job latency p50 / p90 / p99 (s), submit to result", _pct(tally.job_s)),
    ]
    for k, v in rows:
        print(f"| {k} | {v} |")
    for line in (tally.unexpected + tally.lost)[:10]:
        print("  ", line)


if __name__ == "__main__":
    main()
