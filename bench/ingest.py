"""Ingest throughput: `POST /v1/orders` with every production feature on (API key, rate limits,
idempotency, validation, JSON access log, multiprocess Prometheus metrics) against a bare FastAPI
app doing one INSERT per request. Both run under uvicorn with 2 workers on loopback and are driven
by the same raw-socket asyncio load generator for the same time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bench.common import scratch_database
from cli.processes import free_port, wait_healthy
from domain.platform.database import create_engine
from domain.users.api_keys import create_key

WORKERS = 2
CONNECTIONS = 32
# Both apps stay up and take turns in short slices, so a neighbour stealing CPU for a few seconds
# hits both alike: on these two shared cores, back-to-back 10 s runs of one app swung by 2x. With 12
# slices, whole runs of the same code still ranged from 0.71 to 0.86; 24 halve that variance.
SLICES = 24
SLICE_WARMUP_S = 0.5
SLICE_S = 2.5


@contextlib.contextmanager
def serve(app: str, env: dict[str, str]) -> Iterator[int]:
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1", "--port", str(port)]
    args += ["--workers", str(WORKERS), "--no-access-log", "--log-level", "warning", "--loop", "uvloop"]
    args += ["--http", "httptools"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_healthy(
            f"http://127.0.0.1:{port}/healthz" if "ingest_api" in app else f"http://127.0.0.1:{port}/docs", process
        )
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


def _request(port: int, body: bytes, key: str, idempotency_key: str) -> bytes:
    return (
        f"POST /v1/orders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
        f"Idempotency-Key: {idempotency_key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _connection(
    port: int, body: bytes, key: str, tag: str, until: float, measure_from: float, out: list[float], errors: list[int]
) -> None:
    """Keep one connection busy until `until`; only 201s count, anything else (0: a dropped
    connection, then reopened) is reported as an error."""
    n = 0
    while time.perf_counter() < until:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (now := time.perf_counter()) < until:
                n += 1
                writer.write(_request(port, body, key, f"{tag}-{n}"))
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                if now < measure_from:
                    continue
                if head[9:12] == b"201":
                    out.append(time.perf_counter() - now)
                else:
                    errors.append(int(head[9:12]))
        except (ConnectionError, asyncio.IncompleteReadError):
            errors.append(0)
        finally:
            writer.close()


async def _drive(port: int, body: bytes, key: str, run: str) -> tuple[list[float], list[int]]:
    start = time.perf_counter()
    latencies: list[float] = []
    errors: list[int] = []
    until, measure_from = start + SLICE_WARMUP_S + SLICE_S, start + SLICE_WARMUP_S
    await asyncio.gather(
        *(_connection(port, body, key, f"{run}{c}", until, measure_from, latencies, errors) for c in range(CONNECTIONS))
    )
    return latencies, errors


def _drive_sync(port: int, body: bytes, key: str, run: str) -> tuple[list[float], list[int]]:
    with contextlib.suppress(ImportError):
        import uvloop

        return uvloop.run(_drive(port, body, key, run))
    return asyncio.run(_drive(port, body, key, run))


def _orders_per_insert(port: int) -> float:
    metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    (histogram,) = (f for f in text_string_to_metric_families(metrics) if f.name == "ingest_orders_per_insert")
    values = {sample.name: sample.value for sample in histogram.samples}
    return values["ingest_orders_per_insert_sum"] / values["ingest_orders_per_insert_count"]


def _summary(name: str, latencies: list[float], errors: list[int], seconds: float) -> float:
    latencies.sort()
    rate = len(latencies) / seconds
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    print(
        f"{name:<28} {rate:8.0f} orders/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   non-201 or dropped: {len(errors)}"
    )
    return rate


def main() -> None:
    with scratch_database("ingest") as (url, _settings), tempfile.TemporaryDirectory(prefix="bench-prom-") as prom:
        engine = create_engine(url)
        with engine.begin() as conn:
            key = create_key(conn, "bench", "client")
            conn.execute(
                sa.text(
                    "INSERT INTO users (user_id, role, name, email) VALUES "
                    "('usr_bench_buyer', 'buyer', 'Buyer', 'b@example.in'), "
                    "('usr_bench_seller', 'seller', 'Seller', 's@example.in')"
                )
            )
        body = json.dumps(
            {
                "buyer_id": "usr_bench_buyer",
                "seller_id": "usr_bench_seller",
                "listing_id": "lst_bench",
                "amount_paise": 49_900,
                "currency": "INR",
            }
        ).encode()
        env = {
            "DATABASE_URL": url,
            "ENVIRONMENT": "production",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "PROMETHEUS_MULTIPROC_DIR": prom,
            "RATE_LIMIT_PER_KEY_PER_MINUTE": "100000000",
            "NOTIFICATION_FROM_EMAIL": "Settlements <settlements@bench.test>",
            "FINANCE_ALERT_EMAIL": "finance-alerts@bench.test",
            **{
                name: f"bench-{name}"
                for name in (
                    "PHONEPE_CLIENT_SECRET",
                    "PHONEPE_WEBHOOK_PASSWORD",
                    "PHONEPE_SALT_KEY",
                    "RAZORPAYX_KEY_SECRET",
                    "RAZORPAYX_WEBHOOK_SECRET",
                )
            },
        }
        print(
            f"{WORKERS} uvicorn workers each, {CONNECTIONS} keep-alive connections, {SLICES} slices of {SLICE_S} s "
            f"per app (after {SLICE_WARMUP_S} s warm-up each), taking turns"
        )
        results: dict[str, tuple[list[float], list[int]]] = {"bare": ([], []), "ours": ([], [])}
        slice_ratios = []
        with (
            serve("bench.bare_app:create_app", {"DATABASE_URL": url}) as bare_port,
            serve("ingest_api.app:create_app", env) as our_port,
        ):
            ports = {"bare": bare_port, "ours": our_port}
            for n in range(SLICES):
                counts = {}
                for which in ("bare", "ours") if n % 2 == 0 else ("ours", "bare"):
                    latencies, errors = _drive_sync(ports[which], body, key, f"{which}{n}-")
                    results[which][0].extend(latencies)
                    results[which][1].extend(errors)
                    counts[which] = len(latencies)
                slice_ratios.append(counts["ours"] / counts["bare"])
            per_insert = _orders_per_insert(our_port)
        bare = _summary("bare FastAPI + INSERT", *results["bare"], SLICES * SLICE_S)
        ours = _summary("ingest API POST /v1/orders", *results["ours"], SLICES * SLICE_S)
        with engine.connect() as conn:
            keyed = conn.execute(sa.text("SELECT count(*) FROM orders WHERE idempotency_key IS NOT NULL")).scalar_one()
        engine.dispose()
    print(f"orders created through the API (each with its idempotency key): {keyed}")
    print(f"orders per create_orders() call (group commit), mean over the run: {per_insert:.1f}")
    print(f"per-slice ratios: {', '.join(f'{r:.2f}' for r in slice_ratios)}")
    quartiles = statistics.quantiles(slice_ratios, n=4)
    print(f"per-slice ratio median {quartiles[1]:.2f}, middle half {quartiles[0]:.2f} to {quartiles[2]:.2f}")
    print(f"throughput ratio ingest/bare: {ours / bare:.2f} (target >= 0.80)")
