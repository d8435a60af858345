"""Helpers for payout scenarios: payees with destinations, submission and status runs, webhooks."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from domain.ledger import accounts, posting
from domain.payouts import status, submission
from domain.platform.runs import RunSummary
from gateways.razorpayx import webhooks as razorpayx_webhooks
from tests import factories
from tests.scenarios.books import Books

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "requests_per_second": 1000.0}


def payee(books: Books, role: str, destination: dict[str, str] | None = None, **kwargs: Any) -> str:
    return factories.payee(books.engine, role, destination, **kwargs)


def submit(books: Books, **options: Any) -> RunSummary:
    merged = {"concurrency": 2, "max_attempts": 5, **FAST, **options}
    client = books.sandbox.razorpayx_client(read_timeout_s=options.pop("read_timeout_s", 5.0))
    merged.pop("read_timeout_s", None)
    try:
        return submission.submit_pending(books.engine, client, submission.SubmitOptions(**merged), rng=random.Random(7))
    finally:
        client.close()


def api(books: Books) -> Any:
    """A TestClient of the real ingest API on the scenario's database, and an admin key for it."""
    cached = getattr(books, "_api", None)
    if cached is None:
        from fastapi.testclient import TestClient

        from domain.platform.settings import Settings
        from domain.users.api_keys import create_key
        from ingest_api.app import create_app

        url = books.engine.url.render_as_string(hide_password=False)
        settings = Settings(environment="test", database_url=url, log_format="console", api_key_cache_ttl_s=0)
        with books.engine.begin() as conn:
            key = create_key(conn, "payout-tests", "admin")
        cached = (TestClient(create_app(settings)), {"Authorization": f"Bearer {key}"})
        books._api = cached  # type: ignore[attr-defined]
    return cached


def store_webhooks(books: Books) -> int:
    """Deliver what the sandbox sent to POST /v1/webhooks/razorpayx, which verifies and stores each event."""
    client, _ = api(books)
    accepted = 0
    for hook in books.sandbox.receiver.for_path("/razorpayx"):
        headers = {k: v for k, v in hook.headers.items() if k.lower().startswith("x-razorpay")}
        response = client.post("/v1/webhooks/razorpayx", content=hook.body,
                               headers={**headers, "Content-Type": "application/json"})  # fmt: skip
        assert response.status_code == 200, response.text
        accepted += response.json()["status"] == "accepted"
    books.sandbox.receiver.clear()
    return accepted


def settle_status(books: Books) -> dict[str, int]:
    """Let the sandbox finish, store its webhooks, apply them and poll what is left."""
    books.sandbox.flush()
    store_webhooks(books)
    applied = status.apply_webhooks(books.engine, razorpayx_webhooks.parse)
    client = books.sandbox.razorpayx_client()
    try:
        polled = status.poll_in_flight(books.engine, client)
    finally:
        client.close()
    return {**{f"webhook_{k}": v for k, v in applied.items()}, **{f"poll_{k}": v for k, v in polled.items()}}


def payouts(books: Books) -> list[Any]:
    return books.rows("SELECT * FROM payouts ORDER BY created_at, payout_id")


def witness(books: Books) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's own payouts, by our payout id (reference_id)."""
    by_reference: dict[str, list[dict[str, Any]]] = {}
    for payout in books.sandbox.payouts():
        by_reference.setdefault(payout["reference_id"], []).append(payout)
    return by_reference


def balance(books: Books, payee_type: accounts.PayeeType, payee_id: str) -> int:
    with books.engine.connect() as conn:
        return posting.payee_balance(conn, payee_type, payee_id)


def days(start: dt.date, count: int) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range(count)]
