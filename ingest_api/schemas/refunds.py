"""Refunds: a client's request, the refund as shown, and finance's decisions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ingest_api import patterns
from ingest_api.schemas.common import SignedPaise, Strict

RefundReason = Literal[
    "customer_request",
    "item_not_received",
    "item_damaged",
    "item_not_as_described",
    "wrong_item",
    "duplicate_payment",
    "order_cancelled",
    "other",
]
RefundStatus = Literal["requested", "approved", "rejected", "submitted", "completed", "failed"]
RefundKind = Literal["order", "stray"]
Note = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=patterns.FREE_TEXT)]


class RefundCreate(Strict):
    amount_paise: SignedPaise = Field(description="Positive paise, at least REFUND_MIN_PAISE, at most refundable.")
    reason: RefundReason
    note: Note | None = None


class RefundOut(BaseModel):
    refund_id: str = Field(description="Also the PhonePe merchantRefundId.")
    order_id: str
    kind: RefundKind = Field(description="`stray`: a payment that arrived for a cancelled or failed order.")
    amount_paise: int
    reason: str
    note: str | None
    status: RefundStatus
    approval_reasons: list[str] = Field(
        description="Why finance must approve: above_threshold, order_settled, order_paid_out, seller_in_clawback."
    )
    requested_by: str
    decided_by: str | None
    decision_note: str | None
    retry_of_refund_id: str | None
    gateway_refund_id: str | None
    gateway_state: str | None
    failure_reason: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None
    submitted_at: dt.datetime | None
    completed_at: dt.datetime | None
    failed_at: dt.datetime | None


class RefundList(BaseModel):
    items: list[RefundOut]


class RefundPage(BaseModel):
    items: list[RefundOut]
    next_cursor: str | None


class RefundDecision(Strict):
    reason: Note = Field(description="Why finance decided so; kept in the audit log and on the refund.")


class RefundApproval(Strict):
    reason: Note | None = None
