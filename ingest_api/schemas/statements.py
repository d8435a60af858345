"""Payee statements: the JSON body of `GET /v1/payees/{id}/statement` (`domain.statements.render.document`)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from domain.statements.rules import LineKind

StatementFormat = Literal["json", "csv", "html"]


class StatementPayoutItemOut(BaseModel):
    payee_item_id: int
    item_key: str = Field(description="`settlement:<day>:<seller>`, `bounty:<recruit>` or `refund:<refund_id>`.")
    item_type: str
    item_date: dt.date
    amount_paise: int = Field(description="What the payout covers of the item (negative for a clawback).")
    refund_id: str | None
    bounty_id: int | None


class StatementLineOut(BaseModel):
    line_no: int
    entry_date: dt.date = Field(description="The IST day of the ledger entry.")
    kind: LineKind
    entry_id: int = Field(description="The ledger entry the line is part of.")
    entry_key: str = Field(description="That entry's idempotency key, e.g. `capture:<day>:<seller>`.")
    amount_paise: int = Field(description="Positive adds to what the payee is owed, negative takes from it.")
    balance_paise: int = Field(description="What the payee is owed after the line.")
    order_id: str | None
    refund_id: str | None
    payout_id: str | None
    bounty_id: int | None
    recruit_id: str | None
    gross_paise: int | None
    platform_fee_paise: int | None
    gateway_fee_paise: int | None
    refund_paise: int | None = Field(description="What the buyer got back.")
    platform_fee_reversed_paise: int | None
    payout_status: str | None = Field(description="The payout's status when the statement was made.")
    utr: str | None
    retry_of_payout_id: str | None
    items: list[StatementPayoutItemOut] = Field(description="The payee items a payout covers.")


class StatementKindTotalOut(BaseModel):
    kind: LineKind
    lines: int
    amount_paise: int


class StatementTotalsOut(BaseModel):
    by_kind: list[StatementKindTotalOut] = Field(description="Every kind, with zero lines where there are none.")
    gross_paise: int
    platform_fee_paise: int
    gateway_fee_paise: int
    refund_paise: int
    platform_fee_reversed_paise: int
    movement_paise: int = Field(description="The sum of the lines: closing_paise - opening_paise.")


class StatementOut(BaseModel):
    payee_id: str
    payee_type: Literal["seller", "scout"]
    payee_name: str
    account_id: str = Field(description="The payee's payable account in the ledger.")
    from_date: dt.date
    to_date: dt.date
    generated_at: dt.datetime
    opening_paise: int = Field(description="What the payee was owed when `from_date` began (IST).")
    closing_paise: int = Field(
        description="What the payee was owed when `to_date` ended (IST): the ledger's balance then."
    )
    totals: StatementTotalsOut
    lines: list[StatementLineOut]
