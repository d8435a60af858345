"""Helpers for refund scenarios: requests through the domain (as the API makes them), the refunds run
against the sandbox over HTTP, and the sandbox's refund webhooks delivered to the real API."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from domain.platform.runs import RunSummary
from domain.platform.settings import Settings
from domain.refunds import status, store, stray, submission
from domain.refunds.store import RefundRequest
from domain.refunds.submission import RefundOptions
from gateways.phonepe import webhooks as phonepe_webhooks
from tests.scenarios.books import Books
from tests.scenarios.payouts import api

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "poll_base_s": 0.01, "requests_per_second": 1000.0}


def options(books: Books, **overrides: Any) -> RefundOptions:
    return RefundOptions.from_settings(books.sandbox.settings, **{"concurrency": 2, **FAST, **overrides})


def request(
    books: Books, order_id: str, amount_paise: int, now: dt.datetime, *, reason: str = "customer_request", **policy: Any
) -> Any:
    """A refund request as `POST /v1/orders/{id}/refunds` makes it (no Idempotency-Key); the refund row."""
    settings: Settings = books.sandbox.settings.model_copy(update=policy)
    with books.engine.begin() as conn:
        first, _ = store.request_refund(
            conn,
            RefundRequest(order_id, amount_paise, reason, None, "tests"),
            store.policy_from(settings),
            now,
        )
        return store.get_refund(conn, first["refund_id"])


def approve(books: Books, refund_id: str, now: dt.datetime) -> None:
    with books.engine.begin() as conn:
        store.decide(conn, refund_id, approve=True, actor="finance", note="checked", now=now)


def submit(books: Books, now: dt.datetime, **overrides: Any) -> RunSummary:
    client = books.sandbox.phonepe_client(read_timeout_s=overrides.pop("read_timeout_s", 5.0))
    try:
        return submission.submit_due(books.engine, client, options(books, **overrides), now=now, rng=random.Random(7))
    finally:
        client.close()


def store_webhooks(books: Books) -> int:
    """Deliver what the sandbox sent to POST /v1/webhooks/phonepe, which verifies and stores each event."""
    client, _ = api(books)
    accepted = 0
    for hook in books.sandbox.receiver.for_path("/phonepe"):
        headers = {k: v for k, v in hook.headers.items() if k.lower() in ("authorization", "x-verify")}
        response = client.post("/v1/webhooks/phonepe", content=hook.body,
                               headers={**headers, "Content-Type": "application/json"})  # fmt: skip
        assert response.status_code == 200, response.text
        accepted += response.json()["status"] == "accepted"
    books.sandbox.receiver.clear()
    return accepted


def bring_up_to_date(books: Books, now: dt.datetime, **overrides: Any) -> dict[str, int]:
    """Let the sandbox finish its refunds, store its webhooks, then the status run: webhooks checked by
    status, submitted refunds polled."""
    books.sandbox.flush()
    store_webhooks(books)
    client = books.sandbox.phonepe_client()
    try:
        return status.bring_up_to_date(
            books.engine, client, phonepe_webhooks.parse_refund_event, options(books, **overrides), now=now,
            rng=random.Random(7),
        )  # fmt: skip
    finally:
        client.close()


def refund_now(books: Books, now: dt.datetime) -> dict[str, int]:
    """Submit what is due and bring it up to date: a refund the sandbox completes is completed here."""
    submitted = submit(books, now)
    return {**submitted.outcomes, **bring_up_to_date(books, now)}


def check_strays(books: Books, now: dt.datetime, max_age_h: float = 72.0) -> dict[str, int]:
    client = books.sandbox.phonepe_client()
    try:
        counts = stray.refund_stray_payments(
            books.engine, client, options(books), now=now, max_age=dt.timedelta(hours=max_age_h),
            rng=random.Random(7),
        )  # fmt: skip
    finally:
        client.close()
    return dict(counts)


def refunds(books: Books) -> list[Any]:
    return books.rows("SELECT * FROM refunds ORDER BY created_at, refund_id")


def witness(books: Books) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's own refunds, by our refund id (merchantRefundId)."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    for refund in books.sandbox.refunds():
        by_id.setdefault(refund["merchantRefundId"], []).append(refund)
    return by_id
