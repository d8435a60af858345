"""The sandbox playing PhonePe PG: OAuth tokens, buyers' payments, order status, refunds and the
settlement report, the counterpart of `gateways.phonepe`.

Payments exist when the admin API simulates a buyer paying; each attempt that is not PENDING sends
the v2 webhook. Refunds are accepted PENDING and finished later by the worker (this part is a
`Settler`): a per-refund override in the config wins; otherwise a `merchantRefundId` containing
"fail" fails and anything else completes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import time
from typing import Any

import sqlalchemy as sa

from domain.platform.settings import Settings
from gateways.sandbox import store
from gateways.sandbox.config import ConfigSource
from gateways.sandbox.errors import SandboxError, bad_request
from gateways.sandbox.outbox import Outbox
from gateways.sandbox.report import Transaction, build_report, day_bounds_ms, is_late

TOKEN_LIFETIME_S = 3600
ORDER_EXPIRY_MS = 20 * 60 * 1000
MIN_REFUND_PAISE = 100
MERCHANT_ID = re.compile(r"[A-Za-z0-9_-]{1,63}")


class PhonePe:
    """PhonePe's endpoints over the sandbox's orders and refunds tables."""

    def __init__(self, settings: Settings, engine: sa.Engine, outbox: Outbox, config: ConfigSource) -> None:
        self._settings = settings
        self._engine = engine
        self._outbox = outbox
        self._config = config
        secret = settings.phonepe_client_secret.get_secret_value().encode()
        self._token_key = hashlib.sha256(b"sandbox-token:" + secret).digest()

    # -- OAuth -----------------------------------------------------------------------------------

    def issue_token(self, form: dict[str, str]) -> dict[str, Any]:
        """An access token for the client credentials in the settings, refused like PhonePe otherwise."""
        settings = self._settings
        expected = {
            "client_id": settings.phonepe_client_id,
            "client_secret": settings.phonepe_client_secret.get_secret_value(),
            "client_version": str(settings.phonepe_client_version),
            "grant_type": "client_credentials",
        }
        for name, value in expected.items():
            if not hmac.compare_digest(form.get(name, "").encode(), value.encode()):
                raise SandboxError(401, "AUTHORIZATION_FAILED", "invalid client credentials")
        expires_at = int(time.time()) + TOKEN_LIFETIME_S
        return {
            "access_token": f"{expires_at}.{self._token_mac(expires_at)}",
            "token_type": "O-Bearer",
            "expires_at": expires_at,
            "issued_at": expires_at - TOKEN_LIFETIME_S,
        }

    def check_token(self, authorization: str | None) -> None:
        """Tokens are stateless (expiry + MAC), so they survive a sandbox restart like real ones."""
        scheme, _, token = (authorization or "").partition(" ")
        expires, _, mac = token.partition(".")
        valid = (
            scheme == "O-Bearer"
            and expires.isdigit()
            and hmac.compare_digest(mac.encode(), self._token_mac(int(expires)).encode())
            and int(expires) > time.time()
        )
        if not valid:
            raise SandboxError(401, "AUTHORIZATION_FAILED", "missing, invalid or expired access token")

    def _token_mac(self, expires_at: int) -> str:
        return hmac.new(self._token_key, str(expires_at).encode(), hashlib.sha256).hexdigest()

    # -- payments --------------------------------------------------------------------------------

    def simulate_payment(self, body: dict[str, Any]) -> dict[str, Any]:
        """A buyer pays (or fails to pay) an order; sends the PhonePe v2 webhook unless still pending."""
        order_id, outcome = body["merchantOrderId"], body["outcome"]
        at = body.get("paidAtMs") or store.now_ms()
        with self._engine.begin() as conn:
            self._record_attempt(conn, body, at)
            status = self._order_body(conn, order_id)
            if outcome != "PENDING":
                event = "checkout.order.completed" if outcome == "COMPLETED" else "checkout.order.failed"
                payload = {key: status[key] for key in ("orderId", "state", "amount", "paymentDetails")}
                payload["merchantOrderId"] = order_id
                self._outbox.enqueue(conn, "phonepe", event, order_id, {"event": event, "payload": payload})
        return status

    def order_status(self, merchant_order_id: str) -> dict[str, Any]:
        with self._engine.connect() as conn:
            return self._order_body(conn, merchant_order_id)

    def _record_attempt(self, conn: sa.Connection, body: dict[str, Any], at: int) -> None:
        """Create the order at its first attempt, or add this attempt to it; a paid order takes no more."""
        order_id, amount, outcome = body["merchantOrderId"], body["amount"], body["outcome"]
        detail = _payment_detail(body, at)
        o = store.orders.c
        row = conn.execute(sa.select(store.orders).where(o.merchant_order_id == order_id).with_for_update()).first()
        if row is None:
            conn.execute(
                store.orders.insert().values(
                    merchant_order_id=order_id,
                    order_id=store.random_id("OMO", 20),
                    amount=amount,
                    state=outcome,
                    payer=body.get("payer") or "buyer",
                    payment_details=[detail],
                    created_at_ms=at,
                    paid_at_ms=at if outcome == "COMPLETED" else None,
                )
            )
            return
        if row.state == "COMPLETED":
            raise SandboxError(409, "ORDER_ALREADY_COMPLETED", "the order is already paid")
        if row.amount != amount:
            raise bad_request("amount differs from the order's earlier attempts", "amount")
        conn.execute(
            store.orders.update()
            .where(o.merchant_order_id == order_id)
            .values(
                state=outcome,
                payment_details=[*row.payment_details, detail],
                paid_at_ms=at if outcome == "COMPLETED" else None,
            )
        )

    def _order_body(self, conn: sa.Connection, merchant_order_id: str) -> dict[str, Any]:
        row = conn.execute(sa.select(store.orders).where(store.orders.c.merchant_order_id == merchant_order_id)).first()
        if row is None:
            raise SandboxError(404, "ORDER_NOT_FOUND", "no such order")
        return {
            "orderId": row.order_id,
            "state": row.state,
            "amount": row.amount,
            "expireAt": row.created_at_ms + ORDER_EXPIRY_MS,
            "paymentDetails": row.payment_details,
        }

    # -- refunds ---------------------------------------------------------------------------------

    def create_refund(self, body: Any) -> dict[str, Any]:
        """Accept a refund PENDING; the same `merchantRefundId` with the same body answers the same refund."""
        refund_id, order_id, amount = _validated_refund(body)
        digest = store.request_hash(body)
        with self._engine.begin() as conn:
            order = conn.execute(
                sa.select(store.orders).where(store.orders.c.merchant_order_id == order_id).with_for_update()
            ).first()
            existing = conn.execute(
                sa.select(store.refunds).where(store.refunds.c.merchant_refund_id == refund_id)
            ).first()
            if existing is not None:
                if existing.request_hash != digest:
                    raise SandboxError(400, "DUPLICATE_REQUEST", "merchantRefundId already used for another refund")
                r = store.refunds.c
                conn.execute(
                    store.refunds.update()
                    .where(r.merchant_refund_id == refund_id)
                    .values(create_calls=r.create_calls + 1)
                )
                return {"refundId": existing.refund_id, "amount": existing.amount, "state": existing.state}
            _check_refundable(conn, order, amount)
            gateway_refund_id = self._insert_refund(conn, refund_id, order_id, amount, digest)
        self._outbox.wake()
        return {"refundId": gateway_refund_id, "amount": amount, "state": "PENDING"}

    def refund_status(self, merchant_refund_id: str) -> dict[str, Any]:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(store.refunds).where(store.refunds.c.merchant_refund_id == merchant_refund_id)
            ).first()
        if row is None:
            raise SandboxError(404, "REFUND_NOT_FOUND", "no such refund")
        return _refund_body(row)

    def refunds(self) -> list[dict[str, Any]]:
        """Every refund, oldest first, for the admin API, with how many create calls named it."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(store.refunds).order_by(store.refunds.c.created_at_ms)).all()
        return [{**_refund_body(row), "create_calls": row.create_calls} for row in rows]

    def finish_due(self, conn: sa.Connection, now: int) -> int:
        """Settle the refunds whose processing time is up and send pg.refund.completed or pg.refund.failed."""
        r = store.refunds.c
        rows = store.claim_due(conn, store.refunds, r.state == "PENDING", now)
        for row in rows:
            updated = conn.execute(
                store.refunds.update()
                .where(r.merchant_refund_id == row.merchant_refund_id)
                .values(state=row.outcome, settle_at_ms=None, completed_at_ms=now)
                .returning(store.refunds)
            ).one()
            event = "pg.refund.completed" if row.outcome == "COMPLETED" else "pg.refund.failed"
            body = {"event": event, "payload": _refund_body(updated)}
            self._outbox.enqueue(conn, "phonepe", event, row.merchant_refund_id, body)
        return len(rows)

    def unfinished(self) -> sa.ScalarSelect[int]:
        """Pending refunds with a settlement time; an outcome of PENDING has none and stays pending."""
        r = store.refunds.c
        return sa.select(sa.func.count()).where(r.state == "PENDING", r.settle_at_ms.is_not(None)).scalar_subquery()

    def _insert_refund(self, conn: sa.Connection, refund_id: str, order_id: str, amount: int, digest: str) -> str:
        """Record the refund with the outcome the worker will give it; its gateway refund id."""
        config = self._config()
        outcome = config.refund_outcomes.get(refund_id) or ("FAILED" if "fail" in refund_id.lower() else "COMPLETED")
        now = store.now_ms()
        gateway_refund_id = store.random_id("OMR", 20)
        conn.execute(
            store.refunds.insert().values(
                merchant_refund_id=refund_id,
                refund_id=gateway_refund_id,
                original_merchant_order_id=order_id,
                amount=amount,
                state="PENDING",
                outcome=outcome,
                request_hash=digest,
                created_at_ms=now,
                settle_at_ms=None if outcome == "PENDING" else now + config.refund_processing_ms,
            )
        )
        return gateway_refund_id

    # -- settlement report -----------------------------------------------------------------------

    def settlement_report(self, day: dt.date) -> str:
        """The CSV PhonePe would settle for `day`: payments paid and refunds completed on it (IST)."""
        start, end = day_bounds_ms(day)
        before = day - dt.timedelta(days=1)
        config = self._config()
        with self._engine.connect() as conn:
            transactions = [*_payments_paid(conn, start, end), *_refunds_completed(conn, start, end)]
            previous = [
                *_payments_paid(conn, *day_bounds_ms(before)),
                *_refunds_completed(conn, *day_bounds_ms(before)),
            ]
        carried = [tx for tx in previous if is_late(config, before, tx.reference_id)]
        return build_report(day, transactions, config, carried)


