"""The ingest API application factory (`uvicorn --factory ingest_api.app:create_app`)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from domain.platform.database import create_engine, database_url
from domain.platform.logging import configure_logging
from domain.platform.migrations import head_revision
from domain.platform.settings import Settings, load_settings
from ingest_api import health, metrics
from ingest_api.auth import ApiKeyCache
from ingest_api.deps import ConnectionSlots
from ingest_api.errors import install_error_handlers
from ingest_api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from ingest_api.order_batches import OrderBatches
from ingest_api.ratelimit import SharedRateLimiter
from ingest_api.routers import admin, notifications, orders, payouts, recon, refunds, statements, users, webhooks

API_VERSION = "1.0.0"
POOL_TIMEOUT_S = 5
ORDER_INSERTS_IN_FLIGHT = 4
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
    # No pre-ping: it would add a round trip to every request; a dropped connection is invalidated on
    # first use. No overflow either: an overflow connection is closed again on check-in, so a busy
    # worker forked and tore down PostgreSQL backends all the time (70-110 new sessions a second under
    # the benchmark); a burst waits for a pooled connection instead, and after POOL_TIMEOUT_S gets 503.
    pool = {
        "pool_size": settings.api_db_pool_size,
        "max_overflow": 0,
        "pool_timeout": POOL_TIMEOUT_S,
        "pool_recycle": 1800,
        "pool_pre_ping": False,
    }
    # Two pools: `engine` for the routes' transactions (SessionDep), `autocommit_engine` for single
    # statements (order creation, API key look-ups, rate-limit counters, rejected webhooks). A request
    # holding a transaction then never waits for another connection from its own pool, and the hot
    # path skips switching a pooled connection to autocommit and resetting it on check-in, which cost
    # a quarter of a worker's time.
    app.state.engine = create_engine(url, **pool)
    app.state.connection_slots = ConnectionSlots(settings.api_db_pool_size, POOL_TIMEOUT_S)
    autocommit_engine = app.state.autocommit_engine = create_engine(url, isolation_level="AUTOCOMMIT", **pool)
    app.state.migration_head = head_revision(url)
    app.state.api_key_cache = ApiKeyCache(autocommit_engine, settings.api_key_cache_ttl_s)
    app.state.rate_limiter = SharedRateLimiter(autocommit_engine, settings.rate_limit_sync_interval_s)
    # Order inserts group-commit (see order_batches): a few in flight per worker leave the rest of
    # the autocommit pool to key look-ups and rate-limit counters.
    app.state.order_batches = OrderBatches(
        autocommit_engine, concurrency=min(ORDER_INSERTS_IN_FLIGHT, settings.api_db_pool_size)
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    orders.add_create_order_route(app)  # the hot path, matched first
    app.include_router(orders.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(users.router)
    app.include_router(admin.router)
    app.include_router(webhooks.router)
    app.include_router(payouts.router)
    app.include_router(statements.router)
    app.include_router(refunds.router)
    app.include_router(recon.router)
    app.include_router(notifications.router)
    return app
