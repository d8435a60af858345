"""Gateway webhooks. Verification happens in the dependencies; these routes deduplicate and record.

No gateway is called here: a PhonePe payment outcome moves the order (the batch side confirms the
state with the status API before any money moves), a success for an order that can no longer be paid
is reported as a stray payment (refunded once the gateway confirms it), and refund events and
RazorpayX payout events are stored for their pipelines, which pick up accepted rows with
`processed_at IS NULL` and check each with the gateway's status API.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter

from domain.orders import store as order_store
from domain.refunds import stray
from domain.webhooks import store as webhook_store
from gateways.phonepe.webhooks import PhonePeEvent
from ingest_api.deps import SessionDep, VerifiedPhonePeEvent, VerifiedRazorpayXEvent
from ingest_api.errors import error_responses
from ingest_api.metrics import WEBHOOK_VERDICTS
from ingest_api.schemas.webhooks import WebhookAck
from ingest_api.verification import Delivery

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

_OUTCOMES = {("checkout.order.completed", "COMPLETED"): True, ("checkout.order.failed", "FAILED"): False}


def _ack(source: str, webhook_event_id: int, verdict: str, reason: str) -> WebhookAck:
    WEBHOOK_VERDICTS.labels(source, verdict, reason).inc()
    return WebhookAck(status=verdict, reason=reason, webhook_event_id=webhook_event_id)  # type: ignore[arg-type]


def _claim_or_duplicate(
    conn: SessionDep, delivery: Delivery, event_key: str, event_type: str, reason: str
) -> int | WebhookAck:
    """The claimed row's id, or the acknowledgement of a duplicate (stored as its own row)."""
    row = delivery.row(event_key=event_key, event_type=event_type)
    claimed = webhook_store.claim(conn, reason=reason, **row)
    if claimed is not None:
        return claimed
    duplicate = webhook_store.record(conn, verdict="duplicate", reason="already_accepted", **row)
    return _ack(delivery.source, duplicate, "duplicate", "already_accepted")


def _occurred_at(event: PhonePeEvent) -> dt.datetime | None:
    if event.timestamp_ms is None:
        return None
    try:
        return dt.datetime.fromtimestamp(event.timestamp_ms / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


@router.post("/phonepe", response_model=WebhookAck, responses=error_responses(401, 413, 429))
def phonepe_webhook(delivery: VerifiedPhonePeEvent, conn: SessionDep) -> WebhookAck:
    """PhonePe PG v2 webhook (`Authorization`) or v1 callback (`X-VERIFY`). 200 for every verified delivery."""
    event = delivery.event
    assert event is not None
    reason = "stored_for_refund_pipeline" if event.is_refund else "verified"
    claimed = _claim_or_duplicate(conn, delivery, event.dedupe_key, event.event, reason)
    if isinstance(claimed, WebhookAck):
        return claimed
    if event.is_refund:
        return _ack("phonepe", claimed, "accepted", "stored_for_refund_pipeline")
    succeeded = _OUTCOMES.get((event.event, event.state))
    if succeeded is None or event.merchant_order_id is None:
        verdict, reason = "anomaly", "unexpected_state"
    else:
        outcome = order_store.PaymentOutcome(
            webhook_event_id=claimed,
            order_id=event.merchant_order_id,
            succeeded=succeeded,
            amount_paise=event.amount_paise,
            gateway_order_id=event.gateway_order_id,
            transaction_id=event.transaction_id,
            payment_mode=event.payment_mode,
            occurred_at=_occurred_at(event),
        )
        verdict, reason = order_store.apply_payment(conn, outcome)
        if reason in order_store.STRAY_REASONS.values():
            stray.report(conn, outcome.order_id, claimed, outcome.amount_paise)
    webhook_store.record_outcome(conn, claimed, verdict, reason, processed=True)
    return _ack("phonepe", claimed, verdict, reason)


@router.post("/razorpayx", response_model=WebhookAck, responses=error_responses(401, 413, 429))
def razorpayx_webhook(delivery: VerifiedRazorpayXEvent, conn: SessionDep) -> WebhookAck:
    """RazorpayX payout webhook, deduplicated on X-Razorpay-Event-Id and stored for the payout pipeline."""
    event = delivery.event
    assert event is not None
    claimed = _claim_or_duplicate(conn, delivery, event.event_id, event.event, "stored_for_payout_pipeline")
    if isinstance(claimed, WebhookAck):
        return claimed
    return _ack("razorpayx", claimed, "accepted", "stored_for_payout_pipeline")
