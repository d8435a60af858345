"""Prometheus metrics, defined once per process and safe under several uvicorn workers.

With `PROMETHEUS_MULTIPROC_DIR` set (before the process starts), each worker writes its samples to
files in that directory and `/metrics` aggregates them all, so a scrape sees every worker's counts
whichever worker answers. Without it, the process's own registry is served. `settle api` sets or
empties the directory before it starts the workers (cli/api.py).

Only counters and histograms: their files outlive a worker that uvicorn replaces, and its counts
stay in the sums, as they should. A gauge would need a `multiprocess_mode`, and for the live modes a
`mark_process_dead` call when its worker exits.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "ingest_requests_total", "HTTP requests by route template and status.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "ingest_request_duration_seconds",
    "HTTP request latency by route template and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
WEBHOOK_VERDICTS = Counter(
    "ingest_webhook_verdicts_total", "Webhook attempts by source, verdict and reason.", ["source", "verdict", "reason"]
)
IDEMPOTENT_REPLAYS = Counter(
    "ingest_idempotent_replays_total", "Requests answered from a stored idempotent response.", ["outcome"]
)
RATE_LIMITED = Counter("ingest_rate_limited_total", "Requests refused by a rate limit.", ["scope"])
ORDERS_PER_INSERT = Histogram(
    "ingest_orders_per_insert",
    "Orders sent in one create_orders() call (group commit of POST /v1/orders).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)

router = APIRouter(tags=["observability"])


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated upstream
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
