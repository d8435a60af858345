"""Payouts in PostgreSQL: balances, state changes with their ledger postings and outbox rows, and the
finance controls (cancel, retry, hold, scout withdrawals) shared by the admin API and the Dagster jobs.

Callers own the transaction. A payout changes only under its row lock, taken `FOR NO KEY UPDATE`: the
submission job holds that lock for the whole of a gateway call while a second connection commits the
attempt row (whose foreign key needs the weaker KEY SHARE lock, which `FOR UPDATE` would block). So a
webhook, a status poll, a submission and a finance action never interleave on one payout. Creating
payouts (batch, retry, withdrawal request) is serialised by one transaction-level advisory lock, so a
balance is never allotted twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from domain.fees import schedule
from domain.ledger import entries, posting
from domain.outbox import events, outbox
from domain.payouts.rules import (
    MONEY_RETURNED,
    PayeeBalance,
    PayoutRuleError,
    path_to,
    require_transition,
    withdrawal_problem,
)
from domain.payouts.tables import payee_holds, payouts, scout_payout_requests
from domain.platform import idempotency
from domain.platform.audit import audit, jsonable
from domain.platform.idempotency import Claim
from domain.platform.ids import new_id
from domain.platform.sql import statement
from domain.users.tables import users

CREATION_LOCK = sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("payout_creation")))


def lock_creation(conn: sa.Connection) -> None:
    conn.execute(CREATION_LOCK)


def payee_balance(conn: sa.Connection, payee_id: str) -> PayeeBalance:
    role = conn.execute(sa.select(users.c.role).where(users.c.user_id == payee_id)).scalar()
    owed = posting.payee_balance(conn, role, payee_id) if role in ("seller", "scout") else 0
    row = conn.execute(statement("payouts/balance"), {"payee_id": payee_id, "owed_paise": owed}).one()
    return PayeeBalance(*(int(value) for value in row))


def min_payout_paise(conn: sa.Connection, day: dt.date) -> int:
    return schedule.in_effect(conn, day).min_payout_paise


def active_hold(conn: sa.Connection, payee_id: str) -> sa.Row[Any] | None:
    return conn.execute(
        sa.select(payee_holds).where(payee_holds.c.payee_id == payee_id, payee_holds.c.released_at.is_(None))
    ).first()


def payee_exists(conn: sa.Connection, payee_id: str) -> bool:
    return conn.execute(sa.select(users.c.user_id).where(users.c.user_id == payee_id)).first() is not None


def get_payout(conn: sa.Connection, payout_id: str) -> sa.Row[Any]:
    row = conn.execute(sa.select(payouts).where(payouts.c.payout_id == payout_id)).first()
    if row is None:
        raise PayoutRuleError("payout_not_found", f"no payout {payout_id}")
    return row


def lock_payout(conn: sa.Connection, payout_id: str, *, skip_locked: bool = False) -> sa.Row[Any] | None:
    """The payout under its row lock; None if it does not exist (or, with skip_locked, is busy)."""
    query = sa.select(payouts).where(payouts.c.payout_id == payout_id)
    return conn.execute(query.with_for_update(key_share=True, skip_locked=skip_locked)).first()


def lock_payout_or_busy(conn: sa.Connection, payout_id: str) -> sa.Row[Any]:
    """For finance actions: refuse at once (409) while a submission holds the payout."""
    exists = conn.execute(sa.select(payouts.c.payout_id).where(payouts.c.payout_id == payout_id)).first()
    if exists is None:
        raise PayoutRuleError("payout_not_found", f"no payout {payout_id}")
    row = lock_payout(conn, payout_id, skip_locked=True)
    if row is None:
        raise PayoutRuleError("payout_busy", "the payout is being submitted right now; try again shortly")
    return row


@dataclass(frozen=True, slots=True)
class GatewayFacts:
    """What the gateway said about a payout, recorded with the state change it causes."""

    gateway_payout_id: str | None = None
    gateway_status: str | None = None
    utr: str | None = None
    failure_reason: str | None = None
    response: Mapping[str, Any] | None = None


_STEP_TIMES = {
    "processing": "submitted_at",
    "completed": "processed_at",
    "failed": "failed_at",
    "cancelled": "cancelled_at",
    "reversed": "reversed_at",
}


def _step_entry(step: str, payout: sa.Row[Any]) -> entries.Entry | None:
    args = (payout.payout_id, payout.payee_type, payout.payee_id, payout.amount_paise)
    if step == "completed":
        return entries.payout_completed_entry(payout.payout_id, payout.amount_paise)
    if step == "failed":
        return entries.payout_failed_entry(*args)
    if step == "cancelled":
        return entries.payout_cancelled_entry(*args)
    if step == "reversed":
        return entries.payout_reversed_entry(*args)
    return None


def transition(
    conn: sa.Connection,
    payout: sa.Row[Any],
    target: str,
    *,
    failure_reason: str | None = None,
    facts: GatewayFacts | None = None,
    also: Mapping[str, Any] | None = None,
) -> tuple[str, ...]:
    """Move a locked payout to `target` (through any step an out-of-order answer skipped).

    Posts the ledger entry of each step, releases the items of a payout whose money came back (so the
    next batch pays them again), and writes the outbox rows, all in the caller's transaction. `also`
    are further column values written in the same UPDATE. Returns the steps taken; none when the
    payout is already there or further along.
    """
    steps = path_to(payout.status, target)
    values: dict[str, Any] = {"updated_at": sa.func.now(), **(also or {})}
    if facts is not None:
        if facts.gateway_payout_id and payout.gateway_payout_id is None:
            values["gateway_payout_id"] = facts.gateway_payout_id
        if facts.gateway_status:
            values["gateway_status"] = facts.gateway_status
        if facts.utr:
            values["utr"] = facts.utr
        if facts.response is not None:
            values["gateway_response"] = jsonable(facts.response)
    reason = failure_reason or (facts.failure_reason if facts else None)
    for step in steps:
        entry = _step_entry(step, payout)
        if entry is not None:
            posting.post_entry(conn, entry)
        values[_STEP_TIMES[step]] = sa.func.coalesce(getattr(payouts.c, _STEP_TIMES[step]), sa.func.now())
        if step in MONEY_RETURNED:
            values["failure_reason"] = reason or step
            conn.execute(statement("payouts/release_items"), {"payout_id": payout.payout_id})
        _notify(conn, payout, step, reason)
    if steps:
        values["status"] = steps[-1]
    conn.execute(sa.update(payouts).where(payouts.c.payout_id == payout.payout_id).values(**values))
    return steps


def _notify(conn: sa.Connection, payout: sa.Row[Any], step: str, reason: str | None) -> None:
    """Outbox rows for the payee (and finance when money came back unpaid), deduplicated per step."""
    if step not in events.PAYOUT_STEP_EVENTS:
        return
    change = events.PayoutChange(
        payout_id=payout.payout_id,
        payee_type=payout.payee_type,
        payee_id=payout.payee_id,
        amount_paise=payout.amount_paise,
        status=step,
        failure_reason=reason,
    )
    outbox.write(conn, events.payout_changed(change))


def _unresolved_attempts(conn: sa.Connection, payout_id: str) -> int:
    return int(conn.execute(statement("payouts/unresolved_attempts"), {"payout_id": payout_id}).scalar_one())


def cancel_payout(conn: sa.Connection, payout_id: str, actor: str, reason: str, request_id: str | None = None) -> str:
    """Cancel a pending payout the gateway has not taken; its money returns to the payee's balance."""
    payout = lock_payout_or_busy(conn, payout_id)
    require_transition(payout.status, "cancelled")
    if _unresolved_attempts(conn, payout_id):
        raise PayoutRuleError(
            "payout_outcome_unknown",
            "a gateway call for this payout has no known outcome; the submission job resolves it first",
        )
    transition(conn, payout, "cancelled", failure_reason=f"cancelled by {actor}: {reason}"[:500])
    audit(
        conn,
        actor,
        "payout.cancel",
        "payout",
        payout_id,
        {"status": payout.status},
        {"status": "cancelled"},
        request_id,
    )
    return "cancelled"


