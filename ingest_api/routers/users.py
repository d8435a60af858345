"""`POST /v1/users`: register a buyer, seller or scout, with an optional recruiter."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from domain.users import rules, store
from ingest_api.deps import CurrentKey, SessionDep
from ingest_api.errors import ApiError, error_responses
from ingest_api.schemas.users import UserCreate, UserOut

router = APIRouter(prefix="/v1", tags=["users"])


def user_out(row: dict[str, Any]) -> UserOut:
    return UserOut.model_validate({**row, "payout_destination": rules.mask_destination(row["payout_destination"])})


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
    responses=error_responses(400, 401, 413, 415, 422, 429),
)
def create_user(body: UserCreate, _key: CurrentKey, conn: SessionDep) -> UserOut:
    """Register a user. Scouts get a unique referral code; payout destinations come back masked."""
    source = rules.referral_source(body.recruiter_id, body.referral_code, body.referral_source)
    recruiter_id = store.resolve_recruiter(conn, None, body.recruiter_id, body.referral_code)
    destination = None
    if body.payout_destination is not None:
        if body.role == "buyer":
            raise ApiError("validation_error", "Invalid request: payout_destination: buyers are not paid out.")
        try:
            destination = rules.normalise_destination(body.payout_destination.model_dump())
        except rules.DestinationError as exc:
            raise ApiError("validation_error", f"Invalid request: payout_destination: {exc}") from None
    row = store.register(
        conn,
        {
            "role": body.role,
            "name": body.name,
            "email": body.email,
            "phone": body.phone,
            "recruiter_id": recruiter_id,
            "referral_source": source,
            "payout_destination": destination,
        },
    )
    return user_out(row)
