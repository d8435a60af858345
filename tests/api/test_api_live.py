"""The real HTTP app: uvicorn with two worker processes on a loopback port, hit concurrently."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from cli.processes import free_port, running, uvicorn_args
from tests.api import webhook_payloads as payloads

CONCURRENCY = 50


@pytest.fixture(scope="module")
def live_url(settings, database_url: str, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(tmp_path_factory.mktemp("live")),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("prom")),
    }
    with running(uvicorn_args("ingest_api.app:create_app", port, workers=2), f"{base}/healthz", env=env):
        yield base


async def _burst(method: str, url: str, **kwargs: object) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=CONCURRENCY)) as http:
        return await asyncio.gather(*(http.request(method, url, **kwargs) for _ in range(CONCURRENCY)))  # type: ignore[arg-type]


def test_concurrent_identical_orders_make_one(live_url, client_headers, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    buyer, seller = make_user("buyer")["user_id"], make_user("seller")["user_id"]
    body = {"buyer_id": buyer, "seller_id": seller, "listing_id": "lst_live", "amount_paise": 7_700, "currency": "INR"}
    headers = {**client_headers, "Idempotency-Key": uuid.uuid4().hex}
    responses = asyncio.run(_burst("POST", f"{live_url}/v1/orders", json=body, headers=headers))
    assert Counter(r.status_code for r in responses) == {201: CONCURRENCY}
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == CONCURRENCY - 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM orders WHERE buyer_id = :b"), {"b": buyer}).scalar_one() == 1
    metrics = httpx.get(f"{live_url}/metrics").text  # aggregated over both workers
    replays = re.search(r'ingest_idempotent_replays_total\{outcome="replayed"\} (\S+)', metrics)
    assert replays is not None and float(replays.group(1)) >= CONCURRENCY - 1


def test_concurrent_identical_webhooks_change_the_order_once(  # type: ignore[no-untyped-def]
    live_url, settings, make_order, engine
) -> None:
    order = make_order(12_345)
    raw, headers = payloads.phonepe_v2(settings, order["order_id"], 12_345)
    responses = asyncio.run(_burst("POST", f"{live_url}/v1/webhooks/phonepe", content=raw, headers=headers))
    assert Counter(r.status_code for r in responses) == {200: CONCURRENCY}
    assert Counter(r.json()["status"] for r in responses) == {"accepted": 1, "duplicate": CONCURRENCY - 1}
    oid = order["order_id"]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM orders WHERE order_id = :o"), {"o": oid}).scalar_one() == "paid"
        outbox = (
            conn.execute(
                sa.text("SELECT dedupe_key FROM notifications WHERE payload->>'order_id' = :o ORDER BY dedupe_key"),
                {"o": oid},
            )
            .scalars()
            .all()
        )
        stored = conn.execute(
            sa.text("SELECT verdict, count(*) FROM webhook_events WHERE raw_body = :r GROUP BY verdict"), {"r": raw}
        ).all()
    assert outbox == [f"order_status:{oid}:paid", f"payment:{oid}:succeeded"]
    assert dict(stored) == {"accepted": 1, "duplicate": CONCURRENCY - 1}


def test_live_errors_keep_the_shape(live_url, client_headers) -> None:  # type: ignore[no-untyped-def]
    response = httpx.post(
        f"{live_url}/v1/orders", content=b"{", headers={**client_headers, "Content-Type": "application/json"}
    )
    assert response.json()["error"]["code"] == "malformed_json"

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b" " * 4096

    chunked = httpx.post(
        f"{live_url}/v1/orders", content=chunks(), headers={**client_headers, "Content-Type": "application/json"}
    )
    assert (chunked.status_code, chunked.json()["error"]["code"]) == (413, "payload_too_large")
    assert httpx.get(f"{live_url}/readyz").json()["status"] == "ready"
