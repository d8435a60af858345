"""The sandbox's knobs: fault injection per endpoint and behaviour (fees, webhooks, report anomalies).

Both are plain pydantic models so they can come from a JSON file (`settle sandbox --config`) or the
admin API, and every random choice they drive is taken from a generator seeded with `seed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Endpoint = Literal[
    "oauth",
    "order_status",
    "refund_create",
    "refund_status",
    "settlement_report",
    "payout_create",
    "payout_fetch",
    "payout_list",
    "account_statement",
]
PayoutOutcome = Literal["processed", "failed", "reversed", "processing"]
RefundOutcome = Literal["COMPLETED", "FAILED", "PENDING"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FaultSpec(_Strict):
    """Faults of one endpoint. One draw per call picks at most one of the rate-driven faults."""

    latency_ms: int = Field(default=0, ge=0, le=60_000, description="Added before every call.")
    error_rate: float = Field(default=0.0, ge=0, le=1, description="Answer `error_status` without acting.")
    error_status: int = Field(default=503, ge=400, le=599)
    rate_limit_rate: float = Field(default=0.0, ge=0, le=1, description="Answer 429 with Retry-After.")
    retry_after_s: int = Field(default=1, ge=0, le=3600)
    timeout_rate: float = Field(default=0.0, ge=0, le=1, description="Act, then answer after `timeout_ms`.")
    timeout_ms: int = Field(default=5_000, ge=0, le=120_000)
    drop_response_rate: float = Field(default=0.0, ge=0, le=1, description="Act, then reset the connection.")
    limit: int | None = Field(default=None, ge=0, description="Inject into at most this many calls.")

    @model_validator(mode="after")
    def _rates_partition(self) -> FaultSpec:
        if self.error_rate + self.rate_limit_rate + self.timeout_rate + self.drop_response_rate > 1:
            raise ValueError("the fault rates of one endpoint must add up to at most 1")
        return self


class FaultConfig(_Strict):
    seed: int = 0
    endpoints: dict[Endpoint, FaultSpec] = Field(default_factory=dict)


class ReportAnomalies(_Strict):
    """Deliberate differences between the settlement report and the truth, for reconciliation."""

    missing: list[str] = Field(default_factory=list, description="Reference ids left out.")
    duplicate: list[str] = Field(default_factory=list, description="Reference ids listed twice.")
    amount_diff: dict[str, int] = Field(default_factory=dict, description="Paise added to a row's Amount.")
    fee_diff: dict[str, int] = Field(default_factory=dict, description="Paise more fee charged on a payment row.")
    late: list[str] = Field(default_factory=list, description="Reference ids listed in the next day's report.")
    transfer_diff: dict[str, int] = Field(
        default_factory=dict, description="Report day (YYYY-MM-DD) -> paise added to that day's bank credit."
    )
    unknown_count: int = Field(default=0, ge=0, le=10_000, description="Rows for transactions never made.")
    missing_rate: float = Field(default=0.0, ge=0, le=1)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    amount_diff_rate: float = Field(default=0.0, ge=0, le=1)
    amount_diff_paise: int = 100
    fee_diff_rate: float = Field(default=0.0, ge=0, le=1)
    fee_diff_paise: int = Field(default=100, ge=1)
    late_rate: float = Field(default=0.0, ge=0, le=1)


class SandboxConfig(_Strict):
    phonepe_webhook_url: str | None = None
    razorpayx_webhook_url: str | None = None
    seed: int = 0
    fee_bps: int = Field(default=150, ge=0, le=10_000, description="Gateway fee on each payment.")
    gst_bps: int = Field(default=1800, ge=0, le=10_000, description="GST on the fee.")
    gst_split: Literal["IGST", "CGST_SGST"] = "IGST"
    settlement_lag_days: int = Field(default=1, ge=0, le=30)
    payout_processing_ms: int = Field(default=0, ge=0, le=3_600_000)
    refund_processing_ms: int = Field(default=0, ge=0, le=3_600_000)
    webhook_delay_ms: int = Field(default=0, ge=0, le=3_600_000)
    webhook_duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    webhook_out_of_order: bool = False
    webhook_max_attempts: int = Field(default=3, ge=1, le=20)
    webhook_retry_ms: int = Field(default=200, ge=0, le=3_600_000)
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=60)
    report_anomalies: ReportAnomalies = Field(default_factory=ReportAnomalies)
    payout_outcomes: dict[str, PayoutOutcome] = Field(default_factory=dict, description="By reference_id.")
    refund_outcomes: dict[str, RefundOutcome] = Field(default_factory=dict, description="By merchantRefundId.")


ConfigSource = Callable[[], SandboxConfig]
"""Gives the sandbox's config as it is now: the admin API replaces it while the sandbox runs."""