def _payment_detail(body: dict[str, Any], at: int) -> dict[str, Any]:
    """One attempt as PhonePe lists it under an order's `paymentDetails`."""
    return {
        "transactionId": store.random_id("TX", 18),
        "paymentMode": body.get("paymentMode") or "UPI_INTENT",
        "timestamp": at,
        "amount": body["amount"],
        "state": body["outcome"],
    }


def _validated_refund(body: Any) -> tuple[str, str, int]:
    """The refund id, original order id and amount of a create body, or PhonePe's refusal of the first bad one."""
    if not isinstance(body, dict):
        raise SandboxError(400, "BAD_REQUEST", "body must be a JSON object")
    refund_id = _merchant_id(body, "merchantRefundId")
    order_id = _merchant_id(body, "originalMerchantOrderId")
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < MIN_REFUND_PAISE:
        raise SandboxError(400, "BAD_REQUEST", "amount must be integer paise, at least 100", "amount")
    return refund_id, order_id, amount


def _merchant_id(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not MERCHANT_ID.fullmatch(value):
        raise SandboxError(400, "BAD_REQUEST", f"{name} must be 1-63 characters of [A-Za-z0-9_-]", name)
    return value


def _check_refundable(conn: sa.Connection, order: sa.Row[Any] | None, amount: int) -> None:
    """Only a completed payment is refunded, and never beyond its amount less its refunds not failed."""
    if order is None or order.state != "COMPLETED":
        raise SandboxError(400, "INVALID_TRANSACTION", "the original order is not a completed payment")
    r = store.refunds.c
    refunded = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(r.amount), 0)).where(
            r.original_merchant_order_id == order.merchant_order_id, r.state != "FAILED"
        )
    ).scalar_one()
    if refunded + amount > order.amount:
        raise SandboxError(400, "REFUND_AMOUNT_EXCEEDED", "refunds would exceed the captured amount")


