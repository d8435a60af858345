"""The set-based import (COPY into staging, checked and converted in SQL) against the Python parser it
replaces: the same rows, paise exact, for every valid file, and the same refusal, word for word, with
nothing kept, for every malformed one."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from domain.reconciliation import workflow
from domain.reconciliation.gateway import SettlementReport
from gateways.phonepe.settlement_report import REPORT_COLUMNS, SettlementReportError, parse_settlement_report
from tests.scenarios.books import Books

DAY = dt.date(2026, 11, 25)
HEADER = ",".join(REPORT_COLUMNS)
PAYMENT = (
    "PAYMENT,ord_1,T2311261,98XXXXXX10,UPI,2026-11-25 10:00:00,1000.00,-15.00,"
    "2026-11-25 10:00:05,2026-11-26,UTR123,-2.70,0.00,0.00"
)
PAYMENT_CGST = (
    "PAYMENT,ord_2,T2311262,98XXXXXX11,CARD,2026-11-25 11:00:00,0.10,-0.01,"
    "2026-11-25 11:00:01,2026-11-26,UTR123,0,-0.00,-0.00"
)
PAYMENT_SPLIT_GST = (
    "PAYMENT,ord_3,T2311264,98XXXXXX12,UPI,2026-11-25 23:59:59,12345678901.5,-185.19,"
    "2026-11-25 23:59:59,2026-11-26,UTR123,0.00,-16.67,-16.66"
)
REFUND = (
    "REFUND,rfd_1,R2311263,98XXXXXX10,UPI,2026-11-25 00:00:00,-250.50,0.00,"
    "2026-11-25 12:30:00,2026-11-26,UTR123,0.00,0.00,0.00"
)
QUOTED = (
    'PAYMENT,"ord_4","T1","Buyer, Jr ""the 2nd""",UPI,2026-11-25 10:00:00,"1,0"'.replace('"1,0"', "1.00")
    + ',0.00,2026-11-25 10:00:00,2026-11-26,"U\nTR",0.00,0.00,0.00'
)
PADDED = (
    " PAYMENT\t, ord_5 ,\u00a0T5\u3000,,, 2026-11-25 10:00:00 , 7 ,-0.07 ,2026-11-25 10:00:00,"
    "\u20282026-11-26\u2029, ,\u0085-0.01\x0c,\x1c0\x1f,\u2000-0\u205f"
)


