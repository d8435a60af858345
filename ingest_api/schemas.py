"""Request and response bodies. Requests are strict (no type coercion) and refuse unknown fields."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain import text
from domain.users import ACCOUNT_NAME_PATTERN, IFSC_PATTERN, REFERRAL_CODE_PATTERN, VPA_PATTERN

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=text.IDENTIFIER)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=text.NAME)]
Email = Annotated[str, StringConstraints(min_length=3, max_length=254, pattern=text.EMAIL)]
Phone = Annotated[str, StringConstraints(min_length=10, max_length=16, pattern=text.PHONE)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=text.FREE_TEXT)]
ReferralCode = Annotated[str, StringConstraints(pattern=REFERRAL_CODE_PATTERN.pattern)]
Paise = Annotated[int, Field(ge=1, le=2**63 - 1)]
OrderStatus = Literal[
    "created", "paid", "payment_failed", "delivered", "settled", "partially_refunded", "refunded", "cancelled"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class VpaDestination(Strict):
    vpa: Annotated[str, StringConstraints(max_length=164, pattern=VPA_PATTERN.pattern)]


class BankDestination(Strict):
    account_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{9,18}$")]
    ifsc: Annotated[str, StringConstraints(pattern=IFSC_PATTERN.pattern)]
    account_name: Annotated[str, StringConstraints(max_length=120, pattern=ACCOUNT_NAME_PATTERN.pattern)]


class UserCreate(Strict):
    role: Literal["buyer", "seller", "scout"]
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


class OrderCreate(Strict):
    buyer_id: Identifier
    seller_id: Identifier
    listing_id: Identifier
    amount_paise: Paise
    currency: Literal["INR"]
    title: Title | None = None


class OrderCreated(BaseModel):
    order_id: str
    status: Literal["created"]
    buyer_id: str
    seller_id: str
    listing_id: str
    title: str | None
    amount_paise: int
    currency: str
    created_at: dt.datetime


class OrderOut(BaseModel):
    order_id: str
    status: OrderStatus
    buyer_id: str
    seller_id: str
    listing_id: str
    title: str | None
    amount_paise: int
    currency: str
    gateway_order_id: str | None
    gateway_transaction_id: str | None
    payment_mode: str | None
    paid_at: dt.datetime | None
    delivered_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    payment_failed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class OrderEvent(Strict):
    event: Literal["delivered", "cancelled"]


class WebhookAck(BaseModel):
    status: Literal["accepted", "duplicate", "anomaly"]
    reason: str
    webhook_event_id: int
