"""The ingest API application factory (`uvicorn --factory ingest_api.app:create_app`)."""

from __future__ import annotations

from fastapi import FastAPI

from domain.database import create_engine, database_url
from domain.logging import configure_logging
from domain.migrations import head_revision
from domain.settings import Settings, load_settings
from ingest_api import health
from ingest_api.errors import install_error_handlers
from ingest_api.middleware import RequestContextMiddleware

API_VERSION = "1.0.0"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    url = database_url(settings)
    app = FastAPI(
        title="Marketplace settlement ingest API",
        version=API_VERSION,
        description="Records users, orders, fulfilment events, refunds, payout requests and verified "
        "gateway webhooks. Append-only and idempotent; money moves in the batch pipeline.",
    )
    app.state.settings = settings
    app.state.engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)
    app.state.migration_head = head_revision(url)
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    return app
