"""`settle api`: serve the ingest API with uvicorn."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import uvicorn

from cli.context import settings_or_exit

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


@contextlib.contextmanager
def metrics_directory(workers: int) -> Iterator[None]:
    """Give this run's workers one empty PROMETHEUS_MULTIPROC_DIR, so `/metrics` adds up all of them.

    prometheus_client reads the variable when a worker imports it, so it is set here, before uvicorn
    spawns them. A configured directory is emptied of sample files (`*.db`) first: a previous run's
    would be added to this one's (a restarted container keeps its /tmp), and only those are removed in
    case it points somewhere shared. With several workers and none configured, a temporary directory
    lives as long as the server. One worker and none configured: its own registry is the whole truth.
    """
    configured = os.environ.get(MULTIPROC_DIR)
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield
    elif workers > 1:
        with tempfile.TemporaryDirectory(prefix="settle-api-metrics-") as directory:
            os.environ[MULTIPROC_DIR] = directory
            try:
                yield
            finally:
                del os.environ[MULTIPROC_DIR]
    else:
        yield


@click.command()
@click.option("--host", default=None, help="Bind address (default API_HOST).")
@click.option("--port", type=int, default=None, help="Port (default API_PORT).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
def api(host: str | None, port: int | None, workers: int) -> None:
    """Run the ingest API."""
    settings = settings_or_exit()
    with metrics_directory(workers):
        uvicorn.run(
            "ingest_api.app:create_app",
            factory=True,
            host=host or settings.api_host,
            port=port or settings.api_port,
            workers=workers,
            access_log=False,
            log_config=None,
        )
