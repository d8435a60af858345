"""Refund state changes, each in the caller's transaction with its ledger entry, subledger rows,
outbox rows and audit row, so a change and everything it causes commit together or not at all.

A request locks its order (`FOR UPDATE`) before reading what is already refunded or in flight, so
concurrent requests for one order serialise and can never together exceed it. A refund changes only
under its own row lock (`FOR NO KEY UPDATE`), so a submission, a status poll, a webhook and finance
never interleave on one refund.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain import money
from domain.fees import schedule
from domain.ledger import entries, posting
from domain.orders import store as order_store
from domain.outbox import events, outbox
from domain.platform import idempotency
from domain.platform.audit import audit, jsonable
from domain.platform.clock import ist_date
from domain.platform.idempotency import Claim
from domain.platform.ids import new_id
from domain.platform.settings import Settings
from domain.platform.sql import statement
from domain.refunds import rules
from domain.refunds.gateway import RefundStatus
from domain.refunds.rules import OrderFacts, RefundPolicy, RefundRuleError
from domain.refunds.tables import order_refunds, refunds
from domain.settlement.tables import captures

SHOWN_COLUMNS = (
    "refund_id",
    "order_id",
    "kind",
    "amount_paise",
    "reason",
    "note",
    "status",
    "approval_reasons",
    "requested_by",
    "decided_by",
    "decision_note",
    "retry_of_refund_id",
    "gateway_refund_id",
    "gateway_state",
    "failure_reason",
    "created_at",
    "decided_at",
    "submitted_at",
    "completed_at",
    "failed_at",
)


def policy_from(settings: Settings) -> RefundPolicy:
    return RefundPolicy(
        min_paise=settings.refund_min_paise,
        window_days=settings.refund_window_days,
        max_per_order=settings.refund_max_per_order,
        approval_threshold_paise=settings.refund_approval_threshold_paise,
    )


@dataclass(frozen=True, slots=True)
class RefundRequest:
    order_id: str
    amount_paise: int
    reason: str
    note: str | None
    requested_by: str
    api_key_id: int | None = None
    idempotency_key: str | None = None

    @property
    def claim(self) -> Claim | None:
        if self.api_key_id is None or self.idempotency_key is None:
            return None
        body = {"order_id": self.order_id, "amount_paise": self.amount_paise, "reason": self.reason, "note": self.note}
        return Claim(self.api_key_id, self.idempotency_key, idempotency.request_hash(body))


def shown(row: Any) -> dict[str, Any]:
    """A refund as the API shows it."""
    values = row._mapping if hasattr(row, "_mapping") else row
    shown_row = {name: values[name] for name in SHOWN_COLUMNS}
    shown_row["approval_reasons"] = list(shown_row["approval_reasons"] or [])
    return shown_row


def _change(row: Any, status: str, failure_reason: str | None = None) -> events.RefundChange:
    return events.RefundChange(
        refund_id=row.refund_id,
        order_id=row.order_id,
        amount_paise=int(row.amount_paise),
        status=status,
        reason=row.reason,
        failure_reason=failure_reason,
    )


# -- reading ----------------------------------------------------------------------------------------


def order_facts(conn: sa.Connection, order_id: str) -> OrderFacts:
    row = conn.execute(statement("refunds/order_facts"), {"order_id": order_id}).one()
    return OrderFacts(**row._mapping)


def get_refund(conn: sa.Connection, refund_id: str) -> sa.Row[Any]:
    row = conn.execute(sa.select(refunds).where(refunds.c.refund_id == refund_id)).first()
    if row is None:
        raise RefundRuleError("refund_not_found", f"There is no refund {refund_id}.")
    return row


def lock_refund(conn: sa.Connection, refund_id: str, *, skip_locked: bool = False) -> sa.Row[Any] | None:
    """The refund under its row lock; None if it does not exist (or, with skip_locked, is busy)."""
    query = sa.select(refunds).where(refunds.c.refund_id == refund_id)
    return conn.execute(query.with_for_update(key_share=True, skip_locked=skip_locked)).first()


def refunds_of_order(conn: sa.Connection, order_id: str) -> Sequence[sa.Row[Any]]:
    return conn.execute(sa.select(refunds).where(refunds.c.order_id == order_id).order_by(refunds.c.refund_id)).all()


def list_refunds(
    conn: sa.Connection,
    *,
    status: str | None = None,
    order_id: str | None = None,
    seller_id: str | None = None,
    kind: str | None = None,
    before_refund_id: str | None = None,
    limit: int = 50,
) -> Sequence[sa.Row[Any]]:
    """Newest first (refund ids are time-ordered), `limit + 1` rows so the caller knows if more follow."""
    query = sa.select(refunds).order_by(refunds.c.refund_id.desc()).limit(limit + 1)
    for column, value in (("status", status), ("order_id", order_id), ("seller_id", seller_id), ("kind", kind)):
        if value is not None:
            query = query.where(refunds.c[column] == value)
    if before_refund_id is not None:
        query = query.where(refunds.c.refund_id < before_refund_id)
    return conn.execute(query).all()


# -- requests and decisions -------------------------------------------------------------------------


def request_refund(
    conn: sa.Connection, request: RefundRequest, policy: RefundPolicy, now: dt.datetime, request_id: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Record a refund request the policy allows; (the first answer, whether this is a replay).

    Requests that need finance's approval wait as `requested`; the others are `approved` and due for
    submission at once. Either way the amount is held against the order from now on.
    """
    order = order_store.lock_order(conn, request.order_id)
    if order is None:
        raise RefundRuleError("order_not_found", f"There is no order {request.order_id}.")
    replayed = idempotency.first_answer(conn, refunds, request.claim)
    if replayed is not None:
        return replayed, True
    facts = order_facts(conn, request.order_id)
    refused = rules.refusal(policy, facts, request.amount_paise, now)
    if refused is not None:
        raise refused
    reasons = rules.approval_reasons(policy, facts, request.amount_paise)
    status = "requested" if reasons else "approved"
    values: dict[str, Any] = {
        "refund_id": new_id("rfd"),
        "order_id": request.order_id,
        "kind": "order",
        "buyer_id": order["buyer_id"],
        "seller_id": order["seller_id"],
        "amount_paise": request.amount_paise,
        "reason": request.reason,
        "note": request.note,
        "status": status,
        "approval_reasons": list(reasons),
        "requested_by": request.requested_by,
        "next_attempt_at": None if reasons else now,
        "created_at": now,
        "updated_at": now,
    }
    first = shown({**{name: None for name in SHOWN_COLUMNS}, **values})
    if not idempotency.insert_claimed(conn, refunds, values, request.claim, first):
        # The same key, first used for another order at this very moment (this order is locked).
        return idempotency.answer_after_race(conn, refunds, request.claim), True
    row = get_refund(conn, values["refund_id"])
    notices = events.refund_changed(_change(row, status), row.buyer_id, requested=True)
    if reasons:
        notices.append(
            events.refund_approval_needed(
                events.RefundApprovalNeeded(
                    refund_id=row.refund_id,
                    order_id=row.order_id,
                    amount_paise=int(row.amount_paise),
                    approval_reasons=list(reasons),
                )
            )
        )
    outbox.write(conn, notices)
    audit(conn, request.requested_by, "refund.request", "refund", row.refund_id, None, first, request_id)
    return jsonable(first), False


