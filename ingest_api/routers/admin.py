"""Admin routes (API keys with role `admin`) on users: suspension and reactivation, recruiter corrections,
each written to `audit_log` with the key's name as actor."""

from __future__ import annotations

from fastapi import APIRouter, Request

from domain.users import store
from ingest_api.deps import AdminKey, SessionDep
from ingest_api.errors import ApiError, error_responses, request_id_of
from ingest_api.routers.users import user_out
from ingest_api.schemas.common import PathId
from ingest_api.schemas.users import RecruiterChange, UserOut, UserStatusChange

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.patch(
    "/users/{user_id}/recruiter",
    response_model=UserOut,
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429),
)
def set_recruiter(user_id: PathId, body: RecruiterChange, request: Request, key: AdminKey, conn: SessionDep) -> UserOut:
    """Set, fix or clear (`recruiter_id: null`) a user's recruiter; the change is written to `audit_log`."""
    if "recruiter_id" in body.model_fields_set and "referral_code" in body.model_fields_set:
        raise ApiError("referral_conflict", "Give recruiter_id or referral_code, not both.")
    if not body.model_fields_set:
        raise ApiError("validation_error", "Invalid request: give recruiter_id (null clears) or referral_code.")
    row = store.set_recruiter(
        conn, user_id, body.recruiter_id, body.referral_code, actor=key.name, request_id=request_id_of(request)
    )
    if row is None:
        raise ApiError("user_not_found")
    return user_out(row)


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429),
)
def set_status(user_id: PathId, body: UserStatusChange, request: Request, key: AdminKey, conn: SessionDep) -> UserOut:
    """Suspend a user (`reason` required) or reactivate it. A suspended seller or scout is paid nothing, its
    pending payouts wait, and `GET /v1/admin/payees/held-back` lists it as `payee_suspended`; reactivated,
    the next batch pays what it is owed. A closed user stays closed (`user_closed`)."""
    if body.status == "suspended" and "reason" not in body.model_fields_set:
        raise ApiError("validation_error", "Invalid request: reason: a suspension needs a reason.")
    row = store.set_status(conn, user_id, body.status, body.reason, actor=key.name, request_id=request_id_of(request))
    if row is None:
        raise ApiError("user_not_found")
    return user_out(row)