def retry_payout(conn: sa.Connection, payout_id: str, actor: str, today: dt.date, request_id: str | None = None) -> str:
    """Retry now: a waiting payout becomes due at once; a failed one is paid again as a new payout.

    Returns the id of the payout that will be attempted. The new payout covers the failed one's items
    that no other payout has covered since, to the payee's current destination.
    """
    payout = lock_payout_or_busy(conn, payout_id)
    if payout.status == "pending":
        conn.execute(sa.update(payouts).where(payouts.c.payout_id == payout_id).values(next_attempt_at=sa.func.now()))
        audit(conn, actor, "payout.retry_now", "payout", payout_id, {"status": "pending"}, {"due": "now"}, request_id)
        return payout_id
    if payout.status != "failed":
        raise PayoutRuleError("illegal_payout_transition", f"a {payout.status} payout cannot be retried")
    lock_creation(conn)
    already = conn.execute(sa.select(payouts.c.payout_id).where(payouts.c.retry_of_payout_id == payout_id)).scalar()
    if already is not None:
        raise PayoutRuleError("payout_already_retried", f"payout {payout_id} was already retried as {already}")
    user = _payable_user(conn, payout.payee_id)
    items = conn.execute(statement("payouts/retry_items"), {"payout_id": payout_id}).all()
    amount = sum(int(item.amount_paise) for item in items)
    minimum = min_payout_paise(conn, today)
    if amount < minimum:
        raise PayoutRuleError(
            "payout_below_minimum", f"only {amount} paise of this payout is still unpaid; the minimum is {minimum}"
        )
    new_payout_id = new_id("pay")
    conn.execute(
        sa.insert(payouts).values(
            payout_id=new_payout_id,
            payee_type=payout.payee_type,
            payee_id=payout.payee_id,
            amount_paise=amount,
            batch_date=payout.batch_date,
            retry_of_payout_id=payout_id,
            destination=user.payout_destination,
        )
    )
    conn.execute(
        statement("payouts/cover_items"),
        {
            "payout_id": new_payout_id,
            "item_ids": [item.payee_item_id for item in items],
            "amounts": [item.amount_paise for item in items],
        },
    )
    posting.post_entry(conn, entries.payout_sent_entry(new_payout_id, payout.payee_type, payout.payee_id, amount))
    audit(
        conn,
        actor,
        "payout.retry",
        "payout",
        payout_id,
        {"status": "failed"},
        {"retried_as": new_payout_id, "amount_paise": amount},
        request_id,
    )
    return new_payout_id


