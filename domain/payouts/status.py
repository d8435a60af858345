"""Bringing payouts up to date with the gateway: stored webhooks applied, and payouts still
processing polled by status. Each payout changes in its own transaction under its row lock, so a
webhook, a poll and a submission never interleave on one payout; out-of-order answers only ever
move a payout forward (`domain.payouts.rules.path_to`).
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
import structlog

from domain.payouts import store as payout_store
from domain.payouts.gateway import PayoutEventParser, PayoutsGateway
from domain.payouts.rules import target_for_gateway_status
from domain.payouts.submission import apply_gateway_payout
from domain.payouts.tables import payouts
from domain.platform.gateway_errors import GatewayError, WebhookRejected
from domain.platform.sql import statement
from domain.webhooks import store as webhook_store
from domain.webhooks.tables import webhook_events

log = structlog.get_logger(__name__)

POLL_AFTER_S = 300.0
"""A payout processing longer than this without news is asked about by status."""


def bring_up_to_date(
    engine: sa.Engine, gateway: PayoutsGateway, parse: PayoutEventParser, *, poll_after_s: float = POLL_AFTER_S
) -> dict[str, int]:
    """Apply the stored webhooks, then poll what is still processing; counts by outcome."""
    webhooks = apply_webhooks(engine, parse)
    polled = poll_in_flight(engine, gateway, older_than_s=poll_after_s)
    return {**{f"webhook_{k}": v for k, v in webhooks.items()}, **{f"poll_{k}": v for k, v in polled.items()}}


def pending_work(conn: sa.Connection, *, poll_after_s: float = POLL_AFTER_S) -> int:
    """How many webhooks wait to be applied and payouts to be polled (what a sensor asks)."""
    return int(conn.execute(statement("payouts/status_work"), {"poll_after_s": poll_after_s}).scalar_one())


def poll_in_flight(engine: sa.Engine, gateway: PayoutsGateway, *, older_than_s: float = 0.0) -> Counter[str]:
    """Ask the gateway about every payout in `processing` not updated for `older_than_s` seconds."""
    with engine.connect() as conn:
        due = (
            conn.execute(
                sa.select(payouts.c.payout_id)
                .where(payouts.c.status == "processing")
                .where(payouts.c.updated_at <= sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, older_than_s))
                .order_by(payouts.c.updated_at)
            )
            .scalars()
            .all()
        )
    outcomes: Counter[str] = Counter()
    for payout_id in due:
        with engine.begin() as conn:
            row = payout_store.lock_payout(conn, payout_id, skip_locked=True)
            if row is None or row.status != "processing":
                outcomes["skipped"] += 1
                continue
            try:
                payout = (
                    gateway.fetch_payout(row.gateway_payout_id)
                    if row.gateway_payout_id
                    else gateway.find_payout_by_reference(payout_id)
                )
            except GatewayError as exc:
                log.warning("payout_poll_failed", payout_id=payout_id, error=str(exc))
                outcomes["unavailable"] += 1
                continue
            if payout is None:
                outcomes["not_found"] += 1
                continue
            steps = apply_gateway_payout(conn, row, payout)
            outcomes[steps[-1] if steps else "unchanged"] += 1
    return outcomes


def apply_webhooks(engine: sa.Engine, parse: PayoutEventParser, *, limit: int = 500) -> Counter[str]:
    """Apply stored, verified RazorpayX payout events (POST /v1/webhooks/razorpayx) to the payouts.

    Duplicates never reach here (the API deduplicates on the event id); out-of-order events only ever
    move a payout forward (`domain.payouts.path_to`). An event for a payout a submission is holding
    stays unprocessed for the next run.
    """
    outcomes: Counter[str] = Counter()
    w = webhook_events.c
    with engine.connect() as conn:
        pending = (
            conn.execute(
                sa.select(w.webhook_event_id)
                .where(w.source == "razorpayx", w.verdict == "accepted", w.processed_at.is_(None))
                .order_by(w.webhook_event_id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
    for event_row_id in pending:
        with engine.begin() as conn:
            outcomes[_apply_webhook(conn, event_row_id, parse)] += 1
    return outcomes


def _apply_webhook(conn: sa.Connection, webhook_event_id: int, parse: PayoutEventParser) -> str:
    w = webhook_events.c
    stored = conn.execute(
        sa.select(webhook_events)
        .where(w.webhook_event_id == webhook_event_id, w.processed_at.is_(None))
        .with_for_update(skip_locked=True)
    ).first()
    if stored is None:
        return "skipped"
    try:
        event = parse(bytes(stored.raw_body), stored.event_key)
    except WebhookRejected as exc:
        return _record(conn, webhook_event_id, "anomaly", f"unparseable:{exc.reason}")
    payout_id = conn.execute(
        sa.select(payouts.c.payout_id).where(
            sa.or_(payouts.c.gateway_payout_id == event.gateway_payout_id, payouts.c.payout_id == event.reference_id)
        )
    ).scalar()
    if payout_id is None:
        return _record(conn, webhook_event_id, "anomaly", "unknown_payout")
    row = payout_store.lock_payout(conn, payout_id, skip_locked=True)
    if row is None:
        return "busy"
    if event.amount_paise != row.amount_paise:
        return _record(conn, webhook_event_id, "anomaly", "amount_mismatch")
    facts = payout_store.GatewayFacts(
        gateway_payout_id=event.gateway_payout_id,
        gateway_status=event.status,
        utr=event.utr,
        failure_reason=event.failure_reason,
        response={"webhook_event_id": webhook_event_id, "event": event.event, "status": event.status},
    )
    steps = payout_store.transition(conn, row, target_for_gateway_status(event.status), facts=facts)
    reason = "applied:" + ",".join(steps) if steps else "already_applied"
    return _record(conn, webhook_event_id, "accepted", reason)


def _record(conn: sa.Connection, webhook_event_id: int, verdict: str, reason: str) -> str:
    webhook_store.record_outcome(conn, webhook_event_id, verdict, reason, processed=True)
    return reason.split(":", 1)[0]
