"""The sandbox playing RazorpayX: payouts (create, idempotent on X-Payout-Idempotency; fetch and list)
and the current account's statement, the counterpart of `gateways.razorpayx`.

Payouts are accepted `processing` and finished later by the worker (this part is a `Settler`), which
sends a `payout.*` webhook for each transition. Outcomes are deterministic: a per-reference override
in the config wins; otherwise a payee whose VPA (or bank account name) contains "fail" fails,
"reverse" is processed then reversed, "pending" stays processing, and one starting with "invalid"
is refused at creation as an unknown payee; anything else is processed.

The statement holds only the settlements' credits (payouts are not debited from it): PhonePe's
report of day D is credited on D + `settlement_lag_days` under the report's own UTR, at the report's
own settled total, read back from the CSV the PhonePe part serves, so the bank and the report agree
to the paisa unless `report_anomalies.transfer_diff` says otherwise for D.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
import structlog

from domain.platform.clock import IST, ist_date
from domain.platform.settings import Settings
from gateways.phonepe.settlement_report import parse_settlement_report
from gateways.sandbox import store
from gateways.sandbox.config import ConfigSource
from gateways.sandbox.errors import SandboxError, bad_request
from gateways.sandbox.outbox import Outbox

log = structlog.get_logger(__name__)

MIN_PAYOUT_PAISE = 100
VPA = re.compile(r"[A-Za-z0-9._-]{2,256}@[A-Za-z]{2,64}")
IFSC = re.compile(r"[A-Z]{4}0[A-Z0-9]{6}")
PAYOUT_MODES = {"UPI", "IMPS", "NEFT", "RTGS"}
PAYOUT_FIELDS = {
    "account_number", "amount", "currency", "mode", "purpose", "fund_account",
    "queue_if_low_balance", "reference_id", "narration", "notes",
}  # fmt: skip
CREDIT_TIME_IST = dt.time(11)  # when a day's settlement lands in the account
PHONEPE_PAYER = {
    "payer_name": "PhonePe Private Limited",
    "payer_account": "9999000011112222",
    "payer_ifsc": "YESB0000001",
}


class RazorpayX:
    """RazorpayX's payout endpoints over the sandbox's payouts table, and the account statement over
    `settlement_report` (the PhonePe part's CSV of a day)."""

    def __init__(
        self,
        settings: Settings,
        engine: sa.Engine,
        outbox: Outbox,
        config: ConfigSource,
        *,
        settlement_report: Callable[[dt.date], str],
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._outbox = outbox
        self._config = config
        self._settlement_report = settlement_report

    def check_basic_auth(self, key_id: str, key_secret: str) -> None:
        """Both halves are compared in constant time, so a refusal tells nothing about which was wrong."""
        settings = self._settings
        ok_id = hmac.compare_digest(key_id.encode(), settings.razorpayx_key_id.encode())
        ok_secret = hmac.compare_digest(key_secret.encode(), settings.razorpayx_key_secret.get_secret_value().encode())
        if not (ok_id and ok_secret):
            raise SandboxError(401, "BAD_REQUEST_ERROR", "The api key provided is invalid")

    def create_payout(self, idempotency_key: str | None, body: Any) -> dict[str, Any]:
        """A new payout, or the one this key made before (counted in `create_calls`) if the body is the same."""
        if not idempotency_key or len(idempotency_key) > 64:
            raise bad_request("X-Payout-Idempotency header is required (1-64 characters)", "X-Payout-Idempotency")
        values = _validated_payout(body, self._settings.razorpayx_account_number)
        digest = store.request_hash(body)
        outcome = self._payout_outcome(values["reference_id"], values["fund_account"])
        new_id = store.random_id("pout_")
        with self._engine.begin() as conn:
            made = store.insert_payout(conn, self._new_row(values, new_id, idempotency_key, digest, outcome))
            row = _payout_of_key(conn, idempotency_key, digest, made)
        if made:
            log.info("sandbox_payout_created", payout_id=new_id, reference_id=values["reference_id"], outcome=outcome)
            self._outbox.wake()
        return payout_entity(row)

    def fetch_payout(self, payout_id: str) -> dict[str, Any]:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(store.payouts).where(store.payouts.c.payout_id == payout_id)).first()
        if row is None:
            raise SandboxError(404, "BAD_REQUEST_ERROR", "The id provided does not exist", "id")
        return payout_entity(row)

    def list_payouts(self, reference_id: str | None, count: int, skip: int) -> dict[str, Any]:
        p = store.payouts.c
        query = sa.select(store.payouts).order_by(p.created_at_ms.desc(), p.payout_id)
        if reference_id is not None:
            query = query.where(p.reference_id == reference_id)
        with self._engine.connect() as conn:
            rows = conn.execute(query.limit(count).offset(skip)).all()
        items = [payout_entity(row) for row in rows]
        return {"entity": "collection", "count": len(items), "items": items}

    def list_transactions(
        self, account_number: str | None, window: tuple[int | None, int | None], count: int, skip: int
    ) -> dict[str, Any]:
        """The statement's transactions created within [from, to] (unix seconds, both inclusive), newest first."""
        if account_number != self._settings.razorpayx_account_number:
            raise bad_request("The account number is invalid", "account_number")
        start, end = window
        items = [
            item
            for item in reversed(self._statement())
            if (start is None or item["created_at"] >= start) and (end is None or item["created_at"] <= end)
        ]
        page = items[skip : skip + count]
        return {"entity": "collection", "count": len(page), "items": page}

    def _statement(self) -> list[dict[str, Any]]:
        """Every settlement credit, oldest first, with the running balance: one per report day whose
        report lists anything and whose transfer (its settled total plus `transfer_diff`) is positive."""
        config = self._config()
        credits: list[dict[str, Any]] = []
        balance = 0
        for day in self._report_days():
            report = parse_settlement_report(self._settlement_report(day), report_date=day)
            amount = report.settled_paise + config.report_anomalies.transfer_diff.get(day.isoformat(), 0)
            if not report.rows or amount <= 0:
                continue
            balance += amount
            value_date = day + dt.timedelta(days=config.settlement_lag_days)
            credits.append(self._credit_entity(value_date, report.rows[0].bank_reference_no, amount, balance))
        return credits

    def _report_days(self) -> list[dt.date]:
        """The days from the first payment paid or refund completed to the day after the last, which
        lists the last day's late ones: the only days whose reports can list anything real."""
        o, r = store.orders.c, store.refunds.c
        paid = sa.select(o.paid_at_ms.label("at")).where(o.state == "COMPLETED")
        refunded = sa.select(r.completed_at_ms.label("at")).where(r.state == "COMPLETED")
        times = sa.union_all(paid, refunded).subquery()
        with self._engine.connect() as conn:
            first_ms, last_ms = conn.execute(sa.select(sa.func.min(times.c.at), sa.func.max(times.c.at))).one()
        if first_ms is None:
            return []
        first, last = (ist_date(dt.datetime.fromtimestamp(ms / 1000, IST)) for ms in (first_ms, last_ms))
        return [first + dt.timedelta(days=n) for n in range((last - first).days + 2)]

    def _credit_entity(self, value_date: dt.date, utr: str, amount: int, balance: int) -> dict[str, Any]:
        """A settlement as RazorpayX lists an incoming bank transfer; its ids follow from the UTR (seed and day)."""
        tag = hashlib.sha256(f"{utr}:credit".encode()).hexdigest()
        created_at = int(dt.datetime.combine(value_date, CREDIT_TIME_IST, IST).timestamp())
        return {
            "id": "txn_" + tag[:14],
            "entity": "transaction",
            "account_number": self._settings.razorpayx_account_number,
            "amount": amount,
            "currency": "INR",
            "credit": amount,
            "debit": 0,
            "balance": balance,
            "source": {
                "id": "bt_" + tag[14:28],
                "entity": "bank_transfer",
                **PHONEPE_PAYER,
                "mode": "NEFT",
                "bank_reference": utr,
                "amount": amount,
            },
            "created_at": created_at,
        }

    def witness(self) -> list[dict[str, Any]]:
        """Every payout with the idempotency key that made it and how many create calls reached it."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(store.payouts).order_by(store.payouts.c.created_at_ms)).all()
        return [
            {**payout_entity(row), "idempotency_key": row.idempotency_key, "create_calls": row.create_calls}
            for row in rows
        ]

    def finish_due(self, conn: sa.Connection, now: int) -> int:
        """Give the payouts whose processing time is up their outcome, and send its webhooks."""
        p = store.payouts.c
        rows = store.claim_due(conn, store.payouts, p.status == "processing", now)
        for row in rows:
            updated = conn.execute(
                store.payouts.update()
                .where(p.payout_id == row.payout_id)
                .values(**_finished_values(row.outcome))
                .returning(store.payouts)
            ).one()
            for event, entity in _transition_events(row.outcome, updated):
                self._outbox.enqueue(conn, "razorpayx", event, row.payout_id, _razorpay_event(event, entity))
        return len(rows)

    def unfinished(self) -> sa.ScalarSelect[int]:
        """Processing payouts with a settlement time; an outcome of processing has none and stays so."""
        p = store.payouts.c
        return sa.select(sa.func.count()).where(p.status == "processing", p.settle_at_ms.is_not(None)).scalar_subquery()

    def _new_row(
        self, values: dict[str, Any], payout_id: str, idempotency_key: str, digest: str, outcome: str
    ) -> dict[str, Any]:
        """The payout as created: processing, due to finish after the configured processing time."""
        now = store.now_ms()
        return {
            **values,
            "payout_id": payout_id,
            "idempotency_key": idempotency_key,
            "request_hash": digest,
            "status": "processing",
            "outcome": outcome,
            "create_calls": 1,
            "created_at_ms": now,
            "settle_at_ms": None if outcome == "processing" else now + self._config().payout_processing_ms,
        }

    def _payout_outcome(self, reference_id: str | None, fund_account: dict[str, Any]) -> str:
        """The config's override for the reference, else the first marker found in the payee's name."""
        overrides = self._config().payout_outcomes
        if reference_id and reference_id in overrides:
            return overrides[reference_id]
        if fund_account["account_type"] == "vpa":
            payee = fund_account["vpa"]["address"].lower()
        else:
            payee = fund_account["bank_account"]["name"].lower()
        for marker, outcome in (("fail", "failed"), ("reverse", "reversed"), ("pending", "processing")):
            if marker in payee:
                return outcome
        return "processed"


def _payout_of_key(conn: sa.Connection, idempotency_key: str, digest: str, made: bool) -> sa.Row[Any]:
    """The payout the key names; a repeat must carry the first call's body and is counted."""
    p = store.payouts.c
    row = conn.execute(sa.select(store.payouts).where(p.idempotency_key == idempotency_key).with_for_update()).one()
    if not made:
        if row.request_hash != digest:
            raise bad_request("Different request body sent for the same Idempotency Header")
        conn.execute(store.payouts.update().where(p.payout_id == row.payout_id).values(create_calls=p.create_calls + 1))
    return row


def _validated_payout(body: Any, account_number: str) -> dict[str, Any]:
    """The payout's columns from a create body, or RazorpayX's refusal of its first bad field."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    unknown = sorted(set(body) - PAYOUT_FIELDS)
    if unknown:
        raise bad_request(f"{unknown[0]} is/are not required and should not be sent", unknown[0])
    if body.get("account_number") != account_number:
        raise bad_request("The account number is invalid", "account_number")
    amount, mode = _amount_and_mode(body)
    purpose, reference_id, narration = _descriptions(body)
    return {
        "reference_id": reference_id,
        "amount": amount,
        "mode": mode,
        "purpose": purpose,
        "narration": narration,
        "fund_account": _validated_fund_account(body.get("fund_account"), mode),
    }


def _amount_and_mode(body: dict[str, Any]) -> tuple[int, str]:
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < MIN_PAYOUT_PAISE:
        raise bad_request("The amount must be integer paise, at least 100", "amount")
    if body.get("currency") != "INR":
        raise bad_request("The currency must be INR", "currency")
    mode = body.get("mode")
    if mode not in PAYOUT_MODES:
        raise bad_request("The mode is invalid", "mode")
    return amount, mode


def _descriptions(body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """The purpose, and the optional reference id and narration, within RazorpayX's lengths."""
    purpose = body.get("purpose")
    if not isinstance(purpose, str) or not purpose:
        raise bad_request("The purpose field is required", "purpose")
    reference_id = body.get("reference_id")
    if reference_id is not None and (not isinstance(reference_id, str) or len(reference_id) > 40):
        raise bad_request("The reference id may not be greater than 40 characters", "reference_id")
    narration = body.get("narration")
    if narration is not None and (not isinstance(narration, str) or len(narration) > 30):
        raise bad_request("The narration may not be greater than 30 characters", "narration")
    return purpose, reference_id, narration


def _validated_fund_account(fund_account: Any, mode: str) -> dict[str, Any]:
    """The fund account as given, once its contact and its VPA or bank account fit the mode."""
    if not isinstance(fund_account, dict):
        raise bad_request("The fund account field is required", "fund_account")
    contact = fund_account.get("contact")
    if not isinstance(contact, dict) or not isinstance(contact.get("name"), str) or not contact["name"]:
        raise bad_request("The contact name field is required", "fund_account.contact.name")
    kind = fund_account.get("account_type")
    if kind == "vpa":
        _check_vpa(fund_account.get("vpa"), mode)
    elif kind == "bank_account":
        _check_bank_account(fund_account.get("bank_account"), mode)
    else:
        raise bad_request("The account type is invalid", "fund_account.account_type")
    return fund_account


def _check_vpa(vpa: Any, mode: str) -> None:
    """A VPA is paid by UPI only; one starting with "invalid" plays an unknown payee."""
    address = vpa.get("address") if isinstance(vpa, dict) else None
    if not isinstance(address, str) or not VPA.fullmatch(address) or address.lower().startswith("invalid"):
        raise bad_request("Invalid VPA. Please enter a valid Virtual Payment Address", "fund_account.vpa.address")
    if mode != "UPI":
        raise bad_request("Payout mode is invalid for a VPA fund account", "mode")


def _check_bank_account(bank: Any, mode: str) -> None:
    """A bank account is paid by IMPS, NEFT or RTGS; a name starting with "invalid" plays an unknown payee."""
    if not isinstance(bank, dict):
        raise bad_request("The bank account field is required", "fund_account.bank_account")
    if not isinstance(bank.get("ifsc"), str) or not IFSC.fullmatch(bank["ifsc"]):
        raise bad_request("The ifsc is invalid", "fund_account.bank_account.ifsc")
    number = bank.get("account_number")
    if not isinstance(number, str) or not number.isdigit() or not 5 <= len(number) <= 35:
        raise bad_request("The account number is invalid", "fund_account.bank_account.account_number")
    name = bank.get("name")
    if not isinstance(name, str) or not name or name.lower().startswith("invalid"):
        raise bad_request("The beneficiary name is invalid", "fund_account.bank_account.name")
    if mode == "UPI":
        raise bad_request("Payout mode is invalid for a bank account", "mode")


def _finished_values(outcome: str) -> dict[str, Any]:
    """The columns a finished payout gets: a UTR once money moved, a reason when it failed or came back."""
    values: dict[str, Any] = {"status": outcome, "settle_at_ms": None}
    if outcome in ("processed", "reversed"):
        values["utr"] = store.random_utr()
    if outcome == "failed":
        values["failure_reason"] = "Payout failed at the beneficiary bank"
    if outcome == "reversed":
        values["failure_reason"] = "Payout reversed by the beneficiary bank"
    return values


def _transition_events(outcome: str, updated: sa.Row[Any]) -> list[tuple[str, dict[str, Any]]]:
    """The webhooks of one finished payout; a reversal is first reported processed, as it was before it came back."""
    events = ["payout.processed", "payout.reversed"] if outcome == "reversed" else [f"payout.{outcome}"]
    entity = payout_entity(updated)
    processed = {**entity, "status": "processed", "failure_reason": None, "status_details": None}
    return [(event, processed if event == "payout.processed" else entity) for event in events]


def payout_entity(row: Any) -> dict[str, Any]:
    """A payout row as RazorpayX's payout entity."""
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
    """The webhook envelope RazorpayX wraps a payout entity in."""
    return {
        "entity": "event",
        "account_id": "acc_sandbox",
        "event": event,
        "contains": ["payout"],
        "payload": {"payout": {"entity": entity}},
        "created_at": int(time.time()),
    }
