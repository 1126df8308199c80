"""``imagesmith serve``: the studio, a local web app and REST API over the pipelines.

Needs the ``serve`` extra (FastAPI, uvicorn, python-multipart). :func:`create_app` builds the
app; :mod:`imagesmith.serve.jobs` is the queue, :mod:`imagesmith.serve.tasks` the jobs.
"""
