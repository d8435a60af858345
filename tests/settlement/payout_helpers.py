"""Helpers for payout scenarios: payees with destinations, submission and status runs, webhooks."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import sqlalchemy as sa

from assets import payout_engine
from domain import ledger
from domain.invariants import LEDGER_INVARIANTS, PAYOUT_INVARIANTS, check_all
from domain.schema import users, webhook_events
from tests.settlement.conftest import Books

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "requests_per_second": 1000.0}


def payee(books: Books, role: str, destination: dict[str, str] | None = None, **kwargs: Any) -> str:
    user_id = books.user(role, **kwargs)
    if destination is None:
        destination = {"type": "vpa", "vpa": f"{user_id[-10:]}@okaxis"}
    with books.engine.begin() as conn:
        conn.execute(sa.update(users).where(users.c.user_id == user_id).values(payout_destination=destination))
    return user_id


def submit(books: Books, **options: Any) -> payout_engine.SubmitSummary:
    merged = {"concurrency": 2, "max_attempts": 5, **FAST, **options}
    client = books.sandbox.razorpayx_client(read_timeout_s=options.pop("read_timeout_s", 5.0))
    merged.pop("read_timeout_s", None)
    try:
        return payout_engine.submit_pending(
            books.engine, client, payout_engine.SubmitOptions(**merged), rng=random.Random(7)
        )
    finally:
        client.close()


def store_webhooks(books: Books) -> int:
    """What POST /v1/webhooks/razorpayx does with verified deliveries: store each event id once."""
    stored = 0
    with books.engine.begin() as conn:
        for hook in books.sandbox.receiver.for_path("/razorpayx"):
            event_id = hook.headers.get("X-Razorpay-Event-Id")
            exists = conn.execute(
                sa.select(webhook_events.c.webhook_event_id).where(
                    webhook_events.c.source == "razorpayx",
                    webhook_events.c.event_key == event_id,
                    webhook_events.c.verdict == "accepted",
                )
            ).first()
            verdict = "duplicate" if exists else "accepted"
            conn.execute(
                sa.insert(webhook_events).values(
                    source="razorpayx",
                    event_key=event_id,
                    event_type=json.loads(hook.body)["event"],
                    verdict=verdict,
                    reason="stored_for_payout_pipeline" if not exists else "already_accepted",
                    raw_body=hook.body,
                )
            )
            stored += not exists
        books.sandbox.receiver.clear()
    return stored


def settle_status(books: Books) -> dict[str, int]:
    """Let the sandbox finish, store its webhooks, apply them and poll what is left."""
    books.sandbox.flush()
    store_webhooks(books)
    applied = payout_engine.apply_webhooks(books.engine)
    client = books.sandbox.razorpayx_client()
    try:
        polled = payout_engine.poll_in_flight(books.engine, client)
    finally:
        client.close()
    return {**{f"webhook_{k}": v for k, v in applied.items()}, **{f"poll_{k}": v for k, v in polled.items()}}


def payouts(books: Books) -> list[Any]:
    return books.rows("SELECT * FROM payouts ORDER BY created_at, payout_id")


def assert_books_sound(books: Books) -> None:
    with books.engine.connect() as conn:
        assert check_all(conn, LEDGER_INVARIANTS + PAYOUT_INVARIANTS) == {}


def witness(books: Books) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's own payouts, by our payout id (reference_id)."""
    by_reference: dict[str, list[dict[str, Any]]] = {}
    for payout in books.sandbox.payouts():
        by_reference.setdefault(payout["reference_id"], []).append(payout)
    return by_reference


def balance(books: Books, payee_type: ledger.PayeeType, payee_id: str) -> int:
    with books.engine.connect() as conn:
        return ledger.payee_balance(conn, payee_type, payee_id)


def days(start: dt.date, count: int) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range(count)]