def _payable_user(conn: sa.Connection, payee_id: str) -> sa.Row[Any]:
    user = conn.execute(sa.select(users).where(users.c.user_id == payee_id)).first()
    if user is None:
        raise PayoutRuleError("user_not_found", f"no user {payee_id}")
    if user.payout_destination is None:
        raise PayoutRuleError("payee_without_destination", "the payee has no payout destination")
    if user.status != "active":
        raise PayoutRuleError("payee_not_active", f"the payee is {user.status}")
    if active_hold(conn, payee_id) is not None:
        raise PayoutRuleError("payee_on_hold", "payouts to this payee are on hold")
    return user


def hold_payee(conn: sa.Connection, payee_id: str, reason: str, actor: str, request_id: str | None = None) -> bool:
    """Stop new payouts to a payee and the submission of its pending ones; False if already held."""
    if conn.execute(sa.select(users.c.user_id).where(users.c.user_id == payee_id)).first() is None:
        raise PayoutRuleError("user_not_found", f"no user {payee_id}")
    held = conn.execute(
        insert(payee_holds)
        .values(payee_id=payee_id, reason=reason, held_by=actor)
        .on_conflict_do_nothing(index_elements=["payee_id"], index_where=payee_holds.c.released_at.is_(None))
        .returning(payee_holds.c.payee_hold_id)
    ).scalar()
    if held is not None:
        audit(conn, actor, "payee.hold", "payee", payee_id, None, {"reason": reason}, request_id)
    return held is not None


