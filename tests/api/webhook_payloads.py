"""Signed gateway deliveries for tests, built with the gateway layer's own signing functions."""

from __future__ import annotations

import base64
import json

from domain.platform.settings import Settings
from gateways.phonepe import webhooks as phonepe_webhooks
from gateways.razorpayx import webhooks as razorpayx_webhooks


def phonepe_v2(
    settings: Settings, order_id: str, amount: int, event: str = "checkout.order.completed"
) -> tuple[bytes, dict[str, str]]:
    state = "COMPLETED" if event.endswith("completed") else "FAILED"
    body = {
        "event": event,
        "payload": {
            "merchantOrderId": order_id,
            "orderId": "OMO123",
            "state": state,
            "amount": amount,
            "paymentDetails": [
                {
                    "transactionId": "OM456",
                    "paymentMode": "UPI_QR",
                    "timestamp": 1_764_000_000_000,
                    "amount": amount,
                    "state": state,
                }
            ],
        },
    }
    auth = phonepe_webhooks.v2_authorization(
        settings.phonepe_webhook_username, settings.phonepe_webhook_password.get_secret_value()
    )
    return json.dumps(body).encode(), {"Authorization": auth, "Content-Type": "application/json"}


def phonepe_refund(settings: Settings, order_id: str, refund_id: str, amount: int) -> tuple[bytes, dict[str, str]]:
    body = {
        "event": "pg.refund.completed",
        "payload": {
            "merchantRefundId": refund_id,
            "refundId": "OMR1",
            "originalMerchantOrderId": order_id,
            "amount": amount,
            "state": "COMPLETED",
        },
    }
    auth = phonepe_webhooks.v2_authorization(
        settings.phonepe_webhook_username, settings.phonepe_webhook_password.get_secret_value()
    )
    return json.dumps(body).encode(), {"Authorization": auth, "Content-Type": "application/json"}


def phonepe_v1(settings: Settings, order_id: str, amount: int) -> tuple[bytes, dict[str, str]]:
    inner = {
        "code": "PAYMENT_SUCCESS",
        "data": {
            "merchantTransactionId": order_id,
            "transactionId": "T1",
            "amount": amount,
            "state": "COMPLETED",
            "paymentInstrument": {"type": "UPI"},
        },
    }
    encoded = base64.b64encode(json.dumps(inner).encode()).decode()
    x_verify = phonepe_webhooks.v1_x_verify(
        encoded, settings.phonepe_salt_key.get_secret_value(), settings.phonepe_salt_index
    )
    return json.dumps({"response": encoded}).encode(), {"X-VERIFY": x_verify, "Content-Type": "application/json"}


def razorpayx(settings: Settings, event_id: str, event: str = "payout.processed") -> tuple[bytes, dict[str, str]]:
    body = {
        "event": event,
        "payload": {
            "payout": {
                "entity": {
                    "id": "pout_1",
                    "amount": 10_000,
                    "status": "processed",
                    "reference_id": "pay_1",
                    "utr": "UTR1",
                }
            }
        },
    }
    raw = json.dumps(body).encode()
    signature = razorpayx_webhooks.signature(settings.razorpayx_webhook_secret.get_secret_value(), raw)
    return raw, {"X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": event_id, "Content-Type": "application/json"}
