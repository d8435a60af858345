"""Refunds: a client requests one for an order; finance approves, rejects or retries.

Money moves in the batch pipeline, never here: an approved refund is submitted to PhonePe by the
refunds job, and the ledger changes only when the gateway's status API says it completed. A request
locks its order, so concurrent requests can never together refund more than was paid. Every admin
action is written to `audit_log` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from domain.orders import store as order_store
from domain.platform.settings import Settings
from domain.refunds import store
from domain.refunds.store import RefundRequest
from ingest_api import patterns
from ingest_api.deps import AdminKey, CurrentKey, IdempotencyKey, SessionDep
from ingest_api.errors import ApiError, error_responses, request_id_of
from ingest_api.idempotency import answer
from ingest_api.pagination import IdCursor
from ingest_api.schemas.common import PathId
from ingest_api.schemas.refunds import (
    RefundApproval,
    RefundCreate,
    RefundDecision,
    RefundKind,
    RefundList,
    RefundOut,
    RefundPage,
    RefundStatus,
)

router = APIRouter(prefix="/v1", tags=["refunds"])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _out(row: Any) -> RefundOut:
    return RefundOut.model_validate(store.shown(row))


@router.post(
    "/orders/{order_id}/refunds",
    status_code=201,
    response_model=RefundOut,
    responses=error_responses(400, 401, 404, 409, 413, 415, 422, 429),
)
def request_refund(
    order_id: PathId,
    body: RefundCreate,
    request: Request,
    key: CurrentKey,
    idempotency_key: IdempotencyKey,
    conn: SessionDep,
) -> Response:
    """Ask for a refund of part or all of a paid order. Approved at once unless finance must approve
    (`approval_reasons`); the same Idempotency-Key and body return the first answer."""
    settings: Settings = request.app.state.settings
    refund_request = RefundRequest(
        order_id=order_id,
        amount_paise=body.amount_paise,
        reason=body.reason,
        note=body.note,
        requested_by=key.name,
        api_key_id=key.api_key_id,
        idempotency_key=idempotency_key,
    )
    first, replayed = store.request_refund(
        conn, refund_request, store.policy_from(settings), _now(), request_id_of(request)
    )
    return answer(RefundOut, first, replayed)


@router.get("/refunds/{refund_id}", response_model=RefundOut, responses=error_responses(401, 404, 422, 429))
def get_refund(refund_id: PathId, _key: CurrentKey, conn: SessionDep) -> RefundOut:
    return _out(store.get_refund(conn, refund_id))


@router.get("/orders/{order_id}/refunds", response_model=RefundList, responses=error_responses(401, 404, 422, 429))
def order_refunds(order_id: PathId, _key: CurrentKey, conn: SessionDep) -> RefundList:
    """Every refund of the order, oldest first."""
    if order_store.shown_order(conn, order_id) is None:
        raise ApiError("order_not_found")
    return RefundList(items=[_out(row) for row in store.refunds_of_order(conn, order_id)])


QueryId = Annotated[str | None, Query(min_length=1, max_length=64, pattern=patterns.IDENTIFIER)]


@router.get("/admin/refunds", response_model=RefundPage, responses=error_responses(400, 401, 403, 422, 429))
def list_refunds(
    _key: AdminKey,
    conn: SessionDep,
    status: RefundStatus | None = None,
    kind: RefundKind | None = None,
    order_id: QueryId = None,
    seller_id: QueryId = None,
    cursor: IdCursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RefundPage:
    """Refunds newest first, filtered by status, kind, order and seller; pass `next_cursor` back as `cursor`."""
    rows = store.list_refunds(
        conn,
        status=status,
        kind=kind,
        order_id=order_id,
        seller_id=seller_id,
        before_refund_id=cursor,
        limit=limit,
    )
    items = [_out(row) for row in rows[:limit]]
    return RefundPage(items=items, next_cursor=items[-1].refund_id if len(rows) > limit else None)


@router.post(
    "/admin/refunds/{refund_id}/approve",
    response_model=RefundOut,
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429),
)
def approve_refund(
    refund_id: PathId, request: Request, key: AdminKey, conn: SessionDep, body: RefundApproval | None = None
) -> RefundOut:
    """Approve a refund waiting for finance; it is submitted to the gateway by the next refunds run."""
    note = body.reason if body else None
    return _out(
        store.decide(
            conn, refund_id, approve=True, actor=key.name, note=note, now=_now(), request_id=request_id_of(request)
        )
    )


@router.post(
    "/admin/refunds/{refund_id}/reject",
    response_model=RefundOut,
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429),
)
def reject_refund(
    refund_id: PathId, body: RefundDecision, request: Request, key: AdminKey, conn: SessionDep
) -> RefundOut:
    """Reject a refund waiting for finance; its amount can be refunded again."""
    return _out(
        store.decide(
            conn,
            refund_id,
            approve=False,
            actor=key.name,
            note=body.reason,
            now=_now(),
            request_id=request_id_of(request),
        )
    )


@router.post(
    "/admin/refunds/{refund_id}/retry",
    status_code=201,
    response_model=RefundOut,
    responses=error_responses(401, 403, 404, 409, 422, 429),
)
def retry_refund(refund_id: PathId, request: Request, key: AdminKey, conn: SessionDep) -> RefundOut:
    """Refund a failed refund's amount again, as a new refund (the answer); a refund is retried once."""
    return _out(store.retry(conn, refund_id, actor=key.name, now=_now(), request_id=request_id_of(request)))
