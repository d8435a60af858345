"""Bringing submitted refunds up to date with PhonePe: stored refund webhooks, checked by status before
they are applied, and refunds still PENDING or CONFIRMED polled with backoff.

A webhook is a claim, not a fact (the v2 header is static): each one makes us ask `refund_status`,
and only the status API's answer moves a refund. Each refund changes in its own transaction under
its row lock, so a webhook, a poll and a submission never interleave on one refund. A refund still
with the gateway `stuck_after_h` after it was submitted is a finance alert, once; it is still polled.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

import sqlalchemy as sa
import structlog

from domain.outbox import events, outbox
from domain.platform.gateway_errors import GatewayError, WebhookRejected
from domain.platform.retry import next_attempt_at
from domain.platform.sql import statement
from domain.refunds import store
from domain.refunds.gateway import RefundEventParser, RefundsGateway
from domain.refunds.submission import RefundOptions, apply_gateway_state
from domain.refunds.tables import refunds
from domain.webhooks import store as webhook_store
from domain.webhooks.tables import webhook_events

log = structlog.get_logger(__name__)


def bring_up_to_date(
    engine: sa.Engine,
    gateway: RefundsGateway,
    parse: RefundEventParser,
    options: RefundOptions,
    *,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> dict[str, int]:
    """Apply the stored webhooks, poll what is due, alert on what is stuck; counts by outcome."""
    rng = rng or random.Random()
    webhooks = apply_webhooks(engine, gateway, parse, options, now=now, rng=rng)
    polled = poll_submitted(engine, gateway, options, now=now, rng=rng)
    with engine.begin() as conn:
        stuck = alert_stuck(conn, options, now)
    return {
        **{f"webhook_{k}": v for k, v in sorted(webhooks.items())},
        **{f"poll_{k}": v for k, v in sorted(polled.items())},
        "stuck_alerted": stuck,
    }


def poll_submitted(
    engine: sa.Engine, gateway: RefundsGateway, options: RefundOptions, *, now: dt.datetime, rng: random.Random
) -> Counter[str]:
    with engine.connect() as conn:
        due = conn.execute(statement("refunds/status_due"), {"now": now, "limit": 1000}).scalars().all()
    outcomes: Counter[str] = Counter()
    for refund_id in due:
        with engine.begin() as conn:
            row = store.lock_refund(conn, refund_id, skip_locked=True)
            if row is None or row.status != "submitted":
                outcomes["skipped"] += 1
                continue
            outcomes[_ask(conn, gateway, row, options, now, rng)] += 1
    return outcomes


def _ask(
    conn: sa.Connection, gateway: RefundsGateway, row: Any, options: RefundOptions, now: dt.datetime, rng: random.Random
) -> str:
    """Ask about one locked submitted refund and apply the answer; an unreadable answer waits."""
    try:
        status = gateway.refund_status(row.refund_id)
    except GatewayError as exc:
        log.warning("refund_status_failed", refund_id=row.refund_id, error=str(exc))
        when = next_attempt_at(
            now,
            int(row.status_checks) + 1,
            options.poll_base_s,
            options.backoff_max_s,
            rng,
            getattr(exc, "retry_after_s", None),
        )
        conn.execute(
            sa.update(refunds)
            .where(refunds.c.refund_id == row.refund_id)
            .values(next_check_at=when, status_checks=refunds.c.status_checks + 1)
        )
        return "unavailable"
    conn.execute(
        sa.update(refunds).where(refunds.c.refund_id == row.refund_id).values(status_checks=refunds.c.status_checks + 1)
    )
    return apply_gateway_state(conn, row, status, now, options, rng)


def apply_webhooks(
    engine: sa.Engine,
    gateway: RefundsGateway,
    parse: RefundEventParser,
    options: RefundOptions,
    *,
    now: dt.datetime,
    rng: random.Random,
    limit: int = 500,
) -> Counter[str]:
    """Check each stored, verified PhonePe refund event with the status API, then apply the status."""
    w = webhook_events.c
    with engine.connect() as conn:
        pending = (
            conn.execute(
                sa.select(w.webhook_event_id)
                .where(w.source == "phonepe", w.verdict == "accepted", w.processed_at.is_(None))
                .where(w.event_type.like("pg.refund.%"))
                .order_by(w.webhook_event_id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
    outcomes: Counter[str] = Counter()
    for webhook_event_id in pending:
        with engine.begin() as conn:
            outcomes[_apply_webhook(conn, webhook_event_id, gateway, parse, options, now, rng)] += 1
    return outcomes


def _apply_webhook(
    conn: sa.Connection,
    webhook_event_id: int,
    gateway: RefundsGateway,
    parse: RefundEventParser,
    options: RefundOptions,
    now: dt.datetime,
    rng: random.Random,
) -> str:
    w = webhook_events.c
    stored = conn.execute(
        sa.select(webhook_events)
        .where(w.webhook_event_id == webhook_event_id, w.processed_at.is_(None))
        .with_for_update(skip_locked=True)
    ).first()
    if stored is None:
        return "skipped"
    try:
        event = parse(bytes(stored.raw_body))
    except WebhookRejected as exc:
        return _record(conn, webhook_event_id, "anomaly", f"unparseable:{exc.reason}")
    exists = conn.execute(sa.select(refunds.c.refund_id).where(refunds.c.refund_id == event.merchant_refund_id)).first()
    if exists is None:
        return _record(conn, webhook_event_id, "anomaly", "unknown_refund")
    row = store.lock_refund(conn, event.merchant_refund_id, skip_locked=True)
    if row is None:
        return "busy"
    if row.status in ("completed", "failed", "rejected"):
        agrees = (row.status == "completed") == (event.state == "COMPLETED")
        return _record(conn, webhook_event_id, "accepted", "already_applied" if agrees else "status_disagrees")
    if row.status != "submitted":
        return "not_yet_submitted"
    try:
        status = gateway.refund_status(row.refund_id)
    except GatewayError as exc:
        log.warning("refund_webhook_status_failed", refund_id=row.refund_id, error=str(exc))
        return "status_unavailable"
    outcome = apply_gateway_state(conn, row, status, now, options, rng)
    if status.state != event.state:
        log.warning("refund_webhook_disagrees", refund_id=row.refund_id, webhook=event.state, status=status.state)
        return _record(conn, webhook_event_id, "anomaly", f"status_disagrees:{status.state.lower()}")
    return _record(conn, webhook_event_id, "accepted", f"applied:{outcome}")


def _record(conn: sa.Connection, webhook_event_id: int, verdict: str, reason: str) -> str:
    webhook_store.record_outcome(conn, webhook_event_id, verdict, reason, processed=True)
    return reason.split(":", 1)[0]


def alert_stuck(conn: sa.Connection, options: RefundOptions, now: dt.datetime) -> int:
    """Tell finance, once per refund, of refunds with the gateway for longer than `stuck_after_h`."""
    cutoff = now - dt.timedelta(hours=options.stuck_after_h)
    stuck = conn.execute(
        sa.update(refunds)
        .where(refunds.c.status == "submitted", refunds.c.submitted_at <= cutoff, refunds.c.stuck_alerted_at.is_(None))
        .values(stuck_alerted_at=now)
        .returning(
            refunds.c.refund_id,
            refunds.c.order_id,
            refunds.c.amount_paise,
            refunds.c.gateway_state,
            refunds.c.submitted_at,
        )
    ).all()
    outbox.write(
        conn,
        [
            events.refund_stuck(
                events.RefundStuck(
                    refund_id=r.refund_id,
                    order_id=r.order_id,
                    amount_paise=int(r.amount_paise),
                    gateway_state=r.gateway_state,
                    submitted_at=r.submitted_at.isoformat(),
                )
            )
            for r in stuck
        ],
    )
    if stuck:
        log.warning("refunds_stuck", count=len(stuck))
    return len(stuck)
