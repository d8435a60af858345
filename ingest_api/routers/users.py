"""Users: register a buyer, seller or scout (idempotent), read one, and fix its name, phone or payout
destination; payout destinations are only ever shown masked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response

from domain.users import rules, store
from ingest_api.deps import CurrentKey, IdempotencyKey, SessionDep
from ingest_api.errors import ApiError, error_responses, request_id_of
from ingest_api.idempotency import answer, claim_of
from ingest_api.schemas.common import PathId
from ingest_api.schemas.users import PayoutDestination, UserCreate, UserOut, UserUpdate

router = APIRouter(prefix="/v1", tags=["users"])


def user_out(row: Mapping[str, Any]) -> UserOut:
    return UserOut.model_validate(rules.shown(row))


def destination(value: PayoutDestination | None) -> dict[str, str] | None:
    """The destination as stored, or a `validation_error` naming what is wrong with it."""
    if value is None:
        return None
    try:
        return rules.normalise_destination(value.model_dump())
    except rules.DestinationError as exc:
        raise ApiError("validation_error", f"Invalid request: payout_destination: {exc}") from None


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
    responses=error_responses(400, 401, 409, 413, 415, 422, 429),
)
def create_user(body: UserCreate, key: CurrentKey, idempotency_key: IdempotencyKey, conn: SessionDep) -> Response:
    """Register a user. Scouts get a unique referral code; payout destinations come back masked. The
    same Idempotency-Key and body return the first answer."""
    claim = claim_of(key, idempotency_key, {}, body)
    earlier = store.earlier_registration(conn, claim)
    if earlier is not None:
        return answer(UserOut, earlier, replayed=True)
    source = rules.referral_source(body.recruiter_id, body.referral_code, body.referral_source)
    recruiter_id = store.resolve_recruiter(conn, None, body.recruiter_id, body.referral_code)
    if body.payout_destination is not None and body.role == "buyer":
        raise ApiError("validation_error", "Invalid request: payout_destination: buyers are not paid out.")
    values = {
        "role": body.role,
        "name": body.name,
        "email": body.email,
        "phone": body.phone,
        "recruiter_id": recruiter_id,
        "referral_source": source,
        "payout_destination": destination(body.payout_destination),
    }
    first, replayed = store.register(conn, values, dt.datetime.now(dt.UTC), claim)
    return answer(UserOut, first, replayed)


@router.get("/users/{user_id}", response_model=UserOut, responses=error_responses(401, 404, 422, 429))
def get_user(user_id: PathId, _key: CurrentKey, conn: SessionDep) -> UserOut:
    """The user as registered and fixed since, its payout destination masked."""
    row = store.get_user(conn, user_id)
    if row is None:
        raise ApiError("user_not_found")
    return user_out(row)


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    responses=error_responses(400, 401, 404, 413, 415, 422, 429),
)
def update_user(user_id: PathId, body: UserUpdate, request: Request, key: CurrentKey, conn: SessionDep) -> UserOut:
    """Change the given fields only (JSON merge patch): `name`, `phone` (null clears it), `payout_destination`
    (null removes it; buyers have none). Each change is written to `audit_log`, destinations masked; a new
    destination applies to payouts created after it."""
    if not body.model_fields_set:
        raise ApiError("validation_error", "Invalid request: give name, phone or payout_destination.")
    changes: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set}
    if "payout_destination" in changes:
        changes["payout_destination"] = destination(body.payout_destination)
    row = store.update_profile(conn, user_id, changes, actor=key.name, request_id=request_id_of(request))
    if row is None:
        raise ApiError("user_not_found")
    return user_out(row)
