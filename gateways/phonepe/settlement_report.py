"""PhonePe's daily settlement report (CSV): parsed whole or refused whole, with line numbers.

Amounts are rupees with at most two decimals, converted to paise exactly through Decimal.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from domain.money import MoneyError, rupees_to_paise
from domain.platform.clock import IST
from domain.platform.gateway_errors import FinalError
from domain.reconciliation.gateway import SettlementReport, SettlementRow

REPORT_COLUMNS = (
    "PaymentType",
    "MerchantReferenceId",
    "PhonePeReferenceId",
    "From",
    "Instrument",
    "CreationDate",
    "Amount",
    "Fee",
    "TransactionDate",
    "SettlementDate",
    "BankReferenceNo",
    "IGST",
    "CGST",
    "SGST",
)
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
_RUPEES = re.compile(r"-?\d{1,16}(\.\d{1,2})?")
MAX_REPORTED_ERRORS = 50


class SettlementReportError(FinalError):
    """The report is malformed; nothing from it may be loaded. `errors` lists (line, message)."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        shown = "; ".join(f"line {line}: {message}" for line, message in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"settlement report refused: {shown}{more}")
        self.errors = errors


def parse_settlement_report(data: bytes | str, *, report_date: dt.date | None = None) -> SettlementReport:
    """Parse the whole report or refuse the whole report.

    Amounts are rupees with at most two decimals, converted to paise through Decimal. Fee and taxes
    are zero or negative; a PAYMENT has a positive Amount and a non-negative settled amount
    (Amount + Fee + IGST + CGST + SGST), a REFUND a negative Amount. Times are IST.
    """
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[tuple[int, str]] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise SettlementReportError([(1, f"unreadable CSV: {exc}")]) from None
    if header is None:
        raise SettlementReportError([(1, "empty file: no header")])
    if tuple(name.strip() for name in header) != REPORT_COLUMNS:
        raise SettlementReportError([(1, f"header must be exactly {','.join(REPORT_COLUMNS)}")])
    rows: list[SettlementRow] = []
    line = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append((reader.line_num, f"unreadable CSV: {exc}"))
            break
        line += 1
        if not record or all(not cell.strip() for cell in record):
            errors.append((line, "empty row"))
        else:
            try:
                rows.append(_report_row(line, record))
            except ValueError as exc:
                errors.append((line, str(exc)))
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    if errors:
        raise SettlementReportError(errors)
    return SettlementReport(rows=tuple(rows), report_date=report_date)


def _report_row(line: int, record: list[str]) -> SettlementRow:
    if len(record) != len(REPORT_COLUMNS):
        raise ValueError(f"expected {len(REPORT_COLUMNS)} columns, found {len(record)}")
    cell = dict(zip(REPORT_COLUMNS, (value.strip() for value in record), strict=True))
    payment_type = cell["PaymentType"]
    if payment_type not in ("PAYMENT", "REFUND"):
        raise ValueError(f"PaymentType must be PAYMENT or REFUND, not {payment_type[:20]!r}")
    for name in ("MerchantReferenceId", "PhonePeReferenceId"):
        if not cell[name]:
            raise ValueError(f"{name} is empty")
    amounts = {name: _rupees(cell[name], name) for name in ("Amount", "Fee", "IGST", "CGST", "SGST")}
    for name in ("Fee", "IGST", "CGST", "SGST"):
        if amounts[name] > 0:
            raise ValueError(f"{name} must be zero or negative")
    row = SettlementRow(
        line=line,
        payment_type=payment_type,
        merchant_reference_id=cell["MerchantReferenceId"],
        phonepe_reference_id=cell["PhonePeReferenceId"],
        payer=cell["From"],
        instrument=cell["Instrument"],
        created_at=_datetime(cell["CreationDate"], "CreationDate"),
        amount_paise=amounts["Amount"],
        fee_paise=amounts["Fee"],
        transaction_at=_datetime(cell["TransactionDate"], "TransactionDate"),
        settlement_date=_date(cell["SettlementDate"], "SettlementDate"),
        bank_reference_no=cell["BankReferenceNo"],
        igst_paise=amounts["IGST"],
        cgst_paise=amounts["CGST"],
        sgst_paise=amounts["SGST"],
    )
    if payment_type == "PAYMENT":
        if row.amount_paise <= 0:
            raise ValueError("a PAYMENT must have a positive Amount")
        if row.settled_paise < 0:
            raise ValueError("fee and taxes exceed the Amount (Amount + Fee + IGST + CGST + SGST < 0)")
    elif row.amount_paise >= 0:
        raise ValueError("a REFUND must have a negative Amount")
    return row


def _rupees(text: str, name: str) -> int:
    if not _RUPEES.fullmatch(text):
        raise ValueError(f"{name} is not a rupee amount with at most two decimals: {text[:20]!r}")
    try:
        return rupees_to_paise(text)
    except MoneyError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _datetime(text: str, name: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, DATETIME_FORMAT).replace(tzinfo=IST)
    except ValueError:
        raise ValueError(f"{name} must be YYYY-MM-DD HH:MM:SS, not {text[:25]!r}") from None


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, DATE_FORMAT).replace(tzinfo=IST).date()
    except ValueError:
        raise ValueError(f"{name} must be YYYY-MM-DD, not {text[:25]!r}") from None
