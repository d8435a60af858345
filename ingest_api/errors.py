"""The one error shape, `{"error": {"code", "message", "request_id"}}`, and the stable code catalogue.

`docs/errors.md` documents every code in `ERROR_CODES`; a test keeps the two in step. Handlers here
turn every failure, including validation errors and unexpected exceptions, into that shape; nothing
internal (stack traces, SQL, table or class names) ever reaches a client.
"""

from __future__ import annotations

from typing import Any

import psycopg2
import sqlalchemy as sa
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from domain.platform.errors import DomainError
from ingest_api.metrics import IDEMPOTENT_REPLAYS

log = structlog.get_logger(__name__)

ERROR_CODES: dict[str, tuple[int, str]] = {
    "not_found": (404, "No such resource."),
    "method_not_allowed": (405, "The method is not allowed on this resource."),
    "validation_error": (422, "The request body or parameters are invalid."),
    "malformed_json": (400, "The request body is not valid JSON."),
    "payload_too_large": (413, "The request body exceeds the configured limit."),
    "unsupported_media_type": (415, "The request body must be application/json."),
    "database_unavailable": (503, "The database cannot be reached."),
    "migrations_pending": (503, "The database schema is not at the migration head."),
    "internal_error": (500, "An unexpected error occurred; it has been logged."),
    "unauthorized": (401, "A valid API key is required: Authorization: Bearer <key>."),
    "forbidden": (403, "The API key's role does not allow this operation."),
    "rate_limited": (429, "Too many requests; retry after the number of seconds in Retry-After."),
    "webhook_rejected": (401, "The webhook failed verification; it was recorded and nothing else changed."),
    "idempotency_key_required": (400, "An Idempotency-Key header of 1-128 visible ASCII characters is required."),
    "idempotency_conflict": (409, "This Idempotency-Key was already used with a different request body."),
    "invalid_cursor": (400, "The pagination cursor does not have the format of `next_cursor`."),
    "user_not_found": (404, "No such user."),
    "order_not_found": (404, "No such order."),
    "illegal_transition": (409, "The order's current status does not allow this change."),
    "buyer_invalid": (422, "The buyer does not exist, is not active, or is not a buyer."),
    "seller_invalid": (422, "The seller does not exist, is not active, or is not a seller."),
    "buyer_is_seller": (422, "The buyer and the seller must be different users."),
    "amount_out_of_range": (422, "amount_paise is outside the configured order bounds."),
    "recruiter_invalid": (422, "The recruiter does not exist, is not an active scout, or is the user itself."),
    "referral_conflict": (422, "The referral fields contradict each other."),
    "referral_cycle": (409, "The recruiter change would create a referral cycle."),
    "payout_not_found": (404, "No such payout."),
    "payout_below_minimum": (422, "The amount is below the minimum payout of the fee schedule in effect."),
    "insufficient_balance": (422, "The amount exceeds the available balance less requests already waiting."),
    "not_an_active_scout": (422, "Only an active scout can request a withdrawal."),
    "illegal_payout_transition": (409, "The payout's status does not allow this action."),
    "payout_busy": (409, "The payout is being submitted right now; try again shortly."),
    "payout_outcome_unknown": (409, "A gateway call for this payout has no known outcome yet; it is resolved first."),
    "payout_already_retried": (409, "This failed payout was already retried as another payout."),
    "payee_without_destination": (422, "The payee has no payout destination."),
    "payee_not_active": (422, "The payee is not active."),
    "payee_on_hold": (409, "Payouts to this payee are on hold."),
    "payout_destination_not_allowed": (422, "Buyers are not paid out: a buyer has no payout destination."),
    "user_closed": (409, "The user is closed: it cannot be suspended or reactivated."),
    "refund_not_found": (404, "No such refund."),
    "refund_order_not_paid": (409, "Only a paid order can be refunded (not one created, failed or cancelled)."),
    "refund_amount_not_positive": (422, "amount_paise must be a positive number of paise."),
    "refund_below_minimum": (422, "The amount is below the smallest refund the gateway makes (REFUND_MIN_PAISE)."),
    "refund_exceeds_refundable": (
        409,
        "The amount exceeds what the order can still refund: paid less refunded and in flight.",
    ),
    "refund_window_closed": (409, "The refund window (REFUND_WINDOW_DAYS after the payment) has closed."),
    "refund_limit_reached": (409, "The order already has the most refunds allowed (REFUND_MAX_PER_ORDER)."),
    "refund_not_awaiting_approval": (409, "The refund is not waiting for approval."),
    "refund_not_retryable": (409, "Only a failed refund can be retried."),
    "refund_already_retried": (409, "This failed refund was already retried as another refund."),
    "notification_not_found": (404, "No such in-app notification of this user."),
    "preference_duplicated": (422, "The body lists a category and channel more than once."),
    "recon_exception_not_found": (404, "No such reconciliation exception."),
    "recon_exception_not_open": (409, "The reconciliation exception is already resolved or written off."),
    "recon_write_off_needs_approval": (
        403,
        "Writing off more than RECON_WRITE_OFF_APPROVAL_PAISE needs a second admin's key in X-Approver-Key.",
    ),
    "recon_approver_invalid": (403, "X-Approver-Key is not a live admin key other than the caller's."),
    "not_a_payee": (422, "Only sellers and scouts have statements; this user is a buyer."),
    "statement_period_invalid": (422, "`from` is after `to`, or a date is outside 2000-01-01 to 2999-12-31."),
    "statement_period_too_long": (422, "A statement covers at most 366 days."),
    "statement_too_large": (422, "The period has more than 50,000 statement lines; ask for a shorter one."),
    "fee_schedule_not_future": (
        409,
        "A fee schedule version in effect is never changed; a new one starts after today.",
    ),
    "fee_schedule_exists": (409, "A fee schedule version already takes effect on that date; replace it explicitly."),
    "fee_schedule_invalid": (422, "The fee schedule's values are out of bounds."),
    "fee_schedule_not_found": (404, "No fee schedule version takes effect on that date."),
}


