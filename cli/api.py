"""`settle api`: serve the ingest API with uvicorn."""

from __future__ import annotations

import click
import uvicorn

from cli.context import settings_or_exit


@click.command()
@click.option("--host", default=None, help="Bind address (default API_HOST).")
@click.option("--port", type=int, default=None, help="Port (default API_PORT).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
def api(host: str | None, port: int | None, workers: int) -> None:
    """Run the ingest API."""
    settings = settings_or_exit()
    uvicorn.run(
        "ingest_api.app:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        access_log=False,
        log_config=None,
    )
