"""The real HTTP app: `settle api` with two uvicorn worker processes on a loopback port, hit concurrently."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from cli.processes import free_port, running
from tests import factories
from tests.api import webhook_payloads as payloads

CONCURRENCY = 50


def settle_api(port: int) -> list[str]:
    return ["-m", "cli", "api", "--port", str(port), "--workers", "2"]


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
    with running(settle_api(port), f"{base}/healthz", env=env):
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


def _requests(families: Iterable[Metric], route: str) -> float:
    """`ingest_requests_total` of GET `route` answered 200 in `families` (0 when there is none)."""
    labels = {"method": "GET", "route": route, "status": "200"}
    return sum(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == "ingest_requests_total" and sample.labels == labels
    )


def _per_worker(directory: Path, route: str) -> dict[str, float]:
    """GET `route` requests each process counted, read from its own sample file."""
    files = sorted(directory.glob("counter_*.db"))
    return {path.stem: _requests(MultiProcessCollector.merge([str(path)]), route) for path in files}


def _stale_samples(directory: Path) -> None:
    """A previous run's sample file: 1000 GET /readyz requests counted by a process now gone."""
    code = "from ingest_api.metrics import REQUESTS; REQUESTS.labels('GET', '/readyz', '200').inc(1000)"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    assert list(_per_worker(directory, "/readyz").values()) == [1000.0]


def _wait_for_both_workers(base: str, directory: Path) -> None:
    """New connections to /healthz until each worker has answered one (the first up may take them all)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        httpx.get(f"{base}/healthz", headers={"Connection": "close"})
        if sum(count > 0 for count in _per_worker(directory, "/healthz").values()) == 2:
            return
    raise AssertionError("the second worker never answered")


async def _spread(url: str, requests: int) -> list[int]:
    """`requests` GETs on fresh connections, 20 at a time, so the kernel hands them to both workers."""
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        responses = await asyncio.gather(*(http.get(url) for _ in range(requests)))
    return [response.status_code for response in responses]


def _scrape(base: str) -> float:
    """GET /readyz requests according to one /metrics scrape, on a fresh connection (any worker answers)."""
    text = httpx.get(f"{base}/metrics", headers={"Connection": "close"}).text
    return _requests(text_string_to_metric_families(text), "/readyz")


def test_metrics_add_up_over_both_workers(database_url: str, tmp_path: Path) -> None:
    """`settle api --workers 2` empties its PROMETHEUS_MULTIPROC_DIR, and every scrape, whichever worker
    answers it, counts every worker's requests exactly once."""
    directory = tmp_path / "prom"
    directory.mkdir()
    _stale_samples(directory)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Two connections a pool: /readyz must not take the server's last connections from the module's other server.
    env = {"DATABASE_URL": database_url, "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING", "API_DB_POOL_SIZE": "2",
           "DATA_DIR": str(tmp_path / "data"), "PROMETHEUS_MULTIPROC_DIR": str(directory)}  # fmt: skip
    with running(settle_api(port), f"{base}/healthz", env=env):
        _wait_for_both_workers(base, directory)
        assert asyncio.run(_spread(f"{base}/readyz", 200)) == [200] * 200
        scrapes = [_scrape(base) for _ in range(10)]
        per_worker = _per_worker(directory, "/readyz")
    assert scrapes == [200.0] * 10
    assert len(per_worker) == 2 and min(per_worker.values()) > 0
    assert sum(per_worker.values()) == 200.0


def test_concurrent_refund_requests_never_exceed_the_order(live_url, client_headers, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    buyer, seller = make_user("buyer")["user_id"], make_user("seller")["user_id"]
    order = factories.paid_order(engine, buyer, seller, 100_000, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    body = {"amount_paise": 30_000, "reason": "customer_request"}

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=20)) as http:
            return await asyncio.gather(*(
                http.post(f"{live_url}/v1/orders/{order}/refunds", json=body,
                          headers={**client_headers, "Idempotency-Key": f"concurrent-{n}"})
                for n in range(20)
            ))  # fmt: skip

    responses = asyncio.run(burst())
    # 3 x 30_000 fit in 100_000; the 17 others find 10_000 refundable, whatever the order they ran in.
    assert Counter(r.status_code for r in responses) == {201: 3, 409: 17}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"refund_exceeds_refundable"}
    with engine.connect() as conn:
        held = conn.execute(
            sa.text("SELECT count(*), sum(amount_paise) FROM refunds WHERE order_id = :o"), {"o": order}
        ).one()
    assert tuple(held) == (3, 90_000)