class ApiError(Exception):
    """An error a client may see: a catalogue code, its status, and a safe message."""

    def __init__(self, code: str, message: str | None = None, *, headers: dict[str, str] | None = None):
        status, default_message = ERROR_CODES[code]
        super().__init__(message or default_message)
        self.code = code
        self.status = status
        self.message = message or default_message
        self.headers = headers


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str


class ErrorBody(BaseModel):
    """The one error shape, published in the OpenAPI schema for every error status."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given error statuses, all with the one error shape. Every
    route that lists its errors reaches the database, so each may also answer 503."""
    return {status: {"model": ErrorBody, "description": _describe(status)} for status in (*statuses, 503)}


def _describe(status: int) -> str:
    codes = sorted(code for code, (code_status, _) in ERROR_CODES.items() if code_status == status)
    return "Error: " + ", ".join(f"`{code}`" for code in codes) if codes else "Error"


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def error_response(request: Request, error: ApiError) -> JSONResponse:
    body = {"error": {"code": error.code, "message": error.message, "request_id": request_id_of(request)}}
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def _field_path(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body", "query", "path", "header"))


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(request, exc)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    """A refusal of the business rules: its code is in the catalogue (a test holds every code to it)."""
    assert isinstance(exc, DomainError)
    if exc.code == "idempotency_conflict":
        IDEMPOTENT_REPLAYS.labels("conflict").inc()
    return error_response(request, ApiError(exc.code, exc.message))


def _is_json(request: Request) -> bool:
    """Whether FastAPI parses the body as JSON: it hands any other body to the model as bytes, which then
    fails as a whole, so that failure is the media type's (415), not the fields'."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


_IDEMPOTENCY_HEADER = ("header", "idempotency-key")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if not _is_json(request) and any(tuple(e.get("loc", ())) == ("body",) for e in errors):
        return error_response(request, ApiError("unsupported_media_type"))
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(request, ApiError("malformed_json"))
    if errors and all(tuple(e.get("loc", ())) == ("query", "cursor") for e in errors):
        return error_response(request, ApiError("invalid_cursor"))
    if any(tuple(str(part).lower() for part in e.get("loc", ())) == _IDEMPOTENCY_HEADER for e in errors):
        return error_response(request, ApiError("idempotency_key_required"))
    details = "; ".join(f"{_field_path(tuple(e.get('loc', ()))) or 'body'}: {e.get('msg', '')}" for e in errors[:5])
    return error_response(request, ApiError("validation_error", f"Invalid request: {details}"[:500]))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
        exc.status_code
    )
    if code is None:
        code = "validation_error" if 400 <= exc.status_code < 500 else "internal_error"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return error_response(request, ApiError(code, headers=headers or None))


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """The methods some route answers on this path, for the `Allow` header a 405 must carry (RFC 9110).

    Starlette's own header names only the first route whose path matched, and `/v1/orders` has two
    (POST on the app, GET on the orders router), so every route is asked about every method.
    """
    path = {"type": "http", "path": request.scope["path"], "root_path": request.scope.get("root_path", "")}
    routes = request.app.router.routes
    allowed = (m for m in _METHODS if any(r.matches({**path, "method": m})[0] is Match.FULL for r in routes))
    return ", ".join(allowed)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A lost or refused database connection, or no free one in the pool, is the server's trouble and
    passes: 503, retry shortly."""
    log.warning("database_unavailable", error_type=type(exc).__name__)
    return error_response(request, ApiError("database_unavailable", headers={"Retry-After": "1"}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", error_type=type(exc).__name__)
    return error_response(request, ApiError("internal_error"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for lost in (sa.exc.OperationalError, sa.exc.TimeoutError, psycopg2.OperationalError, psycopg2.InterfaceError):
        app.add_exception_handler(lost, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
