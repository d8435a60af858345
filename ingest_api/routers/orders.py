"""Orders: idempotent creation, reads with keyset pagination, and idempotent fulfilment events.

`POST /v1/orders` is the hot path. Its insert joins the worker's next `create_orders()` call
(`ingest_api.order_batches`), whose INSERT checks both parties and claims the (API key,
Idempotency-Key) pair through a unique index on the order row itself. Only a replay or an error
needs more queries, to tell which it was. A replay repeats the original 201 body (rebuilt from the
row, so it stays identical, status `created`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from domain.orders import store
from domain.orders.tables import orders
from domain.platform.ids import new_id
from domain.platform.settings import Settings
from domain.platform.sql import statement
from ingest_api import patterns
from ingest_api.deps import CurrentKey, IdempotencyKey, SessionDep
from ingest_api.errors import ApiError, error_responses
from ingest_api.idempotency import answer, claim_of
from ingest_api.metrics import IDEMPOTENT_REPLAYS
from ingest_api.order_batches import OrderBatches
from ingest_api.pagination import TimeCursor, parse_time_cursor, time_cursor
from ingest_api.schemas.common import PathId, QueryDateTime
from ingest_api.schemas.orders import OrderCreate, OrderCreated, OrderEvent, OrderOut, OrderPage, OrderStatus

router = APIRouter(prefix="/v1", tags=["orders"])

QueryId = Annotated[str | None, Query(min_length=1, max_length=64, pattern=patterns.IDENTIFIER)]

_EARLIER = sa.select(orders).where(
    orders.c.api_key_id == sa.bindparam("api_key_id"),
    orders.c.idempotency_key == sa.bindparam("idempotency_key"),
)
_CREATED_FIELDS = ("order_id", "status", "buyer_id", "seller_id", "listing_id", "title", "amount_paise", "currency")
_IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "Unique per intended order (1-128 visible ASCII characters); a retry reuses it.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": patterns.IDEMPOTENCY_KEY},
}
_VALID_IDEMPOTENCY_KEY = re.compile(patterns.IDEMPOTENCY_KEY)


def _check_idempotency_key(value: str | None) -> str:
    if value is None or _VALID_IDEMPOTENCY_KEY.fullmatch(value) is None:
        raise ApiError("idempotency_key_required")
    return value


def _party_error(buyer: str | None, seller: str | None) -> ApiError:
    if buyer != "buyer:active":
        return ApiError("buyer_invalid")
    assert seller != "seller:active"
    return ApiError("seller_invalid")


def _replay_or_refusal(engine: sa.Engine, params: dict[str, object]) -> Response:
    """Tell apart what made create_orders() insert nothing: an earlier order under this key, or a party."""
    with engine.connect() as conn:
        earlier = conn.execute(_EARLIER, params).first()
        if earlier is None:
            parties = conn.execute(statement("orders/parties"), params).one()
            raise _party_error(parties.buyer, parties.seller)
    if earlier.request_hash != params["request_hash"]:
        IDEMPOTENT_REPLAYS.labels("conflict").inc()
        raise ApiError("idempotency_conflict")
    IDEMPOTENT_REPLAYS.labels("replayed").inc()
    replay = {name: "created" if name == "status" else getattr(earlier, name) for name in _CREATED_FIELDS}
    replay["created_at"] = earlier.created_at.isoformat()
    return Response(
        json.dumps(replay), status_code=201, media_type="application/json", headers={"Idempotent-Replayed": "true"}
    )


async def create_order(body: OrderCreate, request: Request, key: CurrentKey) -> Response:
    """Create an order (status `created`). The same Idempotency-Key and body return the original response."""
    # The hot path reads app state and the Idempotency-Key header itself (documented through
    # openapi_extra), and runs on the event loop: FastAPI's header parameter and extra dependencies
    # cost more than the insert, and only the batched insert needs a worker thread.
    settings: Settings = request.app.state.settings
    batches: OrderBatches = request.app.state.order_batches
    idem = _check_idempotency_key(request.headers.get("idempotency-key"))
    if not settings.order_min_paise <= body.amount_paise <= settings.order_max_paise:
        raise ApiError(
            "amount_out_of_range",
            f"amount_paise must be between {settings.order_min_paise} and {settings.order_max_paise}.",
        )
    if body.buyer_id == body.seller_id:
        raise ApiError("buyer_is_seller")
    created_at = dt.datetime.now(dt.UTC)
    response: dict[str, object] = {
        "order_id": new_id("ord"),
        "status": "created",
        "buyer_id": body.buyer_id,
        "seller_id": body.seller_id,
        "listing_id": body.listing_id,
        "title": body.title,
        "amount_paise": body.amount_paise,
        "currency": "INR",
        "created_at": created_at.isoformat(),
    }
    params = {
        **response,
        "created_at": created_at,
        "api_key_id": key.api_key_id,
        "idempotency_key": idem,
        "request_hash": hashlib.sha256(body.model_dump_json().encode()).hexdigest(),
    }
    if await batches.create(params):
        return Response(json.dumps(response), status_code=201, media_type="application/json")
    return await run_in_threadpool(_replay_or_refusal, request.app.state.autocommit_engine, params)


def add_create_order_route(app: FastAPI) -> None:
    """Put `POST /v1/orders` on the app's own router, ahead of the included ones: FastAPI matches an
    included router's routes twice per request, which cost the hot path 7% of a worker's CPU."""
    app.add_api_route(
        "/v1/orders",
        create_order,
        methods=["POST"],
        tags=["orders"],
        status_code=201,
        response_model=OrderCreated,
        responses={
            200: {"model": OrderCreated, "description": "Never sent: a replay repeats the original 201."},
            **error_responses(400, 401, 409, 413, 415, 422, 429),
        },
        openapi_extra={"parameters": [_IDEMPOTENCY_KEY_PARAMETER]},
    )


@router.get("/orders/{order_id}", response_model=OrderOut, responses=error_responses(401, 404, 422, 429))
def get_order(order_id: PathId, _key: CurrentKey, conn: SessionDep) -> dict[str, Any]:
    """The order with the status it shows: `settled` once it settled, whatever the API recorded before."""
    order = store.shown_order(conn, order_id)
    if order is None:
        raise ApiError("order_not_found")
    return order


@router.get("/orders", response_model=OrderPage, responses=error_responses(400, 401, 422, 429))
def list_orders(
    _key: CurrentKey,
    conn: SessionDep,
    seller_id: QueryId = None,
    buyer_id: QueryId = None,
    status: Annotated[OrderStatus | None, Query()] = None,
    created_from: Annotated[QueryDateTime | None, Query(description="Inclusive lower bound on created_at.")] = None,
    created_to: Annotated[QueryDateTime | None, Query(description="Exclusive upper bound on created_at.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: TimeCursor = None,
) -> OrderPage:
    """Newest first; pass `next_cursor` back as `cursor` for the next page (keyset, stable under inserts)."""
    shown = store.shown
    query = sa.select(shown)
    for column, value in (("seller_id", seller_id), ("buyer_id", buyer_id), ("status", status)):
        if value is not None:
            query = query.where(shown.c[column] == value)
    if created_from is not None:
        query = query.where(shown.c.created_at >= created_from)
    if created_to is not None:
        query = query.where(shown.c.created_at < created_to)
    if cursor is not None:
        after_at, after_id = parse_time_cursor(cursor)
        query = query.where(sa.tuple_(shown.c.created_at, shown.c.order_id) < (after_at, after_id))
    query = query.order_by(shown.c.created_at.desc(), shown.c.order_id.desc()).limit(limit + 1)
    rows = [dict(row._mapping) for row in conn.execute(query)]
    more = len(rows) > limit
    items = rows[:limit]
    next_cursor = time_cursor(items[-1]["created_at"], items[-1]["order_id"]) if more else None
    return OrderPage(items=[OrderOut.model_validate(row) for row in items], next_cursor=next_cursor)


@router.post(
    "/orders/{order_id}/events",
    response_model=OrderOut,
    responses=error_responses(400, 401, 404, 409, 413, 415, 422, 429),
)
def post_order_event(
    order_id: PathId, body: OrderEvent, key: CurrentKey, idempotency_key: IdempotencyKey, conn: SessionDep
) -> Response:
    """Record a fulfilment event. Repeating an event that already took effect changes nothing (200); the
    same Idempotency-Key and body return the first answer."""
    claim = claim_of(key, idempotency_key, {"order_id": order_id}, body)
    first, replayed = store.post_event(conn, order_id, body.event, claim)
    return answer(OrderOut, first, replayed, status_code=200)
