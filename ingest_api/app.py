"""The ingest API application factory (`uvicorn --factory ingest_api.app:create_app`)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from domain.database import create_engine, database_url
from domain.logging import configure_logging
from domain.migrations import head_revision
from domain.settings import Settings, load_settings
from ingest_api import health, metrics
from ingest_api.auth import ApiKeyCache
from ingest_api.errors import install_error_handlers
from ingest_api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from ingest_api.ratelimit import SharedRateLimiter
from ingest_api.routers import admin, orders, payouts, users, webhooks

API_VERSION = "1.0.0"
TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    url = database_url(settings)
    app = FastAPI(
        title="Marketplace settlement ingest API",
        version=API_VERSION,
        description="Records users, orders, fulfilment events, refunds, payout requests and verified "
        "gateway webhooks. Append-only and idempotent; money moves in the batch pipeline.",
        # Metrics are Prometheus and logs structlog; with no OpenTelemetry provider configured, FastAPI's
        # native telemetry would only re-check for one on every request.
        telemetry=TELEMETRY_OFF,
    )
    app.state.settings = settings
    # No pre-ping: it would add a round trip to every request. Stale connections are recycled and a
    # dropped one is invalidated on first use.
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800, pool_pre_ping=False)
    app.state.engine = engine
    # Order creation is one statement: its connections are in autocommit from the start. Switching a
    # pooled connection per request, and SQLAlchemy resetting it on check-in, cost a quarter of a
    # worker's time on the hot path; the pool holds as many connections as a worker runs at once.
    app.state.order_engine = create_engine(
        url, isolation_level="AUTOCOMMIT", pool_size=16, max_overflow=8, pool_recycle=1800, pool_pre_ping=False
    )
    app.state.migration_head = head_revision(url)
    app.state.api_key_cache = ApiKeyCache(engine, settings.api_key_cache_ttl_s)
    app.state.rate_limiter = SharedRateLimiter(engine, settings.rate_limit_sync_interval_s)
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(orders.router)  # first: routes are matched in order and POST /v1/orders is the hot path
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(users.router)
    app.include_router(admin.router)
    app.include_router(webhooks.router)
    app.include_router(payouts.router)
    return app
