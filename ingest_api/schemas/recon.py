"""Reconciliation breaks as finance sees them, and the resolve request."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ingest_api.schemas.common import Strict
from ingest_api.schemas.refunds import Note

ReconClass = Literal[
    "amount_mismatch",
    "fee_mismatch",
    "refund_mismatch",
    "missing_in_report",
    "missing_in_books",
    "duplicate",
    "paid_after_cancellation",
    "batch_total_mismatch",
]
"""`domain.reconciliation.rules.BREAK_CLASSES`; a test keeps the two equal."""
ReconStatus = Literal["open", "resolved", "written_off"]
ReconAction = Literal["accept_gateway", "gateway_corrected", "refund_issued", "write_off"]
"""The keys of `domain.reconciliation.rules.RESOLUTIONS`."""


class ReconExceptionOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    exception_id: str = Field(description="Stable across re-runs and report versions of the day.")
    report_date: dt.date
    klass: ReconClass = Field(alias="class")
    payment_type: Literal["PAYMENT", "REFUND"]
    reference_id: str = Field(description="Our order or refund id (the report's MerchantReferenceId).")
    report_id: int
    line: int | None = Field(description="The report line, when the break has one.")
    expected_paise: int
    reported_paise: int
    difference_paise: int = Field(description="reported_paise - expected_paise.")
    age_days: int = Field(description="Whole days since the break was first seen.")
    status: ReconStatus
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    resolution: str | None = Field(
        description="The action, or `cleared` when a later reconciliation no longer found it."
    )
    resolution_reason: str | None
    resolved_by: str | None
    approved_by: str | None
    resolved_at: dt.datetime | None
    entry_id: int | None = Field(description="The ledger entry of a resolution that moved money.")


class ReconExceptionPage(BaseModel):
    items: list[ReconExceptionOut]
    next_cursor: str | None


class ReconResolve(Strict):
    action: ReconAction
    reason: Note = Field(description="Why; kept on the exception and in the audit log.")