def release_payee(conn: sa.Connection, payee_id: str, actor: str, request_id: str | None = None) -> bool:
    released = conn.execute(
        sa.update(payee_holds)
        .where(payee_holds.c.payee_id == payee_id, payee_holds.c.released_at.is_(None))
        .values(released_at=sa.func.now(), released_by=actor)
        .returning(payee_holds.c.reason)
    ).first()
    if released is not None:
        audit(conn, actor, "payee.release", "payee", payee_id, {"reason": released.reason}, None, request_id)
    return released is not None


WITHDRAWAL_COLUMNS = ("scout_payout_request_id", "scout_id", "amount_paise", "status", "created_at")


def request_withdrawal(
    conn: sa.Connection,
    scout_id: str,
    amount_paise: int,
    actor: str,
    today: dt.date,
    request_id: str | None = None,
    *,
    now: dt.datetime,
    claim: Claim | None = None,
) -> tuple[dict[str, Any], bool]:
    """Record a scout's withdrawal request (paid in the next batch) and its outbox row; (the request as
    shown, whether that is the first answer to this claim replayed). Under the creation lock, so a
    retry waits for the first request and replays it."""
    lock_creation(conn)
    earlier = idempotency.first_answer(conn, scout_payout_requests, claim)
    if earlier is not None:
        return earlier, True
    scout = conn.execute(sa.select(users).where(users.c.user_id == scout_id)).first()
    if scout is None:
        raise PayoutRuleError("user_not_found", f"no user {scout_id}")
    if scout.role != "scout" or scout.status != "active":
        raise PayoutRuleError("not_an_active_scout", "only active scouts can request a withdrawal")
    problem = withdrawal_problem(amount_paise, payee_balance(conn, scout_id), min_payout_paise(conn, today))
    if problem is not None:
        raise problem
    withdrawal_id = new_id("wdr")
    values = {
        "scout_payout_request_id": withdrawal_id,
        "scout_id": scout_id,
        "amount_paise": amount_paise,
        "status": "requested",
        "created_at": now,
    }
    answer = jsonable({name: values[name] for name in WITHDRAWAL_COLUMNS})
    if not idempotency.insert_claimed(conn, scout_payout_requests, values, claim, answer):
        return idempotency.answer_after_race(conn, scout_payout_requests, claim), True
    outbox.write(conn, [events.payout_requested(withdrawal_id, scout_id, amount_paise)])
    audit(conn, actor, "payout_request.create", "scout", scout_id, None, {"amount_paise": amount_paise}, request_id)
    return answer, False


def held_back(
    conn: sa.Connection,
    day: dt.date,
    *,
    settled_funds_only: bool,
    after_payee_id: str | None = None,
    payee_type: str | None = None,
    reason: str | None = None,
    limit: int | None = None,
) -> Sequence[sa.Row[Any]]:
    """The payees the payout batch of `day` leaves unpaid, with every reason (`sql/payouts/held_back.sql`),
    by payee id; `limit` rows after `after_payee_id`, or all."""
    params = {
        "day": day,
        "settled_funds_only": settled_funds_only,
        "after_payee_id": after_payee_id,
        "payee_type": payee_type,
        "reason": reason,
        "limit": limit,
    }
    return conn.execute(statement("payouts/held_back"), params).all()


def list_payouts(
    conn: sa.Connection,
    *,
    status: str | None = None,
    payee_id: str | None = None,
    batch_date: dt.date | None = None,
    before_payout_id: str | None = None,
    limit: int = 50,
) -> Sequence[sa.Row[Any]]:
    """Newest first (payout ids are time-ordered), `limit + 1` rows so the caller knows if more follow."""
    query = sa.select(payouts).order_by(payouts.c.payout_id.desc()).limit(limit + 1)
    if status is not None:
        query = query.where(payouts.c.status == status)
    if payee_id is not None:
        query = query.where(payouts.c.payee_id == payee_id)
    if batch_date is not None:
        query = query.where(payouts.c.batch_date == batch_date)
    if before_payout_id is not None:
        query = query.where(payouts.c.payout_id < before_payout_id)
    return conn.execute(query).all()