def _refund_body(row: Any) -> dict[str, Any]:
    return {
        "merchantRefundId": row.merchant_refund_id,
        "refundId": row.refund_id,
        "originalMerchantOrderId": row.original_merchant_order_id,
        "amount": row.amount,
        "state": row.state,
        "timestamp": row.completed_at_ms or row.created_at_ms,
    }


def _payments_paid(conn: sa.Connection, start: int, end: int) -> list[Transaction]:
    """Completed payments paid in [start, end), described by their last (the paying) attempt."""
    o = store.orders.c
    rows = conn.execute(
        sa.select(store.orders).where(o.state == "COMPLETED", o.paid_at_ms >= start, o.paid_at_ms < end)
    ).all()
    return [
        Transaction(
            "PAYMENT",
            row.merchant_order_id,
            row.payment_details[-1]["transactionId"],
            row.payer,
            row.payment_details[-1]["paymentMode"],
            row.created_at_ms,
            row.paid_at_ms,
            row.amount,
        )
        for row in rows
    ]


def _refunds_completed(conn: sa.Connection, start: int, end: int) -> list[Transaction]:
    """Refunds completed in [start, end), with the payer and instrument of the order they refund."""
    o, r = store.orders.c, store.refunds.c
    rows = conn.execute(
        sa.select(store.refunds, o.payer, o.payment_details)
        .join(store.orders, o.merchant_order_id == r.original_merchant_order_id)
        .where(r.state == "COMPLETED", r.completed_at_ms >= start, r.completed_at_ms < end)
    ).all()
    return [
        Transaction(
            "REFUND",
            row.merchant_refund_id,
            row.refund_id,
            row.payer,
            row.payment_details[-1]["paymentMode"],
            row.created_at_ms,
            row.completed_at_ms,
            row.amount,
        )
        for row in rows
    ]
