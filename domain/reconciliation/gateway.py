"""The settlement-report and bank-statement ports: what the gateway says it settled to our bank for
one day, and what the bank says it actually received.

`gateways.phonepe` downloads and parses the report; rows are paise exact. `gateways.razorpayx` reads
the credits of our current account, so a batch (UTR) is posted at the amount the bank received.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """One line of the gateway's settlement report; `line` is its 1-based line in the file (header = 1)."""

    line: int
    payment_type: str
    merchant_reference_id: str
    phonepe_reference_id: str
    payer: str
    instrument: str
    created_at: dt.datetime
    amount_paise: int
    fee_paise: int
    transaction_at: dt.datetime
    settlement_date: dt.date
    bank_reference_no: str
    igst_paise: int
    cgst_paise: int
    sgst_paise: int

    @property
    def settled_paise(self) -> int:
        """What this row adds to (or, for a refund, takes from) the bank transfer."""
        return self.amount_paise + self.fee_paise + self.igst_paise + self.cgst_paise + self.sgst_paise

    @property
    def tax_paise(self) -> int:
        return self.igst_paise + self.cgst_paise + self.sgst_paise


@dataclass(frozen=True, slots=True)
class SettlementReport:
    rows: tuple[SettlementRow, ...]
    report_date: dt.date | None = None

    @property
    def settled_paise(self) -> int:
        return sum(row.settled_paise for row in self.rows)


class SettlementReportGateway(Protocol):
    def download_settlement_report(self, report_date: dt.date) -> bytes:
        """The raw file, for callers that keep what they received."""
        ...

    def settlement_report(self, report_date: dt.date) -> SettlementReport: ...

    def parse_settlement_report(self, content: bytes, report_date: dt.date) -> SettlementReport:
        """Parse a file whole or refuse it whole, with its line numbers. The import asks only for a file
        its SQL refuses, to word the refusal, or one COPY may read otherwise, for its rows."""
        ...


@dataclass(frozen=True, slots=True)
class BankCredit:
    """One credit to our bank account; `utr` is the bank reference that names the settlement batch."""

    utr: str
    value_date: dt.date
    amount_paise: int
    transaction_id: str


class BankStatementGateway(Protocol):
    def bank_credits(self, value_date: dt.date) -> tuple[BankCredit, ...]:
        """Every credit that arrived on `value_date` (IST), read in full or refused."""
        ...
