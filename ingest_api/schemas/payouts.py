"""Payouts: scout withdrawal requests, payee balances, and finance's payout list and actions."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from ingest_api.schemas.common import Paise, Strict

PayoutStatus = Literal["pending", "processing", "completed", "failed", "cancelled", "reversed"]
PayeeType = Literal["seller", "scout"]
HeldBackReason = Literal[
    "on_hold",
    "payee_suspended",
    "payee_closed",
    "no_payout_destination",
    "negative_balance",
    "below_minimum",
    "awaiting_gateway_settlement",
    "insufficient_balance",
]


class WithdrawalRequest(Strict):
    amount_paise: Paise = Field(
        description="At least the minimum payout of the fee schedule in effect (`payout_below_minimum`), at most "
        "the available balance (`insufficient_balance`): both depend on the day and the scout, so the schema "
        "bounds only the integer."
    )


class WithdrawalOut(BaseModel):
    scout_payout_request_id: str
    scout_id: str
    amount_paise: int
    status: str
    created_at: dt.datetime


class BalanceOut(BaseModel):
    payee_id: str
    available_paise: int = Field(description="Settled earnings and bounties less clawbacks, not in a live payout.")
    held_paise: int = Field(description="Captured but still inside the hold period.")
    in_flight_paise: int = Field(description="Payouts created or submitted, not yet finished.")
    paid_paise: int = Field(description="Completed payouts.")
    requested_paise: int = Field(description="Scout withdrawal requests waiting for the next batch.")
    on_hold: bool


class PayoutOut(BaseModel):
    payout_id: str
    payee_type: str
    payee_id: str
    amount_paise: int
    status: str
    batch_date: dt.date
    attempt_count: int
    next_attempt_at: dt.datetime
    gateway_payout_id: str | None
    utr: str | None
    failure_reason: str | None
    retry_of_payout_id: str | None
    created_at: dt.datetime
    processed_at: dt.datetime | None
    failed_at: dt.datetime | None


class PayoutPage(BaseModel):
    items: list[PayoutOut]
    next_cursor: str | None


class PayoutActionOut(BaseModel):
    payout_id: str
    result: str
    payout: PayoutOut


class CancelRequest(Strict):
    reason: str = Field(default="cancelled by finance", min_length=1, max_length=300)


class HeldBackPayee(BaseModel):
    payee_type: PayeeType
    payee_id: str
    name: str
    available_paise: int = Field(description="Open payee items: settled earnings and bounties less clawbacks.")
    requested_paise: int = Field(description="A scout's withdrawal requests waiting for a batch.")
    reasons: list[HeldBackReason] = Field(
        description="Every reason the next batch leaves it unpaid, most pressing first."
    )
    hold_reason: str | None = Field(description="Why finance put the payee on hold (`on_hold`).")
    due: bool = Field(
        description="The batch would pay it now but for the reasons (a seller at the minimum, a scout with a "
        "request); false: it also waits for more money or a request."
    )


class HeldBackPage(BaseModel):
    items: list[HeldBackPayee]
    next_cursor: str | None
