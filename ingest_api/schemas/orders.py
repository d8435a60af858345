"""Orders: creation, reads and fulfilment events."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from ingest_api.schemas.common import Identifier, Paise, Strict, Title

OrderStatus = Literal[
    "created", "paid", "payment_failed", "delivered", "settled", "partially_refunded", "refunded", "cancelled"
]


class OrderCreate(Strict):
    buyer_id: Identifier
    seller_id: Identifier
    listing_id: Identifier
    amount_paise: Paise = Field(
        description="Within the deployment's ORDER_MIN_PAISE and ORDER_MAX_PAISE (`amount_out_of_range`), which "
        "are configuration, so the schema bounds only the integer."
    )
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