def _lock_or_missing(conn: sa.Connection, refund_id: str) -> sa.Row[Any]:
    row = lock_refund(conn, refund_id)
    if row is None:
        raise RefundRuleError("refund_not_found", f"There is no refund {refund_id}.")
    return row


def decide(
    conn: sa.Connection,
    refund_id: str,
    *,
    approve: bool,
    actor: str,
    note: str | None,
    now: dt.datetime,
    request_id: str | None = None,
) -> sa.Row[Any]:
    """Finance approves (due for submission now) or rejects (the amount is released) a waiting refund."""
    row = _lock_or_missing(conn, refund_id)
    if row.status != "requested":
        raise RefundRuleError("refund_not_awaiting_approval", f"Refund {refund_id} is {row.status}, not requested.")
    status = "approved" if approve else "rejected"
    conn.execute(
        sa.update(refunds)
        .where(refunds.c.refund_id == refund_id)
        .values(
            status=status,
            decided_by=actor,
            decision_note=note,
            decided_at=now,
            updated_at=now,
            next_attempt_at=now if approve else None,
        )
    )
    outbox.write(conn, events.refund_changed(_change(row, status), row.buyer_id))
    before, after = {"status": row.status}, {"status": status, "note": note}
    audit(conn, actor, f"refund.{'approve' if approve else 'reject'}", "refund", refund_id, before, after, request_id)
    return get_refund(conn, refund_id)


