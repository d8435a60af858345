"""RazorpayX payout webhooks: `X-Razorpay-Signature` = hex(HMAC_SHA256(secret, raw body)), and
typed events deduplicated on `X-Razorpay-Event-Id`."""

from __future__ import annotations

import hashlib
import hmac
import json

from domain.payouts.gateway import PayoutEvent
from domain.platform.gateway_errors import WebhookRejected

PAYOUT_EVENTS = frozenset({"payout.processed", "payout.failed", "payout.reversed", "payout.updated"})


def signature(secret: str, raw_body: bytes) -> str:
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify(signature_header: str | None, secret: str, raw_body: bytes) -> None:
    if not signature_header:
        raise WebhookRejected("missing_signature")
    if not hmac.compare_digest(signature_header.strip().lower().encode(), signature(secret, raw_body).encode()):
        raise WebhookRejected("bad_signature")


def parse(raw_body: bytes, event_id: str | None) -> PayoutEvent:
    if not event_id or len(event_id) > 128:
        raise WebhookRejected("missing_event_id")
    try:
        body = json.loads(raw_body)
        event = body["event"]
        payout = body["payload"]["payout"]["entity"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise WebhookRejected("malformed_body") from None
    if event not in PAYOUT_EVENTS:
        raise WebhookRejected("unknown_event", str(event)[:64])
    amount = payout.get("amount") if isinstance(payout, dict) else None
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise WebhookRejected("malformed_body", "amount must be positive integer paise")
    payout_id, status = payout.get("id"), payout.get("status")
    if not isinstance(payout_id, str) or not isinstance(status, str):
        raise WebhookRejected("malformed_body", "payout id and status are required")
    details = payout.get("status_details") or {}
    reason = payout.get("failure_reason") or (details.get("description") if isinstance(details, dict) else None)
    return PayoutEvent(
        event_id=event_id,
        event=event,
        gateway_payout_id=payout_id,
        reference_id=payout.get("reference_id"),
        status=status,
        amount_paise=amount,
        utr=payout.get("utr"),
        failure_reason=reason,
    )
