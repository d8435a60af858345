"""The settlement report parser: exact paise from rupee strings, and whole-file refusal with line numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.platform.clock import IST
from gateways.phonepe.settlement_report import REPORT_COLUMNS, SettlementReportError, parse_settlement_report

HEADER = ",".join(REPORT_COLUMNS)
PAYMENT = (
    "PAYMENT,ord_1,T2311261,98XXXXXX10,UPI,2026-11-25 10:00:00,1000.00,-15.00,"
    "2026-11-25 10:00:05,2026-11-26,UTR123,-2.70,0.00,0.00"
)
PAYMENT_CGST = (
    "PAYMENT,ord_2,T2311262,98XXXXXX11,CARD,2026-11-25 11:00:00,0.10,-0.01,"
    "2026-11-25 11:00:01,2026-11-26,UTR123,0,-0.00,-0.00"
)
REFUND = (
    "REFUND,rfd_1,R2311263,98XXXXXX10,UPI,2026-11-25 12:00:00,-250.50,0.00,"
    "2026-11-25 12:30:00,2026-11-26,UTR123,0.00,0.00,0.00"
)


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_good_file_exact_paise() -> None:
    report = parse_settlement_report(_csv(PAYMENT, PAYMENT_CGST, REFUND), report_date=dt.date(2026, 11, 25))
    first, second, refund = report.rows
    assert (first.line, first.amount_paise, first.fee_paise, first.igst_paise) == (2, 100_000, -1500, -270)
    assert first.settled_paise == 98_230
    assert first.transaction_at == dt.datetime(2026, 11, 25, 10, 0, 5, tzinfo=IST)
    assert first.settlement_date == dt.date(2026, 11, 26)
    assert first.bank_reference_no == "UTR123"
    assert (second.amount_paise, second.fee_paise, second.settled_paise) == (10, -1, 9)
    assert (refund.payment_type, refund.amount_paise, refund.settled_paise) == ("REFUND", -25_050, -25_050)
    assert report.settled_paise == 98_230 + 9 - 25_050
    assert report.report_date == dt.date(2026, 11, 25)


def test_bom_crlf_and_quoted_cells_are_fine() -> None:
    data = b"\xef\xbb\xbf" + _csv(
        'PAYMENT,"ord_3",T1,"Buyer, Jr",UPI,2026-11-25 10:00:00,1.00,0.00,'
        "2026-11-25 10:00:00,2026-11-26,U,0.00,0.00,0.00"
    ).replace(b"\n", b"\r\n")
    (row,) = parse_settlement_report(data).rows
    assert (row.payer, row.amount_paise) == ("Buyer, Jr", 100)


def test_header_only_is_an_empty_report() -> None:
    assert parse_settlement_report(_csv()).rows == ()


def test_duplicates_are_kept_for_reconciliation_to_find() -> None:
    assert len(parse_settlement_report(_csv(PAYMENT, PAYMENT)).rows) == 2


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (PAYMENT.replace("1000.00", "1000.001"), "Amount is not a rupee amount"),
        (PAYMENT.replace("1000.00", "1e3"), "Amount is not a rupee amount"),
        (PAYMENT.replace("1000.00", "NaN"), "Amount is not a rupee amount"),
        (PAYMENT.replace("1000.00", "1,000.00"), "expected 14 columns"),
        (PAYMENT.replace("1000.00", ""), "Amount is not a rupee amount"),
        (PAYMENT.replace("-15.00", "15.00"), "Fee must be zero or negative"),
        (PAYMENT.replace("-2.70", "2.70"), "IGST must be zero or negative"),
        (PAYMENT.replace("1000.00", "-1000.00"), "a PAYMENT must have a positive Amount"),
        (PAYMENT.replace("1000.00", "10.00").replace("-15.00", "-10.00"), "fee and taxes exceed the Amount"),
        (REFUND.replace("-250.50", "250.50"), "a REFUND must have a negative Amount"),
        (PAYMENT.replace("PAYMENT", "CHARGEBACK"), "PaymentType must be PAYMENT or REFUND"),
        (PAYMENT.replace("ord_1", ""), "MerchantReferenceId is empty"),
        (PAYMENT.replace("2026-11-25 10:00:05", "25/11/2026 10:00"), "TransactionDate must be"),
        (PAYMENT.replace("2026-11-26", "2026-02-30"), "SettlementDate must be"),
        (PAYMENT + ",extra", "expected 14 columns"),
        (",,,,,,,,,,,,,", "empty row"),
    ],
)
def test_a_malformed_row_refuses_the_whole_file(bad_row: str, message: str) -> None:
    with pytest.raises(SettlementReportError) as caught:
        parse_settlement_report(_csv(PAYMENT, REFUND, bad_row, PAYMENT_CGST))
    assert caught.value.errors[0][0] == 4
    assert message in caught.value.errors[0][1]
    assert "line 4" in str(caught.value)


def test_every_bad_row_is_reported() -> None:
    with pytest.raises(SettlementReportError) as caught:
        parse_settlement_report(_csv(PAYMENT.replace("1000.00", "x"), PAYMENT, REFUND.replace("-250.50", "1")))
    assert [line for line, _ in caught.value.errors] == [2, 4]


@pytest.mark.parametrize(
    "header",
    [
        HEADER.replace("Amount", "Amt"),
        HEADER + ",Extra",
        ",".join(reversed(REPORT_COLUMNS)),
    ],
)
def test_wrong_header_is_refused(header: str) -> None:
    with pytest.raises(SettlementReportError) as caught:
        parse_settlement_report(_csv(PAYMENT, header=header))
    assert caught.value.errors[0][0] == 1


def test_empty_file_and_broken_quoting_are_refused() -> None:
    with pytest.raises(SettlementReportError):
        parse_settlement_report(b"")
    with pytest.raises(SettlementReportError) as caught:
        parse_settlement_report(_csv(PAYMENT, 'PAYMENT,"ord_9,T1'))
    assert "unreadable CSV" in caught.value.errors[0][1]
