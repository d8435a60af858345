"""PhonePe webhook verification (PG v2 `Authorization`, PG v1 `X-VERIFY`) and typed events.

v2: `Authorization` = hex(SHA256(username + ":" + password)), static for the merchant, so it proves
who sent the call but nothing about freshness: callers deduplicate on `PhonePeEvent.dedupe_key` and
confirm state with the status API before money moves.
v1: body `{"response": <base64 JSON>}`, `X-VERIFY` = hex(SHA256(base64 + salt_key)) + "###" + index.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from domain.platform.gateway_errors import WebhookRejected
from domain.refunds.gateway import RefundEvent

V2_EVENTS = frozenset(
    {
        "checkout.order.completed",
        "checkout.order.failed",
        "pg.refund.accepted",
        "pg.refund.completed",
        "pg.refund.failed",
    }
)
V1_STATES = {"PAYMENT_SUCCESS": "COMPLETED", "PAYMENT_ERROR": "FAILED", "PAYMENT_DECLINED": "FAILED"}


def v2_authorization(username: str, password: str) -> str:
    return hashlib.sha256(f"{username}:{password}".encode()).hexdigest()


def verify_v2(authorization: str | None, username: str, password: str) -> None:
    if not authorization:
        raise WebhookRejected("missing_signature")
    presented = authorization.strip()
    if presented.lower().startswith("sha256 "):
        presented = presented[7:].strip()
    if not hmac.compare_digest(presented.lower().encode(), v2_authorization(username, password).encode()):
        raise WebhookRejected("bad_signature")


def v1_x_verify(base64_body: str, salt_key: str, salt_index: int) -> str:
    return hashlib.sha256((base64_body + salt_key).encode()).hexdigest() + f"###{salt_index}"


def verify_v1(x_verify: str | None, base64_body: str, salt_key: str, salt_index: int) -> None:
    if not x_verify:
        raise WebhookRejected("missing_signature")
    if not hmac.compare_digest(x_verify.strip().encode(), v1_x_verify(base64_body, salt_key, salt_index).encode()):
        raise WebhookRejected("bad_signature")


@dataclass(frozen=True, slots=True)
class PhonePeEvent:
    event: str
    state: str
    amount_paise: int
    merchant_order_id: str | None = None
    gateway_order_id: str | None = None
    transaction_id: str | None = None
    payment_mode: str | None = None
    timestamp_ms: int | None = None
    merchant_refund_id: str | None = None
    refund_id: str | None = None

    @property
    def is_refund(self) -> bool:
        return self.event.startswith("pg.refund.")

    @property
    def dedupe_key(self) -> str:
        """PhonePe sends no event id: the subject, the event and its state identify one delivery."""
        subject = self.merchant_refund_id if self.is_refund else self.merchant_order_id
        return f"{self.event}:{subject}:{self.state}"


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("malformed_body", "not JSON") from None
    if not isinstance(parsed, dict):
        raise WebhookRejected("malformed_body", "not a JSON object")
    return parsed


def _text(value: object, field: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 256:
        raise WebhookRejected("malformed_body", f"{field} must be a non-empty string")
    return value


def _paise(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise WebhookRejected("malformed_body", f"{field} must be integer paise")
    return value


def parse_v2(raw: bytes) -> PhonePeEvent:
    body = _json_object(raw)
    event = body.get("event")
    if event not in V2_EVENTS:
        raise WebhookRejected("unknown_event", str(event)[:64])
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise WebhookRejected("malformed_body", "payload must be an object")
    state = _text(payload.get("state"), "state")
    assert state is not None
    amount = _paise(payload.get("amount"), "amount")
    if event.startswith("pg.refund."):
        return PhonePeEvent(
            event=event,
            state=state,
            amount_paise=amount,
            merchant_order_id=_text(payload.get("originalMerchantOrderId"), "originalMerchantOrderId"),
            merchant_refund_id=_text(payload.get("merchantRefundId"), "merchantRefundId"),
            refund_id=_text(payload.get("refundId"), "refundId", required=False),
            timestamp_ms=_timestamp(payload.get("timestamp")),
        )
    details = payload.get("paymentDetails") or []
    if not isinstance(details, list) or not all(isinstance(d, dict) for d in details):
        raise WebhookRejected("malformed_body", "paymentDetails must be a list of objects")
    last = details[-1] if details else {}
    return PhonePeEvent(
        event=event,
        state=state,
        amount_paise=amount,
        merchant_order_id=_text(payload.get("merchantOrderId"), "merchantOrderId"),
        gateway_order_id=_text(payload.get("orderId"), "orderId", required=False),
        transaction_id=_text(last.get("transactionId"), "transactionId", required=False),
        payment_mode=_text(last.get("paymentMode"), "paymentMode", required=False),
        timestamp_ms=_timestamp(last.get("timestamp", payload.get("timestamp"))),
    )


def parse_v1(raw: bytes) -> tuple[str, PhonePeEvent]:
    """Return the base64 body (what X-VERIFY signs) and the decoded event."""
    body = _json_object(raw)
    encoded = body.get("response")
    if not isinstance(encoded, str) or not encoded:
        raise WebhookRejected("malformed_body", "response must be base64 text")
    try:
        inner = _json_object(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise WebhookRejected("malformed_body", "response is not base64") from None
    data = inner.get("data")
    if not isinstance(data, dict):
        raise WebhookRejected("malformed_body", "data must be an object")
    code = inner.get("code")
    state = data.get("state") or V1_STATES.get(str(code))
    event = "checkout.order.completed" if state == "COMPLETED" else "checkout.order.failed"
    instrument = data.get("paymentInstrument")
    return encoded, PhonePeEvent(
        event=event,
        state=_text(state, "state") or "",
        amount_paise=_paise(data.get("amount"), "amount"),
        merchant_order_id=_text(data.get("merchantTransactionId"), "merchantTransactionId"),
        transaction_id=_text(data.get("transactionId"), "transactionId", required=False),
        payment_mode=_text(instrument.get("type"), "type", required=False) if isinstance(instrument, dict) else None,
    )


def _timestamp(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WebhookRejected("malformed_body", "timestamp must be epoch milliseconds")
    return value


def parse_refund_event(raw_body: bytes) -> RefundEvent:
    """The refund event of a stored v2 webhook body (the refunds port's parser)."""
    event = parse_v2(raw_body)
    if not event.is_refund or event.merchant_refund_id is None:
        raise WebhookRejected("unknown_event", event.event[:64])
    return RefundEvent(event.event, event.merchant_refund_id, event.state, event.amount_paise)
