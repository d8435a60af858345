"""Reconciliation breaks: finance lists them and resolves each with a reason.

A resolution that moves money posts its ledger entry in the request's transaction, with the status
change and the audit row. Writing off more than `RECON_WRITE_OFF_APPROVAL_PAISE` takes a second
admin, who approves by sending their own key in `X-Approver-Key` on the same request: two people,
one atomic change, and nothing half-approved left waiting.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request

from domain.platform.settings import Settings
from domain.reconciliation import resolution
from domain.users.api_keys import ApiKey, hash_key
from ingest_api import patterns
from ingest_api.auth import ApiKeyCache
from ingest_api.deps import AdminKey, SessionDep
from ingest_api.errors import ApiError, error_responses, request_id_of
from ingest_api.schemas.common import PathId, QueryDate
from ingest_api.schemas.recon import (
    ReconClass,
    ReconExceptionOut,
    ReconExceptionPage,
    ReconResolve,
    ReconStatus,
)

router = APIRouter(prefix="/v1/admin/recon", tags=["reconciliation"])

DATE_CURSOR_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\.[A-Za-z0-9_-]{1,64}$"
"""`<report date>.<exception_id>` of a page's last row."""

DateCursor = Annotated[
    str | None,
    Query(max_length=75, pattern=DATE_CURSOR_PATTERN, description="`next_cursor` of the previous page."),
]
QueryId = Annotated[str | None, Query(min_length=1, max_length=64, pattern=patterns.IDENTIFIER)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _out(row: Any, now: dt.datetime) -> ReconExceptionOut:
    values = dict(row._mapping)
    values["difference_paise"] = values["reported_paise"] - values["expected_paise"]
    values["age_days"] = (now - values["first_seen_at"]).days
    return ReconExceptionOut.model_validate(values)


def _position(cursor: str | None) -> tuple[str, str] | None:
    """The (report date, exception id) of a `DateCursor`, which FastAPI has matched against its pattern."""
    if cursor is None:
        return None
    day, _, exception_id = cursor.partition(".")
    return day, exception_id


async def _approver(
    request: Request,
    key: AdminKey,
    approver_key: Annotated[
        str | None,
        Header(
            alias="X-Approver-Key",
            min_length=1,
            max_length=256,
            description="A second admin's API key, approving a write-off above RECON_WRITE_OFF_APPROVAL_PAISE.",
        ),
    ] = None,
) -> ApiKey | None:
    """The approving admin: a live admin key other than the caller's (403 `recon_approver_invalid`)."""
    if approver_key is None:
        return None
    cache: ApiKeyCache = request.app.state.api_key_cache
    approver = await cache.get(hash_key(approver_key))
    if approver is None or approver.role != "admin" or approver.api_key_id == key.api_key_id:
        raise ApiError("recon_approver_invalid")
    return approver


Approver = Annotated[ApiKey | None, Depends(_approver)]


@router.get("/exceptions", response_model=ReconExceptionPage, responses=error_responses(400, 401, 403, 422, 429))
def list_exceptions(
    _key: AdminKey,
    conn: SessionDep,
    status: ReconStatus | None = None,
    klass: Annotated[ReconClass | None, Query(alias="class")] = None,
    report_date_from: Annotated[QueryDate | None, Query(description="Inclusive.")] = None,
    report_date_to: Annotated[QueryDate | None, Query(description="Inclusive.")] = None,
    reference_id: QueryId = None,
    cursor: DateCursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReconExceptionPage:
    """Breaks, newest report date first, then by id; pass `next_cursor` back as `cursor`."""
    rows = resolution.list_exceptions(
        conn,
        status=status,
        klass=klass,
        report_date_from=report_date_from,
        report_date_to=report_date_to,
        reference_id=reference_id,
        after=_position(cursor),
        limit=limit,
    )
    now = _now()
    items = [_out(row, now) for row in rows[:limit]]
    last = items[-1] if len(rows) > limit else None
    return ReconExceptionPage(
        items=items, next_cursor=f"{last.report_date.isoformat()}.{last.exception_id}" if last else None
    )


@router.post(
    "/exceptions/{exception_id}/resolve",
    response_model=ReconExceptionOut,
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429),
)
def resolve_exception(
    exception_id: PathId, body: ReconResolve, request: Request, key: AdminKey, approver: Approver, conn: SessionDep
) -> ReconExceptionOut:
    """Resolve an open break; `accept_gateway` and `write_off` post the difference to the ledger."""
    settings: Settings = request.app.state.settings
    now = _now()
    row = resolution.resolve(
        conn,
        exception_id,
        action=body.action,
        reason=body.reason,
        actor=key.name,
        approver=approver.name if approver else None,
        now=now,
        request_id=request_id_of(request),
        write_off_approval_paise=settings.recon_write_off_approval_paise,
    )
    return _out(row, now)
