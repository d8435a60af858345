"""What the sandbox does behind its HTTP endpoints: the gateways' rules, state changes and webhooks.

Payouts and refunds are accepted in a non-final state and finished later by a background worker,
which also delivers webhooks from the outbox table, so the call that triggered a webhook returns
before it is sent. `wait_idle` lets tests and the demo wait for that work to finish.

Outcomes are deterministic: a per-reference override in the config wins; otherwise a payee whose VPA
(or bank account name) contains "fail" fails, "reverse" is processed then reversed, "pending" stays
processing, and "invalid" is refused at creation as an unknown payee; anything else is processed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
import sqlalchemy as sa
import structlog

from domain.platform.settings import Settings
from gateways.phonepe.webhooks import v2_authorization
from gateways.razorpayx.webhooks import signature
from gateways.sandbox import store
from gateways.sandbox.config import SandboxConfig
from gateways.sandbox.report import Transaction, build_report, day_bounds_ms

log = structlog.get_logger(__name__)

TOKEN_LIFETIME_S = 3600
MIN_PAYOUT_PAISE = 100
VPA = re.compile(r"[A-Za-z0-9._-]{2,256}@[A-Za-z]{2,64}")
IFSC = re.compile(r"[A-Z]{4}0[A-Z0-9]{6}")
MERCHANT_ID = re.compile(r"[A-Za-z0-9_-]{1,63}")
PAYOUT_MODES = {"UPI", "IMPS", "NEFT", "RTGS"}


def _claim_due(conn: sa.Connection, table: sa.Table, waiting: sa.ColumnElement[bool], now: int) -> list[sa.Row[Any]]:
    """Up to 100 rows whose simulated settlement is due, oldest first, locked so that two sandbox
    workers never finish the same one."""
    return list(
        conn.execute(
            sa.select(table)
            .where(waiting, table.c.settle_at_ms <= now)
            .order_by(table.c.settle_at_ms)
            .limit(100)
            .with_for_update(skip_locked=True)
        ).all()
    )


class SandboxError(Exception):
    """A refusal the endpoint renders in its gateway's error format."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def _bad(message: str, field: str | None = None) -> SandboxError:
    return SandboxError(400, "BAD_REQUEST_ERROR", message, field)


@dataclass
class _Delivery:
    webhook_id: int
    gateway: str
    event_id: str
    url: str
    body: str
    attempts: int


