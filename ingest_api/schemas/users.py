"""Users: registration, recruiter changes and how a user is shown (payout destinations masked)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from domain.users.rules import ACCOUNT_NAME_PATTERN, IFSC_PATTERN, REFERRAL_CODE_PATTERN, VPA_PATTERN
from ingest_api.schemas.common import Email, Identifier, Name, Phone, Strict

ReferralCode = Annotated[str, StringConstraints(pattern=REFERRAL_CODE_PATTERN.pattern)]
UserRole = Literal["buyer", "seller", "scout"]


class VpaDestination(Strict):
    vpa: Annotated[str, StringConstraints(max_length=164, pattern=VPA_PATTERN.pattern)]


class BankDestination(Strict):
    account_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{9,18}$")]
    ifsc: Annotated[str, StringConstraints(pattern=IFSC_PATTERN.pattern)]
    account_name: Annotated[str, StringConstraints(max_length=120, pattern=ACCOUNT_NAME_PATTERN.pattern)]


class UserCreate(Strict):
    role: UserRole
    name: Name
    email: Email
    phone: Phone | None = None
    recruiter_id: Identifier | None = None
    referral_code: ReferralCode | None = None
    referral_source: Literal["link", "code", "none"] | None = None
    payout_destination: VpaDestination | BankDestination | None = None


class RecruiterChange(Strict):
    """Exactly one of the two; `recruiter_id: null` clears the recruiter."""

    recruiter_id: Identifier | None = None
    referral_code: ReferralCode | None = None


class MaskedDestination(BaseModel):
    type: Literal["vpa", "bank_account"]
    vpa: str | None = None
    account_number: str | None = None
    ifsc: str | None = None
    account_name: str | None = None


class UserOut(BaseModel):
    user_id: str
    role: str
    status: str
    name: str
    email: str
    phone: str | None
    referral_code: str | None
    recruiter_id: str | None
    referral_source: str
    payout_destination: MaskedDestination | None
    created_at: dt.datetime
    updated_at: dt.datetime
