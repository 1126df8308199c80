"""The studio's web app: the REST API under ``/api`` (OpenAPI docs at ``/docs``) and the page.

    app = create_app(Settings(token="s3cret"))   # then: uvicorn.run(app, host=..., port=...)

Every answer to a bad request is JSON ``{"error": "..."}`` with a 4xx status (401 without the
token when one is set, 404 unknown job, 409 result not ready, 413 upload too large, 422 bad
parameters, 429 queue full); an unexpected failure is a 500 with a one-line message, never a
stack trace, and the server keeps serving.
"""

from __future__ import annotations

import contextlib
import hmac
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from imagesmith import __version__
from imagesmith.errors import UserError
from imagesmith.serve.jobs import JobQueue, QueueFull
from imagesmith.serve.tasks import TASKS, Limits, PipelineCache, TooLarge, plan_job
from imagesmith.zoo import index

__all__ = ["Settings", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"
# Readable without the token: the page itself (it asks for the token) and the API's schema.
OPEN_PATHS = ("/", "/favicon.ico", "/docs", "/openapi.json")


@dataclass
class Settings:
    """How the server runs: ``token`` (None: no check; required off loopback), the queue
    (``workers``, ``max_queued``), upload ``limits`` and where results live and how long."""

    token: str | None = None
    workers: int = 1
    max_queued: int = 16
    limits: Limits = field(default_factory=Limits)
    results_dir: Path | None = None  # None: a temporary folder, removed at shutdown
    keep_seconds: float = 3600.0
    keep_bytes: int = 1 << 30


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app with its own queue and results folder (both closed when the app shuts down)."""
    s = settings or Settings()
    own_dir = s.results_dir is None
    results = Path(tempfile.mkdtemp(prefix="imagesmith-serve-")) if own_dir else s.results_dir
    queue = JobQueue(s.workers, s.max_queued, s.keep_seconds, s.keep_bytes)
    cache = PipelineCache()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        queue.shutdown()
        if own_dir:
            shutil.rmtree(results, ignore_errors=True)

    app = FastAPI(
        title="imagesmith studio",
        version=__version__,
        description="Restore, upscale, denoise, remove JPEG artefacts, inpaint and generate.",
        lifespan=lifespan,
    )
    app.state.queue, app.state.results = queue, results

    # -- errors: JSON, one line, never a trace --------------------------------------------

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(422, f"{where}: {first.get('msg', 'invalid request')}".strip(": "))

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
        return _error(500, f"internal error: {type(exc).__name__}")

    @app.middleware("http")
    async def _token(request: Request, call_next):
        path = request.url.path
        open_path = path in OPEN_PATHS or path.startswith("/static/")
        if s.token and not open_path and not _authorized(request, s.token):
            return _error(401, "missing or wrong token (Authorization: Bearer TOKEN)")
        return await call_next(request)

    # -- the API --------------------------------------------------------------------------

    @app.get("/api/health")
    def health() -> dict:
        return {"ok": True, "version": __version__, "queue": queue.stats()}

    @app.get("/api/models")
    def models() -> dict:
        """Shipped models by task, with their measured numbers."""
        out: dict[str, list] = {t: [] for t in TASKS}
        for name, e in sorted(index().items()):
            task = e.get("task")
            for t in _studio_tasks(task, e):
                out[t].append(
                    {
                        "name": name,
                        "default": bool(e.get("default")),
                        "kind": e.get("kind", ""),
                        "scale": e.get("scale"),
                        "metrics": e.get("metrics", {}),
                    }
                )
        return out

    @app.post("/api/jobs", status_code=202)
    async def submit(request: Request) -> dict:
        """Submit a job: multipart form with ``task``, the task's parameters and ``image``
        (and ``mask`` for inpaint). Answers the job as queued (poll its ``id``)."""
        fields, files = await _read_form(request, s.limits.max_bytes)
        task = fields.pop("task", "")
        try:
            # Decoding a large upload takes a while: off the event loop, so polls keep flowing.
            params, run = await run_in_threadpool(
                plan_job, task, fields, files, results, cache, s.limits
            )
            job = queue.submit(task, params, run)
        except TooLarge as e:
            raise ApiError(413, str(e)) from None
        except QueueFull as e:
            raise ApiError(429, str(e)) from None
        except UserError as e:
            raise ApiError(422, str(e)) from None
        return job.to_dict()

    @app.get("/api/jobs")
    def list_jobs() -> list[dict]:
        return [j.to_dict() for j in queue.jobs()]

    @app.get("/api/jobs/{job_id}")
    def status(job_id: str) -> dict:
        return _job(queue, job_id).to_dict()

    @app.get("/api/jobs/{job_id}/result")
    def result(job_id: str) -> FileResponse:
        job = _job(queue, job_id)
        if job.state != "done" or job.result is None or not job.result.is_file():
            raise ApiError(409, f"job {job_id} is {job.state}: no result")
        media = "image/gif" if job.result.suffix == ".gif" else "image/png"
        name = f"imagesmith-{job.task}-{job_id[:8]}{job.result.suffix}"
        return FileResponse(job.result, media_type=media, filename=name)

    @app.delete("/api/jobs/{job_id}")
    def cancel(job_id: str) -> dict:
        job = queue.cancel(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id}")
        return job.to_dict()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    return app


def _authorized(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    given = (
        given[7:] if given.lower().startswith("bearer ") else request.query_params.get("token", "")
    )
    return hmac.compare_digest(given.encode(), token.encode())


def _studio_tasks(task: str | None, entry: dict) -> list[str]:
    """Which studio tabs a zoo entry serves."""
    if task == "upscale":
        real = entry.get("kind", "").startswith("real")
        tabs = ["upscale"] if entry.get("scale", 1) > 1 else []
        return tabs + (["restore"] if real else [])
    return [task] if task in TASKS else []


def _job(queue: JobQueue, job_id: str):
    job = queue.get(job_id)
    if job is None:
        raise ApiError(404, f"no job {job_id} (unknown, or its result has expired)")
    return job


async def _read_form(request: Request, max_bytes: int) -> tuple[dict, dict]:
    """(text fields, files as (filename, bytes)) of a multipart or urlencoded form."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > 2 * max_bytes + (1 << 20):
        raise ApiError(413, f"request of {int(length):,} bytes, over the limit")
    try:
        form = await request.form()
    except Exception as e:  # noqa: BLE001 - a malformed body is the client's mistake
        raise ApiError(422, f"unreadable form: {type(e).__name__}") from None
    fields, files = {}, {}
    for key, value in form.multi_items():
        if hasattr(value, "read"):
            data = await value.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise ApiError(413, f"{key}: over the upload limit of {max_bytes:,} bytes")
            files[key] = (value.filename or key, data)
        elif key in fields:
            raise ApiError(422, f"{key}: given twice")
        else:
            fields[key] = str(value)
    return fields, files
