"""Reconciliation rules: the classes every reported or expected item lands in (DESIGN.md §12), which
of them are breaks, how a break is named stably, and what resolving one may do.

An item is a report row, or an expected item of the day (a capture paid on it, a refund completed
on it) the report does not list, or both joined on (payment type, our reference). Its difference
is what the report says less what the day's books expect of it; a day's classes explain the report
total less the books' total exactly, to a residual of 0 paise.
"""

from __future__ import annotations

import hashlib
from typing import Final

from domain.money import bps_of
from domain.platform.errors import DomainError

PAYMENT_TYPES: Final = ("PAYMENT", "REFUND")
REPORT_SOURCES: Final = ("gateway", "file")

MATCHED: Final = "matched"
AMOUNT_MISMATCH: Final = "amount_mismatch"
FEE_MISMATCH: Final = "fee_mismatch"
REFUND_MISMATCH: Final = "refund_mismatch"
MISSING_IN_REPORT_PENDING: Final = "missing_in_report_pending"
MISSING_IN_REPORT: Final = "missing_in_report"
SETTLED_LATER: Final = "settled_later"
LATE_SETTLEMENT: Final = "late_settlement"
MISSING_IN_BOOKS: Final = "missing_in_books"
DUPLICATE: Final = "duplicate"
PAID_AFTER_CANCELLATION: Final = "paid_after_cancellation"
BATCH_TOTAL_MISMATCH: Final = "batch_total_mismatch"

CLASSES: Final = (
    MATCHED,
    AMOUNT_MISMATCH,
    FEE_MISMATCH,
    REFUND_MISMATCH,
    MISSING_IN_REPORT_PENDING,
    MISSING_IN_REPORT,
    SETTLED_LATER,
    LATE_SETTLEMENT,
    MISSING_IN_BOOKS,
    DUPLICATE,
    PAID_AFTER_CANCELLATION,
)
"""Item classes, in the order a statement lists them."""

BREAK_CLASSES: Final = (
    AMOUNT_MISMATCH,
    FEE_MISMATCH,
    REFUND_MISMATCH,
    MISSING_IN_REPORT,
    MISSING_IN_BOOKS,
    DUPLICATE,
    PAID_AFTER_CANCELLATION,
    BATCH_TOTAL_MISMATCH,
)
"""Classes that open an exception. Matched, pending, late and settled-later items are explained, not broken."""

EXCEPTION_STATUSES: Final = ("open", "resolved", "written_off")

RESOLUTIONS: Final[dict[str, str]] = {
    "accept_gateway": "The report is right: the difference is moved from recon_suspense to its account.",
    "gateway_corrected": "The gateway corrected it in a later report: nothing to post.",
    "refund_issued": "The money was returned to the payer (a stray payment refunded): nothing to post.",
    "write_off": "The difference is written off from recon_suspense to platform revenue.",
}
"""Actions finance may take on an open exception (`action` of the resolve request)."""
MONEY_RESOLUTIONS: Final = ("accept_gateway", "write_off")


class ReconError(DomainError):
    """A reconciliation request refused; nothing changed."""

    codes = frozenset({"recon_exception_not_found", "recon_exception_not_open", "recon_write_off_needs_approval"})


def expected_charges(amount_paise: int, gateway_fee_bps: int, gateway_gst_bps: int) -> tuple[int, int]:
    """The gateway's fee on a payment and the GST on that fee, as the fee schedule states them; the
    report shows both negative. One rounding function, as for every fee."""
    fee = bps_of(amount_paise, gateway_fee_bps)
    return fee, bps_of(fee, gateway_gst_bps)


def exception_id(report_date: str, klass: str, payment_type: str, reference_id: str, occurrence: int = 1) -> str:
    """The same break of the same day is the same exception on every re-run and report version."""
    digest = hashlib.sha256(f"{report_date}|{klass}|{payment_type}|{reference_id}|{occurrence}".encode()).hexdigest()
    return f"rex_{digest[:24]}"