class Sandbox:
    def __init__(self, settings: Settings, engine: sa.Engine, config: SandboxConfig) -> None:
        self.settings = settings
        self.engine = engine
        self.initial_config = config
        self.config = config
        self._token_key = hashlib.sha256(b"sandbox-token:" + _secret(settings.phonepe_client_secret)).digest()
        self._wake = threading.Event()
        self._work_lock = threading.Lock()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._http = requests.Session()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        store.create_schema(self.engine)
        self._stop.clear()
        self._worker = threading.Thread(target=self._run_worker, name="sandbox-worker", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=10)
        self._http.close()

    def reset(self) -> None:
        """Forget everything; the worker is paused meanwhile, and a deadlock with a late request is retried."""
        with self._work_lock:
            for attempt in range(5):
                try:
                    with self.engine.begin() as conn:
                        store.truncate_all(conn)
                    break
                except sa.exc.OperationalError:
                    if attempt == 4:
                        raise
                    time.sleep(0.05)
            self.config = self.initial_config

    def update_config(self, changes: dict[str, Any]) -> SandboxConfig:
        self.config = SandboxConfig.model_validate({**self.config.model_dump(), **changes})
        self._wake.set()
        return self.config

    # -- PhonePe ---------------------------------------------------------------------------------

    def issue_token(self, form: dict[str, str]) -> dict[str, Any]:
        settings = self.settings
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

    def simulate_payment(self, body: dict[str, Any]) -> dict[str, Any]:
        """A buyer pays (or fails to pay) an order; sends the PhonePe v2 webhook unless still pending."""
        order_id = body["merchantOrderId"]
        amount, outcome = body["amount"], body["outcome"]
        at = body.get("paidAtMs") or store.now_ms()
        detail = {
            "transactionId": store.random_id("TX", 18),
            "paymentMode": body.get("paymentMode") or "UPI_INTENT",
            "timestamp": at,
            "amount": amount,
            "state": outcome,
        }
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(store.orders).where(store.orders.c.merchant_order_id == order_id).with_for_update()
            ).first()
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
            else:
                if row.state == "COMPLETED":
                    raise SandboxError(409, "ORDER_ALREADY_COMPLETED", "the order is already paid")
                if row.amount != amount:
                    raise _bad("amount differs from the order's earlier attempts", "amount")
                conn.execute(
                    store.orders.update()
                    .where(store.orders.c.merchant_order_id == order_id)
                    .values(
                        state=outcome,
                        payment_details=[*row.payment_details, detail],
                        paid_at_ms=at if outcome == "COMPLETED" else None,
                    )
                )
            status = self._order_body(conn, order_id)
            if outcome != "PENDING":
                event = "checkout.order.completed" if outcome == "COMPLETED" else "checkout.order.failed"
                payload = {key: status[key] for key in ("orderId", "state", "amount", "paymentDetails")}
                payload["merchantOrderId"] = order_id
                self._enqueue(conn, "phonepe", event, order_id, {"event": event, "payload": payload})
        return status

    def order_status(self, merchant_order_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return self._order_body(conn, merchant_order_id)

    def _order_body(self, conn: sa.Connection, merchant_order_id: str) -> dict[str, Any]:
        row = conn.execute(sa.select(store.orders).where(store.orders.c.merchant_order_id == merchant_order_id)).first()
        if row is None:
            raise SandboxError(404, "ORDER_NOT_FOUND", "no such order")
        return {
            "orderId": row.order_id,
            "state": row.state,
            "amount": row.amount,
            "expireAt": row.created_at_ms + 20 * 60 * 1000,
            "paymentDetails": row.payment_details,
        }

    def create_refund(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise SandboxError(400, "BAD_REQUEST", "body must be a JSON object")
        refund_id, order_id, amount = (
            body.get("merchantRefundId"),
            body.get("originalMerchantOrderId"),
            body.get("amount"),
        )
        for name, value in (("merchantRefundId", refund_id), ("originalMerchantOrderId", order_id)):
            if not isinstance(value, str) or not MERCHANT_ID.fullmatch(value):
                raise SandboxError(400, "BAD_REQUEST", f"{name} must be 1-63 characters of [A-Za-z0-9_-]", name)
        assert isinstance(refund_id, str)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 100:
            raise SandboxError(400, "BAD_REQUEST", "amount must be integer paise, at least 100", "amount")
        digest = store.request_hash(body)
        with self.engine.begin() as conn:
            order = conn.execute(
                sa.select(store.orders).where(store.orders.c.merchant_order_id == order_id).with_for_update()
            ).first()
            existing = conn.execute(
                sa.select(store.refunds).where(store.refunds.c.merchant_refund_id == refund_id)
            ).first()
            if existing is not None:
                if existing.request_hash != digest:
                    raise SandboxError(400, "DUPLICATE_REQUEST", "merchantRefundId already used for another refund")
                return {"refundId": existing.refund_id, "amount": existing.amount, "state": existing.state}
            if order is None or order.state != "COMPLETED":
                raise SandboxError(400, "INVALID_TRANSACTION", "the original order is not a completed payment")
            refunded = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(store.refunds.c.amount), 0)).where(
                    store.refunds.c.original_merchant_order_id == order_id, store.refunds.c.state != "FAILED"
                )
            ).scalar_one()
            if refunded + amount > order.amount:
                raise SandboxError(400, "REFUND_AMOUNT_EXCEEDED", "refunds would exceed the captured amount")
            outcome = self.config.refund_outcomes.get(refund_id) or (
                "FAILED" if "fail" in refund_id.lower() else "COMPLETED"
            )
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
                    settle_at_ms=None if outcome == "PENDING" else now + self.config.refund_processing_ms,
                )
            )
        self._wake.set()
        return {"refundId": gateway_refund_id, "amount": amount, "state": "PENDING"}

    def refund_status(self, merchant_refund_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(store.refunds).where(store.refunds.c.merchant_refund_id == merchant_refund_id)
            ).first()
        if row is None:
            raise SandboxError(404, "REFUND_NOT_FOUND", "no such refund")
        return self._refund_body(row)

    @staticmethod
    def _refund_body(row: Any) -> dict[str, Any]:
        return {
            "merchantRefundId": row.merchant_refund_id,
            "refundId": row.refund_id,
            "originalMerchantOrderId": row.original_merchant_order_id,
            "amount": row.amount,
            "state": row.state,
            "timestamp": row.completed_at_ms or row.created_at_ms,
        }

    def settlement_report(self, day: dt.date) -> str:
        start, end = day_bounds_ms(day)
        o, r = store.orders.c, store.refunds.c
        with self.engine.connect() as conn:
            paid = conn.execute(
                sa.select(store.orders).where(o.state == "COMPLETED", o.paid_at_ms >= start, o.paid_at_ms < end)
            ).all()
            refunded = conn.execute(
                sa.select(store.refunds, o.payer, o.payment_details)
                .join(store.orders, o.merchant_order_id == r.original_merchant_order_id)
                .where(r.state == "COMPLETED", r.completed_at_ms >= start, r.completed_at_ms < end)
            ).all()
        transactions = [
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
            for row in paid
        ]
        transactions += [
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
            for row in refunded
        ]
        return build_report(day, transactions, self.config)

    # -- RazorpayX -------------------------------------------------------------------------------

    def check_basic_auth(self, key_id: str, key_secret: str) -> None:
        ok_id = hmac.compare_digest(key_id.encode(), self.settings.razorpayx_key_id.encode())
        ok_secret = hmac.compare_digest(key_secret.encode(), _secret(self.settings.razorpayx_key_secret))
        if not (ok_id and ok_secret):
            raise SandboxError(401, "BAD_REQUEST_ERROR", "The api key provided is invalid")

    def create_payout(self, idempotency_key: str | None, body: Any) -> dict[str, Any]:
        if not idempotency_key or len(idempotency_key) > 64:
            raise _bad("X-Payout-Idempotency header is required (1-64 characters)", "X-Payout-Idempotency")
        values = self._validated_payout(body)
        digest = store.request_hash(body)
        now = store.now_ms()
        outcome = self._payout_outcome(values["reference_id"], values["fund_account"])
        new_id = store.random_id("pout_")
        with self.engine.begin() as conn:
            made = store.insert_payout(
                conn,
                {
                    **values,
                    "payout_id": new_id,
                    "idempotency_key": idempotency_key,
                    "request_hash": digest,
                    "status": "processing",
                    "outcome": outcome,
                    "create_calls": 1,
                    "created_at_ms": now,
                    "settle_at_ms": None if outcome == "processing" else now + self.config.payout_processing_ms,
                },
            )
            p = store.payouts.c
            row = conn.execute(
                sa.select(store.payouts).where(p.idempotency_key == idempotency_key).with_for_update()
            ).one()
            if not made:
                if row.request_hash != digest:
                    raise _bad("Different request body sent for the same Idempotency Header")
                conn.execute(
                    store.payouts.update().where(p.payout_id == row.payout_id).values(create_calls=p.create_calls + 1)
                )
        if made:
            log.info("sandbox_payout_created", payout_id=new_id, reference_id=values["reference_id"], outcome=outcome)
            self._wake.set()
        return payout_entity(row)

    def _validated_payout(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _bad("The request body must be a JSON object")
        known = {
            "account_number", "amount", "currency", "mode", "purpose", "fund_account",
            "queue_if_low_balance", "reference_id", "narration", "notes",
        }  # fmt: skip
        unknown = sorted(set(body) - known)
        if unknown:
            raise _bad(f"{unknown[0]} is/are not required and should not be sent", unknown[0])
        if body.get("account_number") != self.settings.razorpayx_account_number:
            raise _bad("The account number is invalid", "account_number")
        amount = body.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < MIN_PAYOUT_PAISE:
            raise _bad("The amount must be integer paise, at least 100", "amount")
        if body.get("currency") != "INR":
            raise _bad("The currency must be INR", "currency")
        mode = body.get("mode")
        if mode not in PAYOUT_MODES:
            raise _bad("The mode is invalid", "mode")
        purpose = body.get("purpose")
        if not isinstance(purpose, str) or not purpose:
            raise _bad("The purpose field is required", "purpose")
        reference_id = body.get("reference_id")
        if reference_id is not None and (not isinstance(reference_id, str) or len(reference_id) > 40):
            raise _bad("The reference id may not be greater than 40 characters", "reference_id")
        narration = body.get("narration")
        if narration is not None and (not isinstance(narration, str) or len(narration) > 30):
            raise _bad("The narration may not be greater than 30 characters", "narration")
        fund_account = body.get("fund_account")
        if not isinstance(fund_account, dict):
            raise _bad("The fund account field is required", "fund_account")
        contact = fund_account.get("contact")
        if not isinstance(contact, dict) or not isinstance(contact.get("name"), str) or not contact["name"]:
            raise _bad("The contact name field is required", "fund_account.contact.name")
        kind = fund_account.get("account_type")
        if kind == "vpa":
            vpa = fund_account.get("vpa")
            address = vpa.get("address") if isinstance(vpa, dict) else None
            if not isinstance(address, str) or not VPA.fullmatch(address) or address.lower().startswith("invalid"):
                raise _bad("Invalid VPA. Please enter a valid Virtual Payment Address", "fund_account.vpa.address")
            if mode != "UPI":
                raise _bad("Payout mode is invalid for a VPA fund account", "mode")
        elif kind == "bank_account":
            bank = fund_account.get("bank_account")
            if not isinstance(bank, dict):
                raise _bad("The bank account field is required", "fund_account.bank_account")
            if not isinstance(bank.get("ifsc"), str) or not IFSC.fullmatch(bank["ifsc"]):
                raise _bad("The ifsc is invalid", "fund_account.bank_account.ifsc")
            number = bank.get("account_number")
            if not isinstance(number, str) or not number.isdigit() or not 5 <= len(number) <= 35:
                raise _bad("The account number is invalid", "fund_account.bank_account.account_number")
            name = bank.get("name")
            if not isinstance(name, str) or not name or name.lower().startswith("invalid"):
                raise _bad("The beneficiary name is invalid", "fund_account.bank_account.name")
            if mode == "UPI":
                raise _bad("Payout mode is invalid for a bank account", "mode")
        else:
            raise _bad("The account type is invalid", "fund_account.account_type")
        return {
            "reference_id": reference_id,
            "amount": amount,
            "mode": mode,
            "purpose": purpose,
            "narration": narration,
            "fund_account": fund_account,
        }

    def _payout_outcome(self, reference_id: str | None, fund_account: dict[str, Any]) -> str:
        if reference_id and reference_id in self.config.payout_outcomes:
            return self.config.payout_outcomes[reference_id]
        if fund_account["account_type"] == "vpa":
            payee = fund_account["vpa"]["address"].lower()
        else:
            payee = fund_account["bank_account"]["name"].lower()
        for marker, outcome in (("fail", "failed"), ("reverse", "reversed"), ("pending", "processing")):
            if marker in payee:
                return outcome
        return "processed"

    def fetch_payout(self, payout_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(store.payouts).where(store.payouts.c.payout_id == payout_id)).first()
        if row is None:
            raise SandboxError(404, "BAD_REQUEST_ERROR", "The id provided does not exist", "id")
        return payout_entity(row)

    def list_payouts(self, reference_id: str | None, count: int, skip: int) -> dict[str, Any]:
        query = sa.select(store.payouts).order_by(store.payouts.c.created_at_ms.desc(), store.payouts.c.payout_id)
        if reference_id is not None:
            query = query.where(store.payouts.c.reference_id == reference_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(count).offset(skip)).all()
        items = [payout_entity(row) for row in rows]
        return {"entity": "collection", "count": len(items), "items": items}

    # -- admin views -----------------------------------------------------------------------------

    def payouts_witness(self) -> list[dict[str, Any]]:
        """Every payout with the idempotency key that made it and how many create calls reached it."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(store.payouts).order_by(store.payouts.c.created_at_ms)).all()
        return [
            {**payout_entity(row), "idempotency_key": row.idempotency_key, "create_calls": row.create_calls}
            for row in rows
        ]

    def refunds_view(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(store.refunds).order_by(store.refunds.c.created_at_ms)).all()
        return [self._refund_body(row) for row in rows]

    def webhooks_view(self) -> list[dict[str, Any]]:
        w = store.webhooks.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(store.webhooks).order_by(w.webhook_id)).all()
        return [
            {
                "webhook_id": row.webhook_id,
                "gateway": row.gateway,
                "event": row.event,
                "event_id": row.event_id,
                "subject": row.subject,
                "url": row.url,
                "attempts": row.attempts,
                "delivered": row.delivered_at_ms is not None,
                "delivered_at_ms": row.delivered_at_ms,
                "last_status": row.last_status,
                "last_error": row.last_error,
            }
            for row in rows
        ]

    # -- background work -------------------------------------------------------------------------

    def _enqueue(self, conn: sa.Connection, gateway: str, event: str, subject: str, body: dict[str, Any]) -> None:
        config = self.config
        url = config.phonepe_webhook_url if gateway == "phonepe" else config.razorpayx_webhook_url
        event_id = store.random_id("evt_")
        now = store.now_ms()
        copies = (
            2 if random.Random(f"{config.seed}:duplicate:{event_id}").random() < config.webhook_duplicate_rate else 1
        )
        row: dict[str, Any] = {
            "gateway": gateway,
            "event": event,
            "event_id": event_id,
            "subject": subject,
            "url": url,
            "body": json.dumps(body, separators=(",", ":")),
            "headers": {},
            "due_at_ms": now + config.webhook_delay_ms,
            "created_at_ms": now,
            "last_error": None if url else "no webhook URL configured",
        }
        conn.execute(store.webhooks.insert(), [row] * copies)
        self._wake.set()

    def pending_work(self) -> int:
        p, r, w = store.payouts.c, store.refunds.c, store.webhooks.c
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(
                        sa.select(sa.func.count())
                        .where(p.status == "processing", p.settle_at_ms.is_not(None))
                        .scalar_subquery()
                        + sa.select(sa.func.count())
                        .where(r.state == "PENDING", r.settle_at_ms.is_not(None))
                        .scalar_subquery()
                        + sa.select(sa.func.count())
                        .where(
                            w.url.is_not(None),
                            w.delivered_at_ms.is_(None),
                            w.attempts < self.config.webhook_max_attempts,
                        )
                        .scalar_subquery()
                    )
                ).scalar_one()
            )

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until no payout, refund or webhook is waiting; False if `timeout_s` passed first."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._wake.set()
            if self.pending_work() == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def _run_worker(self) -> None:
        while not self._stop.is_set():
            try:
                with self._work_lock:
                    busy = self.tick()
            except Exception:
                log.exception("sandbox_worker_failed")
                busy = False
                self._stop.wait(0.5)
            if not busy:
                self._wake.wait(0.05)
                self._wake.clear()

    def tick(self) -> bool:
        """Finish due payouts and refunds, then deliver due webhooks; True if anything happened."""
        now = store.now_ms()
        with self.engine.begin() as conn:
            finished = self._finish_payouts(conn, now) + self._finish_refunds(conn, now)
        deliveries = self._due_deliveries(now)
        for delivery in deliveries:
            if self._stop.is_set():
                break
            self._deliver(delivery)
        return bool(finished or deliveries)

    def _finish_payouts(self, conn: sa.Connection, now: int) -> int:
        p = store.payouts.c
        rows = _claim_due(conn, store.payouts, p.status == "processing", now)
        for row in rows:
            values: dict[str, Any] = {"status": row.outcome, "settle_at_ms": None}
            if row.outcome in ("processed", "reversed"):
                values["utr"] = store.random_utr()
            if row.outcome == "failed":
                values["failure_reason"] = "Payout failed at the beneficiary bank"
            if row.outcome == "reversed":
                values["failure_reason"] = "Payout reversed by the beneficiary bank"
            updated = conn.execute(
                store.payouts.update().where(p.payout_id == row.payout_id).values(**values).returning(store.payouts)
            ).one()
            events = ["payout.processed", "payout.reversed"] if row.outcome == "reversed" else [f"payout.{row.outcome}"]
            for event in events:
                entity = payout_entity(updated)
                if event == "payout.processed":
                    entity = {**entity, "status": "processed", "failure_reason": None, "status_details": None}
                self._enqueue(conn, "razorpayx", event, row.payout_id, _razorpay_event(event, entity))
        return len(rows)

    def _finish_refunds(self, conn: sa.Connection, now: int) -> int:
        r = store.refunds.c
        rows = _claim_due(conn, store.refunds, r.state == "PENDING", now)
        for row in rows:
            updated = conn.execute(
                store.refunds.update()
                .where(r.merchant_refund_id == row.merchant_refund_id)
                .values(state=row.outcome, settle_at_ms=None, completed_at_ms=now)
                .returning(store.refunds)
            ).one()
            event = "pg.refund.completed" if row.outcome == "COMPLETED" else "pg.refund.failed"
            body = {"event": event, "payload": self._refund_body(updated)}
            self._enqueue(conn, "phonepe", event, row.merchant_refund_id, body)
        return len(rows)

    def _due_deliveries(self, now: int) -> list[_Delivery]:
        """Due webhooks, oldest first; out of order, the whole backlog newest first once all of it is due."""
        w = store.webhooks.c
        out_of_order = self.config.webhook_out_of_order
        pending = sa.and_(
            w.url.is_not(None), w.delivered_at_ms.is_(None), w.attempts < self.config.webhook_max_attempts
        )
        with self.engine.connect() as conn:
            if out_of_order:
                latest = conn.execute(sa.select(sa.func.max(w.due_at_ms)).where(pending)).scalar_one()
                if latest is None or latest > now:
                    return []
            rows = conn.execute(
                sa.select(w.webhook_id, w.gateway, w.event_id, w.url, w.body, w.attempts)
                .where(pending, w.due_at_ms <= now)
                .order_by(w.webhook_id.desc() if out_of_order else w.webhook_id)
                .limit(100)
            ).all()
        return [_Delivery(*row) for row in rows]

    def _deliver(self, delivery: _Delivery) -> None:
        raw = delivery.body.encode()
        headers = {"Content-Type": "application/json"}
        if delivery.gateway == "phonepe":
            headers["Authorization"] = v2_authorization(
                self.settings.phonepe_webhook_username, self.settings.phonepe_webhook_password.get_secret_value()
            )
        else:
            headers["X-Razorpay-Signature"] = signature(self.settings.razorpayx_webhook_secret.get_secret_value(), raw)
            headers["X-Razorpay-Event-Id"] = delivery.event_id
        status: int | None = None
        error: str | None = None
        try:
            response = self._http.post(delivery.url, data=raw, headers=headers, timeout=self.config.webhook_timeout_s)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except requests.RequestException as exc:
            error = type(exc).__name__
        now = store.now_ms()
        values: dict[str, Any] = {"attempts": delivery.attempts + 1, "last_status": status, "last_error": error}
        if error is None:
            values["delivered_at_ms"] = now
        else:
            values["due_at_ms"] = now + self.config.webhook_retry_ms * 2**delivery.attempts
        with self.engine.begin() as conn:
            conn.execute(
                store.webhooks.update().where(store.webhooks.c.webhook_id == delivery.webhook_id).values(**values)
            )
        log.info(
            "sandbox_webhook", gateway=delivery.gateway, webhook_id=delivery.webhook_id, status=status, error=error
        )


def payout_entity(row: Any) -> dict[str, Any]:
    failed = row.status in ("failed", "reversed")
    return {
        "id": row.payout_id,
        "entity": "payout",
        "fund_account_id": "fa_" + store.request_hash(row.fund_account)[:14],
        "fund_account": row.fund_account,
        "amount": row.amount,
        "currency": "INR",
        "fees": 0,
        "tax": 0,
        "status": row.status,
        "purpose": row.purpose,
        "utr": row.utr,
        "mode": row.mode,
        "reference_id": row.reference_id,
        "narration": row.narration,
        "batch_id": None,
        "failure_reason": row.failure_reason,
        "created_at": row.created_at_ms // 1000,
        "status_details": (
            {"reason": "bank_failure", "description": row.failure_reason, "source": "beneficiary_bank"}
            if failed
            else None
        ),
    }


def _razorpay_event(event: str, entity: dict[str, Any]) -> dict[str, Any]:
    return {
        "entity": "event",
        "account_id": "acc_sandbox",
        "event": event,
        "contains": ["payout"],
        "payload": {"payout": {"entity": entity}},
        "created_at": int(time.time()),
    }


def _secret(value: Any) -> bytes:
    return str(value.get_secret_value()).encode()
