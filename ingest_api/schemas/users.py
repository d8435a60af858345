"""Users: registration, profile fixes, status and recruiter changes, and how a user is shown (payout
destinations masked)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag

from domain.users.rules import ACCOUNT_NAME_PATTERN, IFSC_PATTERN, REFERRAL_CODE_PATTERN, VPA_PATTERN
from ingest_api import patterns
from ingest_api.schemas.common import Email, Identifier, Name, Phone, Strict

ReferralCode = Annotated[str, StringConstraints(pattern=REFERRAL_CODE_PATTERN.pattern)]
UserRole = Literal["buyer", "seller", "scout"]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=patterns.FREE_TEXT)]


class VpaDestination(Strict):
    vpa: Annotated[str, StringConstraints(max_length=164, pattern=VPA_PATTERN.pattern)]


class BankDestination(Strict):
    account_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{9,18}$")]
    ifsc: Annotated[str, StringConstraints(pattern=IFSC_PATTERN.pattern)]
    account_name: Annotated[str, StringConstraints(max_length=120, pattern=ACCOUNT_NAME_PATTERN.pattern)]


def _destination_kind(value: object) -> str | None:
    """The tag of a destination: from its keys when validating a body, from its class when serialising."""
    if isinstance(value, VpaDestination | BankDestination):
        return "vpa" if isinstance(value, VpaDestination) else "bank_account"
    if not isinstance(value, dict):
        return None
    return "vpa" if "vpa" in value else "bank_account"


PayoutDestination = Annotated[
    Annotated[VpaDestination, Tag("vpa")] | Annotated[BankDestination, Tag("bank_account")],
    Discriminator(
        _destination_kind,
        custom_error_type="payout_destination",
        custom_error_message="give either vpa, or account_number, ifsc and account_name",
    ),
]
"""Tagged so that a validation error names the kind of destination (`payout_destination.vpa.vpa`), not the
model class, which a plain union puts in the error's location."""


class UserCreate(Strict):
    # Buyers are not paid out: said in the schema too, so a request it allows is never refused for it.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"role": {"const": "buyer"}}},
            "then": {"properties": {"payout_destination": {"type": "null"}}},
        }
    )

    role: UserRole
    name: Name
    email: Email
    phone: Phone | None = None
    recruiter_id: Identifier | None = None
    referral_code: ReferralCode | None = None
    referral_source: Literal["link", "code", "none"] | None = None
    payout_destination: PayoutDestination | None = None


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class UserUpdate(Strict):
    """A JSON merge patch: the fields given change, the others stay; `null` clears the phone or removes
    the payout destination. A name cannot be cleared."""

    # At least one field in the published schema too, so a client or a generator never sends `{}`,
    # which the route refuses. The name has no null and no default: omitted, it stays.
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    name: Name = Field(default=None, json_schema_extra=_no_default)  # type: ignore[assignment]
    phone: Phone | None = None
    payout_destination: PayoutDestination | None = Field(
        default=None,
        description="Where payouts created from now on are sent (each payout keeps the one it was created "
        "with); null removes it. Buyers have none: `payout_destination_not_allowed`.",
    )


class UserStatusChange(Strict):
    """Suspend (a reason is required) or reactivate a user."""

    model_config = ConfigDict(
        json_schema_extra={"if": {"properties": {"status": {"const": "suspended"}}}, "then": {"required": ["reason"]}}
    )

    status: Literal["active", "suspended"]
    reason: Reason = Field(default=None, json_schema_extra=_no_default)  # type: ignore[assignment]


class RecruiterChange(Strict):
    """Exactly one of the two; `recruiter_id: null` clears the recruiter."""

    # "Exactly one" in the published schema too (unknown fields are refused anyway): a client or a
    # generator reading it then never sends `{}` or both fields, which the route refuses.
    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

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
