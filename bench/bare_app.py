"""The baseline for `bench.ingest`: FastAPI doing one INSERT per request and nothing else.

A plain `def` route (run in the thread pool), as FastAPI prescribes for a blocking driver, like ours.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from fastapi import FastAPI, Response

from domain.platform.database import create_engine
from domain.platform.ids import new_id
from domain.platform.settings import Settings
from ingest_api.app import TELEMETRY_OFF

_INSERT = sa.text(
    "INSERT INTO orders (order_id, buyer_id, seller_id, listing_id, amount_paise) "
    "VALUES (:order_id, :buyer_id, :seller_id, :listing_id, :amount_paise)"
)


def create_app() -> FastAPI:
    # Pooled as the API is (API_DB_POOL_SIZE, no overflow), so neither app forks a backend per burst.
    engine = create_engine(
        os.environ["DATABASE_URL"],
        isolation_level="AUTOCOMMIT",
        pool_size=Settings.model_fields["api_db_pool_size"].default,
        max_overflow=0,
        pool_pre_ping=False,
    )
    app = FastAPI(telemetry=TELEMETRY_OFF)  # as the API runs: no OpenTelemetry provider is configured

    @app.post("/v1/orders", status_code=201)
    def create_order(body: dict[str, object]) -> Response:
        order_id = new_id("ord")
        with engine.connect() as conn:
            conn.execute(_INSERT, {**body, "order_id": order_id})
        return Response(f'{{"order_id": "{order_id}"}}', status_code=201, media_type="application/json")

    return app