def _csv(*rows: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode()


class ParserGateway:
    """The port as PhonePe's client implements it, counting how often the import needs it."""

    def __init__(self) -> None:
        self.calls = 0

    def parse_settlement_report(self, content: bytes, report_date: dt.date) -> SettlementReport:
        self.calls += 1
        return parse_settlement_report(content, report_date=report_date)


def _import(books: Books, tmp_path: Path, content: bytes, gateway: ParserGateway) -> workflow.StoredReport:
    path = tmp_path / "report.csv"
    path.write_bytes(content)
    return workflow.import_report(books.engine, gateway, path, DAY, received_by="test")  # type: ignore[arg-type]


def _stored_rows(books: Books, report_id: int) -> list[dict[str, object]]:
    rows = books.rows("SELECT * FROM gateway_report_rows WHERE report_id = :r ORDER BY line", r=report_id)
    return [{k: v for k, v in row._mapping.items() if k != "report_id"} for row in rows]


def _parsed_rows(content: bytes) -> list[dict[str, object]]:
    return [
        {**dataclasses.asdict(row), "settled_paise": row.settled_paise}
        for row in parse_settlement_report(content, report_date=DAY).rows
    ]


VALID = {
    "plain": _csv(PAYMENT, PAYMENT_CGST, REFUND),
    "bom and crlf": b"\xef\xbb\xbf" + _csv(PAYMENT, REFUND, PAYMENT_SPLIT_GST, newline="\r\n"),
    "bare cr": _csv(PAYMENT, REFUND, newline="\r"),
    "cgst, sgst, refunds and duplicates": _csv(PAYMENT_SPLIT_GST, REFUND, REFUND, PAYMENT_CGST, PAYMENT_SPLIT_GST),
    "quoted cells, embedded commas, quotes and a newline": _csv(PAYMENT, QUOTED, REFUND),
    "a quoted header": _csv(PAYMENT, header=",".join(f'"{name}"' for name in REPORT_COLUMNS)),
    "every kind of whitespace around cells": _csv(PADDED, PAYMENT),
    "header only": _csv(),
    "no final newline": _csv(PAYMENT, REFUND).rstrip(b"\n"),
}


@pytest.mark.parametrize("content", VALID.values(), ids=VALID.keys())
def test_a_valid_file_is_stored_set_based_with_the_parsers_rows(books: Books, tmp_path: Path, content: bytes) -> None:
    gateway = ParserGateway()
    stored = _import(books, tmp_path, content, gateway)
    assert gateway.calls == 0
    expected = _parsed_rows(content)
    assert _stored_rows(books, stored.report_id) == expected
    assert (stored.rows, stored.settled_paise) == (len(expected), sum(row["settled_paise"] for row in expected))
    again = _import(books, tmp_path, content, gateway)
    assert (again.report_id, again.created, gateway.calls) == (stored.report_id, False, 0)


# Files COPY reads otherwise than Python's csv module: the parser's rows are stored.
COPY_DIFFERS = {
    "a quote inside an unquoted cell": _csv(PAYMENT.replace("98XXXXXX10", 'Buyer "Bob" B'), REFUND),
    "an end-of-data marker as a payer": _csv(PAYMENT.replace("98XXXXXX10", "\\."), REFUND),
    "mixed line ends": _csv(PAYMENT, REFUND).replace(b"\n", b"\r\n", 1),
    "unicode digits the parser accepts": _csv(PAYMENT.replace("1000.00", "\u0967000.00")),
}


@pytest.mark.parametrize("content", COPY_DIFFERS.values(), ids=COPY_DIFFERS.keys())
def test_a_file_copy_would_read_otherwise_is_stored_with_the_parsers_rows(
    books: Books, tmp_path: Path, content: bytes
) -> None:
    gateway = ParserGateway()
    stored = _import(books, tmp_path, content, gateway)
    assert gateway.calls == 1
    assert _stored_rows(books, stored.report_id) == _parsed_rows(content)


MALFORMED = {
    "amount with three decimals": _csv(PAYMENT, PAYMENT.replace("1000.00", "100.001"), "PAYMENT,x"),
    "exponent": _csv(PAYMENT, REFUND, PAYMENT.replace("1000.00", "1e3")),
    "NaN": _csv(PAYMENT.replace("1000.00", "NaN")),
    "embedded comma unquoted": _csv(PAYMENT.replace("1000.00", "1,000.00")),
    "empty amount": _csv(PAYMENT.replace("1000.00", "")),
    "17 digits": _csv(PAYMENT.replace("1000.00", "12345678901234567")),
    "positive fee": _csv(PAYMENT.replace("-15.00", "15.00")),
    "positive igst": _csv(PAYMENT.replace("-2.70", "2.70")),
    "positive sgst": _csv(PAYMENT_SPLIT_GST.replace("-16.66", "16.66")),
    "negative payment": _csv(PAYMENT.replace("1000.00", "-1000.00")),
    "fees exceed amount": _csv(PAYMENT.replace("1000.00", "10.00").replace("-15.00", "-10.00")),
    "positive refund": _csv(REFUND.replace("-250.50", "250.50")),
    "zero refund": _csv(REFUND.replace("-250.50", "-0.00")),
    "chargeback": _csv(PAYMENT.replace("PAYMENT", "CHARGEBACK")),
    "lower-case type": _csv(PAYMENT.replace("PAYMENT", "payment")),
    "empty reference": _csv(PAYMENT.replace("ord_1", "")),
    "blank phonepe reference": _csv(PAYMENT.replace("T2311261", "  ")),
    "other datetime format": _csv(PAYMENT.replace("2026-11-25 10:00:05", "25/11/2026 10:00")),
    "hour 24": _csv(PAYMENT.replace("2026-11-25 10:00:05", "2026-11-25 24:00:00")),
    "second 60": _csv(PAYMENT.replace("2026-11-25 10:00:05", "2026-11-25 10:00:60")),
    "february 30": _csv(PAYMENT.replace("2026-11-26", "2026-02-30")),
    "year 0": _csv(PAYMENT.replace("2026-11-26", "0000-11-26")),
    "datetime as settlement date": _csv(PAYMENT.replace("2026-11-26", "2026-11-26 00:00:00")),
    "extra column": _csv(PAYMENT + ",extra"),
    "empty row": _csv(PAYMENT, ",,,,,,,,,,,,,"),
    "blank line": _csv(PAYMENT, "", REFUND),
    "wrong header": _csv(PAYMENT, header=HEADER.replace("Amount", "Amt")),
    "header with an extra column": _csv(PAYMENT, header=HEADER + ",Extra"),
    "reversed header": _csv(PAYMENT, header=",".join(reversed(REPORT_COLUMNS))),
    "empty file": b"",
    "broken quoting": _csv(PAYMENT, 'PAYMENT,"ord_9,T1'),
    "text after a closing quote": _csv(PAYMENT.replace("ord_1", '"ord"_1')),
    "many bad rows": _csv(*[PAYMENT.replace("1000.00", "x")] * 60),
}


@pytest.mark.parametrize("content", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_file_gets_the_parsers_refusal_and_nothing_is_kept(
    books: Books, tmp_path: Path, content: bytes
) -> None:
    with pytest.raises(SettlementReportError) as expected:
        parse_settlement_report(content, report_date=DAY)
    before = books.snapshot()
    with pytest.raises(SettlementReportError) as refused:
        _import(books, tmp_path, content, ParserGateway())
    assert refused.value.errors == expected.value.errors
    assert str(refused.value) == str(expected.value)
    assert books.snapshot() == before


def test_a_different_file_for_the_day_is_its_next_version(books: Books, tmp_path: Path) -> None:
    gateway = ParserGateway()
    first = _import(books, tmp_path, _csv(PAYMENT, REFUND), gateway)
    second = _import(books, tmp_path, _csv(PAYMENT), gateway)
    assert (first.version, second.version, second.created, second.rows) == (1, 2, True, 1)
    totals = books.rows("SELECT version, row_count, settled_paise FROM gateway_reports ORDER BY version")
    assert [tuple(row) for row in totals] == [(1, 2, 98_230 - 25_050), (2, 1, 98_230)]
    assert gateway.calls == 0
