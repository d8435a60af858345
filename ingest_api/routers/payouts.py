"""Payout routes: scout withdrawal requests (idempotent), payee balances, and finance's payout list, retry
and cancel, and the payees the next batch holds back.

Money moves in the batch pipeline, never here: a withdrawal request is paid in the next batch, a retry
makes a payout due (or a new payout for a failed one) for the submission job. Every admin action is
written to `audit_log` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from domain.payouts import store
from domain.platform.clock import ist_date
from domain.platform.settings import Settings
from ingest_api import patterns
from ingest_api.deps import AdminKey, CurrentKey, IdempotencyKey, SessionDep
from ingest_api.errors import ApiError, error_responses, request_id_of
from ingest_api.idempotency import answer, claim_of
from ingest_api.pagination import IdCursor
from ingest_api.schemas.common import PathId, QueryDate
from ingest_api.schemas.payouts import (
    BalanceOut,
    CancelRequest,
    HeldBackPage,
    HeldBackPayee,
    HeldBackReason,
    PayeeType,
    PayoutActionOut,
    PayoutOut,
    PayoutPage,
    PayoutStatus,
    WithdrawalOut,
    WithdrawalRequest,
)

router = APIRouter(prefix="/v1", tags=["payouts"])


def _today() -> dt.date:
    return ist_date(dt.datetime.now(dt.UTC))


def _payout_out(row: Any) -> PayoutOut:
    return PayoutOut.model_validate(dict(row._mapping))


@router.post(
    "/scouts/{scout_id}/payout-requests",
    status_code=201,
    response_model=WithdrawalOut,
    responses=error_responses(400, 401, 404, 409, 413, 415, 422, 429),
)
def request_withdrawal(
    scout_id: PathId,
    body: WithdrawalRequest,
    request: Request,
    key: CurrentKey,
    idempotency_key: IdempotencyKey,
    conn: SessionDep,
) -> Response:
    """A scout asks to withdraw; paid in the next payout batch (`payout_below_minimum`, `insufficient_balance`).
    The same Idempotency-Key and body return the first answer."""
    now = dt.datetime.now(dt.UTC)
    first, replayed = store.request_withdrawal(
        conn,
        scout_id,
        body.amount_paise,
        key.name,
        ist_date(now),
        request_id_of(request),
        now=now,
        claim=claim_of(key, idempotency_key, {"scout_id": scout_id}, body),
    )
    return answer(WithdrawalOut, first, replayed)


@router.get("/payees/{payee_id}/balance", response_model=BalanceOut, responses=error_responses(401, 404, 422, 429))
def payee_balance(payee_id: PathId, _key: CurrentKey, conn: SessionDep) -> BalanceOut:
    """What a seller or scout is owed now, what is still held, in flight and already paid."""
    if not store.payee_exists(conn, payee_id):
        raise ApiError("user_not_found")
    balance = store.payee_balance(conn, payee_id)
    return BalanceOut(
        payee_id=payee_id,
        available_paise=balance.available_paise,
        held_paise=balance.held_paise,
        in_flight_paise=balance.in_flight_paise,
        paid_paise=balance.paid_paise,
        requested_paise=balance.requested_paise,
        on_hold=store.active_hold(conn, payee_id) is not None,
    )


@router.get("/admin/payouts", response_model=PayoutPage, responses=error_responses(400, 401, 403, 422, 429))
def list_payouts(
    _key: AdminKey,
    conn: SessionDep,
    status: PayoutStatus | None = None,
    payee_id: Annotated[str | None, Query(max_length=64, pattern=patterns.IDENTIFIER)] = None,
    batch_date: QueryDate | None = None,
    cursor: IdCursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PayoutPage:
    """Payouts newest first, filtered by status, payee and batch date; pass `next_cursor` back as `cursor`."""
    rows = store.list_payouts(
        conn,
        status=status,
        payee_id=payee_id,
        batch_date=batch_date,
        before_payout_id=cursor,
        limit=limit,
    )
    more = len(rows) > limit
    items = [_payout_out(row) for row in rows[:limit]]
    return PayoutPage(items=items, next_cursor=items[-1].payout_id if more else None)


@router.get("/admin/payees/held-back", response_model=HeldBackPage, responses=error_responses(400, 401, 403, 422, 429))
def held_back_payees(
    request: Request,
    _key: AdminKey,
    conn: SessionDep,
    payee_type: PayeeType | None = None,
    reason: HeldBackReason | None = None,
    cursor: IdCursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> HeldBackPage:
    """Every seller and scout the next payout batch leaves unpaid, with all its reasons and its balance, by
    payee id; filter by `payee_type` or one `reason`; pass `next_cursor` back as `cursor`."""
    settings: Settings = request.app.state.settings
    rows = store.held_back(
        conn,
        _today(),
        settled_funds_only=settings.payout_requires_settled_funds,
        after_payee_id=cursor,
        payee_type=payee_type,
        reason=reason,
        limit=limit + 1,
    )
    items = [HeldBackPayee.model_validate(dict(row._mapping)) for row in rows[:limit]]
    return HeldBackPage(items=items, next_cursor=items[-1].payee_id if len(rows) > limit else None)


def _action(conn: SessionDep, payout_id: str, result: str) -> PayoutActionOut:
    row = store.get_payout(conn, result if result.startswith("pay_") else payout_id)
    return PayoutActionOut(payout_id=payout_id, result=result, payout=_payout_out(row))


@router.post(
    "/admin/payouts/{payout_id}/retry",
    response_model=PayoutActionOut,
    responses=error_responses(401, 403, 404, 409, 422, 429),
)
def retry_payout(payout_id: PathId, request: Request, key: AdminKey, conn: SessionDep) -> PayoutActionOut:
    """A waiting payout becomes due now; a failed one is paid again as a new payout (`payout` is that one)."""
    result = store.retry_payout(conn, payout_id, key.name, _today(), request_id_of(request))
    return _action(conn, payout_id, result)


@router.post(
    "/admin/payouts/{payout_id}/cancel",
    response_model=PayoutActionOut,
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429),
)
def cancel_payout(
    payout_id: PathId, request: Request, key: AdminKey, conn: SessionDep, body: CancelRequest | None = None
) -> PayoutActionOut:
    """Cancel a pending payout the gateway has not taken; its money returns to the payee's balance."""
    reason = body.reason if body else "cancelled by finance"
    result = store.cancel_payout(conn, payout_id, key.name, reason, request_id_of(request))
    return _action(conn, payout_id, result)
