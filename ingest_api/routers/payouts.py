"""Payout routes: scout withdrawal requests, payee balances, and finance's payout list, retry and cancel.

Money moves in the batch pipeline, never here: a withdrawal request is paid in the next batch, a retry
makes a payout due (or a new payout for a failed one) for the submission job. Every admin action is
written to `audit_log` in the same transaction.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from domain import payout_store, text
from domain.payouts import PayoutRuleError
from ingest_api.deps import AdminKey, CurrentKey, SessionDep
from ingest_api.errors import ApiError, error_responses, request_id_of

router = APIRouter(prefix="/v1", tags=["payouts"])

UserId = Annotated[str, Path(min_length=1, max_length=64, pattern=text.IDENTIFIER)]
PayoutId = Annotated[str, Path(min_length=1, max_length=64, pattern=text.IDENTIFIER)]
PayoutStatus = Literal["pending", "processing", "completed", "failed", "cancelled", "reversed"]


class WithdrawalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_paise: int = Field(gt=0, le=2**62, description="At least the minimum payout, at most the available balance.")


class WithdrawalOut(BaseModel):
    scout_payout_request_id: str
    scout_id: str
    amount_paise: int
    status: str
    created_at: dt.datetime


class BalanceOut(BaseModel):
    payee_id: str
    available_paise: int = Field(description="Settled earnings and bounties less clawbacks, not in a live payout.")
    held_paise: int = Field(description="Captured but still inside the hold period.")
    in_flight_paise: int = Field(description="Payouts created or submitted, not yet finished.")
    paid_paise: int = Field(description="Completed payouts.")
    requested_paise: int = Field(description="Scout withdrawal requests waiting for the next batch.")
    on_hold: bool


class PayoutOut(BaseModel):
    payout_id: str
    payee_type: str
    payee_id: str
    amount_paise: int
    status: str
    batch_date: dt.date
    attempt_count: int
    next_attempt_at: dt.datetime
    gateway_payout_id: str | None
    utr: str | None
    failure_reason: str | None
    retry_of_payout_id: str | None
    created_at: dt.datetime
    processed_at: dt.datetime | None
    failed_at: dt.datetime | None


class PayoutPage(BaseModel):
    items: list[PayoutOut]
    next_cursor: str | None


class PayoutActionOut(BaseModel):
    payout_id: str
    result: str
    payout: PayoutOut


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="cancelled by finance", min_length=1, max_length=300)


def _refusal(exc: PayoutRuleError) -> ApiError:
    return ApiError(exc.code, str(exc))


def _payout_out(row: Any) -> PayoutOut:
    return PayoutOut.model_validate(dict(row._mapping))


@router.post(
    "/scouts/{scout_id}/payout-requests",
    status_code=201,
    response_model=WithdrawalOut,
    responses=error_responses(401, 404, 413, 415, 422, 429),
)
def request_withdrawal(
    scout_id: UserId, body: WithdrawalRequest, request: Request, key: CurrentKey, conn: SessionDep
) -> WithdrawalOut:
    """A scout asks to withdraw; paid in the next payout batch (`payout_below_minimum`, `insufficient_balance`)."""
    try:
        row = payout_store.request_withdrawal(conn, scout_id, body.amount_paise, key.name, request_id_of(request))
    except PayoutRuleError as exc:
        raise _refusal(exc) from None
    return WithdrawalOut.model_validate(dict(row._mapping))


@router.get("/payees/{payee_id}/balance", response_model=BalanceOut, responses=error_responses(401, 404, 429))
def payee_balance(payee_id: UserId, _key: CurrentKey, conn: SessionDep) -> BalanceOut:
    """What a seller or scout is owed now, what is still held, in flight and already paid."""
    if not payout_store.payee_exists(conn, payee_id):
        raise ApiError("user_not_found")
    balance = payout_store.payee_balance(conn, payee_id)
    return BalanceOut(
        payee_id=payee_id,
        available_paise=balance.available_paise,
        held_paise=balance.held_paise,
        in_flight_paise=balance.in_flight_paise,
        paid_paise=balance.paid_paise,
        requested_paise=balance.requested_paise,
        on_hold=payout_store.active_hold(conn, payee_id) is not None,
    )


def _encode_cursor(payout_id: str) -> str:
    return base64.urlsafe_b64encode(payout_id.encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        payout_id = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ApiError("invalid_cursor") from None
    if not payout_id.startswith("pay_"):
        raise ApiError("invalid_cursor")
    return payout_id


@router.get("/admin/payouts", response_model=PayoutPage, responses=error_responses(400, 401, 403, 422, 429))
def list_payouts(
    _key: AdminKey,
    conn: SessionDep,
    status: PayoutStatus | None = None,
    payee_id: Annotated[str | None, Query(max_length=64, pattern=text.IDENTIFIER)] = None,
    batch_date: dt.date | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PayoutPage:
    """Payouts newest first, filtered by status, payee and batch date; pass `next_cursor` back as `cursor`."""
    rows = payout_store.list_payouts(
        conn,
        status=status,
        payee_id=payee_id,
        batch_date=batch_date,
        before_payout_id=_decode_cursor(cursor) if cursor else None,
        limit=limit,
    )
    more = len(rows) > limit
    items = [_payout_out(row) for row in rows[:limit]]
    return PayoutPage(items=items, next_cursor=_encode_cursor(items[-1].payout_id) if more else None)


def _action(conn: SessionDep, payout_id: str, result: str) -> PayoutActionOut:
    row = payout_store.get_payout(conn, result if result.startswith("pay_") else payout_id)
    return PayoutActionOut(payout_id=payout_id, result=result, payout=_payout_out(row))


@router.post(
    "/admin/payouts/{payout_id}/retry",
    response_model=PayoutActionOut,
    responses=error_responses(401, 403, 404, 409, 422, 429),
)
def retry_payout(payout_id: PayoutId, request: Request, key: AdminKey, conn: SessionDep) -> PayoutActionOut:
    """A waiting payout becomes due now; a failed one is paid again as a new payout (`payout` is that one)."""
    try:
        result = payout_store.retry_payout(conn, payout_id, key.name, request_id_of(request))
    except PayoutRuleError as exc:
        raise _refusal(exc) from None
    return _action(conn, payout_id, result)


@router.post(
    "/admin/payouts/{payout_id}/cancel",
    response_model=PayoutActionOut,
    responses=error_responses(401, 403, 404, 409, 413, 415, 422, 429),
)
def cancel_payout(
    payout_id: PayoutId, request: Request, key: AdminKey, conn: SessionDep, body: CancelRequest | None = None
) -> PayoutActionOut:
    """Cancel a pending payout the gateway has not taken; its money returns to the payee's balance."""
    reason = body.reason if body else "cancelled by finance"
    try:
        result = payout_store.cancel_payout(conn, payout_id, key.name, reason, request_id_of(request))
    except PayoutRuleError as exc:
        raise _refusal(exc) from None
    return _action(conn, payout_id, result)