def retry(
    conn: sa.Connection, refund_id: str, *, actor: str, now: dt.datetime, request_id: str | None = None
) -> sa.Row[Any]:
    """Refund a failed refund's amount again, as a new refund finance has approved by asking.

    Only a failed refund (the gateway said FAILED, refused the create, or never received it) can be
    retried, once; the new one must still fit in what the order can refund.
    """
    failed = _lock_or_missing(conn, refund_id)
    if failed.status != "failed":
        raise RefundRuleError("refund_not_retryable", f"Refund {refund_id} is {failed.status}; only a failed one.")
    order_store.lock_order(conn, failed.order_id)
    already = conn.execute(sa.select(refunds.c.refund_id).where(refunds.c.retry_of_refund_id == refund_id)).scalar()
    if already is not None:
        raise RefundRuleError("refund_already_retried", f"Refund {refund_id} was already retried as {already}.")
    if failed.kind == "order" and order_facts(conn, failed.order_id).refundable_paise < failed.amount_paise:
        raise RefundRuleError("refund_exceeds_refundable", "The order can no longer refund this amount.")
    new_refund_id = new_id("rfd")
    values = {
        name: failed._mapping[name]
        for name in ("order_id", "kind", "buyer_id", "seller_id", "amount_paise", "reason", "note", "approval_reasons")
    }
    conn.execute(
        sa.insert(refunds).values(
            **values,
            refund_id=new_refund_id,
            status="approved",
            requested_by=actor,
            decided_by=actor,
            decision_note=f"retry of {refund_id}",
            decided_at=now,
            retry_of_refund_id=refund_id,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    row = get_refund(conn, new_refund_id)
    outbox.write(conn, events.refund_changed(_change(row, "approved"), row.buyer_id, requested=True))
    after = {"retried_as": new_refund_id}
    audit(conn, actor, "refund.retry", "refund", refund_id, {"status": "failed"}, after, request_id)
    return row


# -- what the gateway says --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GatewayFacts:
    """What the gateway said about a refund, recorded with the change it causes."""

    gateway_refund_id: str | None = None
    gateway_state: str | None = None
    response: dict[str, Any] | None = None


def facts_of(status: RefundStatus) -> GatewayFacts:
    return GatewayFacts(
        gateway_refund_id=status.refund_id,
        gateway_state=status.state,
        response={
            "merchantRefundId": status.merchant_refund_id,
            "refundId": status.refund_id,
            "state": status.state,
            "amount": status.amount_paise,
        },
    )


def _gateway_values(facts: GatewayFacts | None) -> dict[str, Any]:
    if facts is None:
        return {}
    values: dict[str, Any] = {"gateway_state": facts.gateway_state, "gateway_response": facts.response}
    if facts.gateway_refund_id:
        values["gateway_refund_id"] = facts.gateway_refund_id
    return values


@dataclass(frozen=True, slots=True)
class StillWithGateway:
    """A refund the gateway has and is working on (PENDING or CONFIRMED), and when to ask again."""

    refund_id: str
    facts: GatewayFacts
    next_check_at: dt.datetime


def mark_submitted(conn: sa.Connection, waiting: Sequence[StillWithGateway], now: dt.datetime) -> None:
    """Refunds the gateway is working on, in one statement however many: what a create usually hears,
    so a batch of creates records its refunds' states at once. Each must be under its row lock."""
    if not waiting:
        return
    rows = [
        {
            "refund_id": refund.refund_id,
            "gateway_refund_id": refund.facts.gateway_refund_id,
            "gateway_state": refund.facts.gateway_state,
            "gateway_response": refund.facts.response,
            "next_check_at": refund.next_check_at.isoformat(),
        }
        for refund in waiting
    ]
    conn.execute(statement("refunds/mark_submitted"), {"now": now, "refunds": json.dumps(rows)})


def fail(
    conn: sa.Connection, row: sa.Row[Any], reason: str, now: dt.datetime, facts: GatewayFacts | None = None
) -> None:
    """The refund will not happen: its amount is refundable again; the buyer and finance are told."""
    if not rules.can_transition(row.status, "failed"):
        return
    conn.execute(
        sa.update(refunds)
        .where(refunds.c.refund_id == row.refund_id)
        .values(
            status="failed",
            failure_reason=reason[:500],
            failed_at=now,
            updated_at=now,
            next_attempt_at=None,
            next_check_at=None,
            **_gateway_values(facts),
        )
    )
    outbox.write(conn, events.refund_changed(_change(row, "failed", reason[:500]), row.buyer_id))


def complete(conn: sa.Connection, row: sa.Row[Any], facts: GatewayFacts, now: dt.datetime) -> None:
    """The buyer has the money back. In this transaction: the refund's subledger row, its ledger
    entry (DESIGN.md §4), the seller's clawback item, the refund's status and the notices."""
    if not rules.can_transition(row.status, "completed"):
        return
    if row.kind == "order":
        split = _split(conn, row)
        posted = posting.post_entry(conn, entries.refund_completed_entry(row.refund_id, row.seller_id, split))
        fee_reversed, seller_debit = split.platform_fee_reversed_paise, split.seller_clawback_paise
    else:
        posted = posting.post_entry(conn, entries.stray_refund_completed_entry(row.refund_id, int(row.amount_paise)))
        fee_reversed, seller_debit = 0, 0
    day = ist_date(now)
    conn.execute(
        sa.insert(order_refunds).values(
            refund_id=row.refund_id,
            order_id=row.order_id,
            kind=row.kind,
            seller_id=row.seller_id,
            completed_date=day,
            refund_paise=row.amount_paise,
            platform_fee_reversed_paise=fee_reversed,
            seller_debit_paise=seller_debit,
            entry_id=posted.entry_id,
        )
    )
    if seller_debit:
        clawback = {"refund_id": row.refund_id, "seller_id": row.seller_id, "debit_paise": seller_debit}
        conn.execute(statement("refunds/clawback_item"), {**clawback, "day": day, "entry_id": posted.entry_id})
    conn.execute(
        sa.update(refunds)
        .where(refunds.c.refund_id == row.refund_id)
        .values(
            status="completed",
            completed_at=now,
            updated_at=now,
            next_attempt_at=None,
            next_check_at=None,
            submitted_at=sa.func.coalesce(refunds.c.submitted_at, now),
            **_gateway_values(facts),
        )
    )
    completed = events.RefundCompleted(
        refund_id=row.refund_id,
        order_id=row.order_id,
        amount_paise=int(row.amount_paise),
        platform_fee_reversed_paise=fee_reversed,
        seller_debit_paise=seller_debit,
    )
    outbox.write(conn, events.refund_completed(completed, row.buyer_id, row.seller_id if row.kind == "order" else None))


def _split(conn: sa.Connection, row: sa.Row[Any]) -> money.RefundSplit:
    """This refund's share of the order's platform fee: proportional to everything refunded so far,
    less what earlier refunds reversed (DESIGN.md §3), so the pieces add up to the whole fee."""
    gross, platform_fee = _captured_fees(conn, row.order_id)
    earlier = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(order_refunds.c.refund_paise), 0),
            sa.func.coalesce(sa.func.sum(order_refunds.c.platform_fee_reversed_paise), 0),
        ).where(order_refunds.c.order_id == row.order_id, order_refunds.c.kind == "order")
    ).one()
    return money.refund_split(gross, platform_fee, int(row.amount_paise), int(earlier[0]), int(earlier[1]))


def _captured_fees(conn: sa.Connection, order_id: str) -> tuple[int, int]:
    """The order's gross and platform fee: as captured, or, before the night captures it, as the
    capture will compute them (the fee schedule in effect on its IST payment day)."""
    captured = conn.execute(
        sa.select(captures.c.gross_paise, captures.c.platform_fee_paise).where(captures.c.order_id == order_id)
    ).first()
    if captured is not None:
        return int(captured.gross_paise), int(captured.platform_fee_paise)
    order = order_store.lock_order(conn, order_id)
    assert order is not None and order["paid_at"] is not None
    fees = schedule.in_effect(conn, ist_date(order["paid_at"]))
    breakdown = money.fee_breakdown(int(order["amount_paise"]), fees.platform_fee_bps, fees.gateway_fee_bps)
    return breakdown.gross_paise, breakdown.platform_fee_paise
