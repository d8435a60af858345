"""The RazorpayX account statement over real HTTP: the sandbox credits each PhonePe report day's
settled total under its UTR on D + lag, `transfer_diff` shifts it, the client reads every page and
refuses a malformed answer whole (the last two against a canned server, so the answers are exact)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from domain.money import bps_of
from domain.platform.clock import IST
from domain.platform.gateway_errors import FinalError
from domain.reconciliation.gateway import BankCredit, BankStatementGateway
from gateways.http import HttpOptions
from gateways.razorpayx.client import STATEMENT_PAGE_SIZE, RazorpayXClient
from tests.sandbox_fixtures import SandboxHandle

DAY = dt.date(2026, 11, 20)
ACCOUNT = "2323230000000000"


def _at(day: dt.date, hour: int) -> int:
    return int(dt.datetime.combine(day, dt.time(hour), tzinfo=IST).timestamp() * 1000)


def _settled(amount: int) -> int:
    """A payment's settled paise under the sandbox's default 150 bps fee and 18% IGST on it."""
    fee = bps_of(amount, 150)
    return amount - fee - bps_of(fee, 1800)


def _day(n: int) -> dt.date:
    """DAY + n days."""
    return DAY + dt.timedelta(days=n)


def test_the_client_is_a_bank_statement_gateway(sandbox: SandboxHandle) -> None:
    gateway: BankStatementGateway = sandbox.razorpayx
    assert gateway.bank_credits(DAY) == ()


def test_a_day_settles_as_one_credit_of_its_report_total(sandbox: SandboxHandle) -> None:
    sandbox.configure(settlement_lag_days=2)
    sandbox.pay("ord_c1", 100_001, paidAtMs=_at(DAY, 9))
    sandbox.pay("ord_c2", 50_000, paidAtMs=_at(DAY, 23))
    sandbox.pay("ord_next", 70_000, paidAtMs=_at(_day(1), 0))
    report = sandbox.phonepe.settlement_report(DAY)

    (credit,) = sandbox.razorpayx.bank_credits(_day(2))
    assert credit.amount_paise == report.settled_paise == _settled(100_001) + _settled(50_000)
    assert {row.bank_reference_no for row in report.rows} == {credit.utr}
    assert credit.value_date == _day(2)
    assert credit.transaction_id.startswith("txn_")

    (next_credit,) = sandbox.razorpayx.bank_credits(_day(3))
    assert next_credit.amount_paise == _settled(70_000)
    assert next_credit.utr == sandbox.phonepe.settlement_report(_day(1)).rows[0].bank_reference_no != credit.utr
    for quiet in (DAY, _day(1), _day(4)):
        assert sandbox.razorpayx.bank_credits(quiet) == ()
    assert sandbox.razorpayx.bank_credits(_day(2)) == (credit,)  # the same credit on every read


def test_the_credit_carries_the_reports_own_anomalies_and_refunds(sandbox: SandboxHandle) -> None:
    """Whatever the report lists, late rows, unknown rows, refunds, the bank received exactly that."""
    for n in range(5):
        sandbox.pay(f"ord_r{n}", 10_000 + n, paidAtMs=_at(DAY, 10 + n))
    sandbox.pay("ord_refunded", 40_000, paidAtMs=_at(DAY, 8))
    sandbox.phonepe.create_refund("rfd_r", "ord_refunded", 5_000)  # completes today
    sandbox.pay("ord_today", 100_000)
    sandbox.flush()
    sandbox.configure(
        gst_split="CGST_SGST",
        report_anomalies={"late": ["ord_r1"], "missing": ["ord_r2"], "fee_diff": {"ord_r3": 9}, "unknown_count": 2},
    )
    for day in (DAY, _day(1)):
        report = sandbox.phonepe.settlement_report(day)
        (credit,) = sandbox.razorpayx.bank_credits(day + dt.timedelta(days=1))
        assert credit.amount_paise == report.settled_paise
        assert {row.bank_reference_no for row in report.rows} == {credit.utr}
    today = dt.datetime.now(IST).date()
    report = sandbox.phonepe.settlement_report(today)
    assert "rfd_r" in {row.merchant_reference_id for row in report.rows}
    (credit,) = sandbox.razorpayx.bank_credits(today + dt.timedelta(days=1))
    assert credit.amount_paise == report.settled_paise


def test_transfer_diff_shifts_that_days_credit_only(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_t1", 200_000, paidAtMs=_at(DAY, 12))
    sandbox.pay("ord_t2", 30_000, paidAtMs=_at(_day(1), 12))
    (before,) = sandbox.razorpayx.bank_credits(_day(1))
    (other_before,) = sandbox.razorpayx.bank_credits(_day(2))
    sandbox.configure(report_anomalies={"transfer_diff": {DAY.isoformat(): -123}})
    (after,) = sandbox.razorpayx.bank_credits(_day(1))
    assert after.amount_paise == before.amount_paise - 123 == sandbox.phonepe.settlement_report(DAY).settled_paise - 123
    assert (after.utr, after.transaction_id) == (before.utr, before.transaction_id)
    assert sandbox.razorpayx.bank_credits(_day(2)) == (other_before,)
    sandbox.configure(report_anomalies={"transfer_diff": {DAY.isoformat(): 4_567}})
    assert sandbox.razorpayx.bank_credits(_day(1))[0].amount_paise == before.amount_paise + 4_567


def _statement(sandbox: SandboxHandle, **params: Any) -> requests.Response:
    settings = sandbox.settings
    return requests.get(
        f"{sandbox.base_url}/razorpayx/v1/transactions",
        params={"account_number": settings.razorpayx_account_number, **params},
        auth=(settings.razorpayx_key_id, settings.razorpayx_key_secret.get_secret_value()),
        timeout=10,
    )


def test_the_sandbox_statement_pages_newest_first_with_a_running_balance(sandbox: SandboxHandle) -> None:
    for n in range(3):
        sandbox.pay(f"ord_p{n}", 10_000 * (n + 1), paidAtMs=_at(_day(n), 12))
    pages = [_statement(sandbox, count=2, skip=skip).json() for skip in (0, 2, 4)]
    assert [page["count"] for page in pages] == [2, 1, 0]
    items = [item for page in pages for item in page["items"]]
    assert [item["amount"] for item in items] == [_settled(30_000), _settled(20_000), _settled(10_000)]
    assert [item["balance"] for item in items] == [
        _settled(10_000) + _settled(20_000) + _settled(30_000),
        _settled(10_000) + _settled(20_000),
        _settled(10_000),
    ]
    first = items[-1]
    assert first["created_at"] == int(dt.datetime.combine(_day(1), dt.time(11), IST).timestamp())
    assert (first["entity"], first["credit"], first["debit"], first["currency"]) == (
        "transaction",
        10_000 - 150 - 27,
        0,
        "INR",
    )
    assert (first["source"]["entity"], first["source"]["mode"]) == ("bank_transfer", "NEFT")
    window = _statement(sandbox, **{"from": first["created_at"], "to": first["created_at"]}).json()
    assert [item["id"] for item in window["items"]] == [first["id"]]


def test_the_sandbox_statement_refuses_another_account_and_bad_keys(sandbox: SandboxHandle) -> None:
    wrong = _statement(sandbox, account_number="1111")
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "account_number"
    keys = requests.get(
        f"{sandbox.base_url}/razorpayx/v1/transactions", params={"account_number": ACCOUNT}, auth=("x", "y"), timeout=10
    )
    assert keys.status_code == 401


def test_a_failing_statement_read_is_retried(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_f", 10_000, paidAtMs=_at(DAY, 12))
    sandbox.set_faults({"account_statement": {"error_rate": 1.0, "limit": 2}})
    (credit,) = sandbox.razorpayx.bank_credits(_day(1))
    assert credit.amount_paise == _settled(10_000)


# -- the client against a canned statement ---------------------------------------------------------


def _credit(n: int, day: dt.date = DAY, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"txn_{n:014d}",
        "entity": "transaction",
        "account_number": ACCOUNT,
        "amount": 1_000 + n,
        "currency": "INR",
        "credit": 1_000 + n,
        "debit": 0,
        "balance": 50_000,
        "source": {"id": f"bt_{n:014d}", "entity": "bank_transfer", "mode": "NEFT", "bank_reference": f"UTR{n}"},
        "created_at": int(dt.datetime.combine(day, dt.time(11), IST).timestamp()),
    }
    item.update(changes)
    return item


def _debit(n: int) -> dict[str, Any]:
    payout = {"id": f"pout_{n:014d}", "entity": "payout", "amount": 700, "status": "processed"}
    return _credit(n, amount=700, credit=0, debit=700, source=payout)


class CannedStatement:
    """A RazorpayX stand-in answering `GET /v1/transactions` with `answer(skip)`; records each query."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        self.answer: Callable[[int], Any] = lambda skip: {"entity": "collection", "count": 0, "items": []}
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
                canned.queries.append(query)
                body = json.dumps(canned.answer(int(query.get("skip", "0")))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pages(self, *pages: list[dict[str, Any]]) -> None:
        by_skip = {n * STATEMENT_PAGE_SIZE: page for n, page in enumerate(pages)}
        self.answer = lambda skip: {"entity": "collection", "count": len(by_skip[skip]), "items": by_skip[skip]}


@pytest.fixture
def canned() -> Iterator[tuple[CannedStatement, RazorpayXClient]]:
    server = CannedStatement()
    client = RazorpayXClient(server.url, "key", "secret", ACCOUNT, options=HttpOptions(read_retries=0))
    yield server, client
    client.close()
    server.server.shutdown()
    server.server.server_close()


def test_every_page_is_read_and_only_bank_transfers_are_credits(
    canned: tuple[CannedStatement, RazorpayXClient],
) -> None:
    server, client = canned
    reversal = _credit(900, source={"id": "rvsl_1", "entity": "reversal", "amount": 900})
    first = [_credit(n) for n in range(STATEMENT_PAGE_SIZE - 2)] + [_debit(800), reversal]
    server.pages(first, [_credit(97), _credit(STATEMENT_PAGE_SIZE)])  # txn 97 seen again after a shift
    credits = client.bank_credits(DAY)
    assert [credit.transaction_id for credit in credits] == [f"txn_{n:014d}" for n in [*range(98), 100]]
    assert credits[0] == BankCredit("UTR0", DAY, 1_000, "txn_00000000000000")
    start = int(dt.datetime.combine(DAY, dt.time(), IST).timestamp())
    assert server.queries == [
        {"account_number": ACCOUNT, "from": str(start), "to": str(start + 86_399), "count": "100", "skip": str(skip)}
        for skip in (0, 100)
    ]


def test_a_full_last_page_is_followed_by_an_empty_one(canned: tuple[CannedStatement, RazorpayXClient]) -> None:
    server, client = canned
    server.pages([_credit(n) for n in range(STATEMENT_PAGE_SIZE)], [])
    assert len(client.bank_credits(DAY)) == STATEMENT_PAGE_SIZE
    assert [query["skip"] for query in server.queries] == ["0", "100"]


def _without(item: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name != key}


def _with_source(**changes: Any) -> dict[str, Any]:
    item = _credit(1)
    item["source"] = {**item["source"], **changes}
    return item


MALFORMED_ITEMS = {
    "not an object": "txn_1",
    "other entity": _credit(1, entity="payout"),
    "no id": _without(_credit(1), "id"),
    "other account": _credit(1, account_number="999"),
    "other currency": _credit(1, currency="USD"),
    "rupees, not paise": _credit(1, amount=10.01, credit=10.01),
    "amount as text": _credit(1, amount="1001", credit="1001"),
    "boolean debit": _credit(1, debit=False),
    "negative credit": _credit(1, amount=-5, credit=-5),
    "no balance": _without(_credit(1), "balance"),
    "credit and debit": _credit(1, debit=1_001),
    "credit not the amount": _credit(1, credit=1_000),
    "zero amount": _credit(1, amount=0, credit=0),
    "no source": _without(_credit(1), "source"),
    "no bank reference": _with_source(bank_reference=None),
    "empty bank reference": _with_source(bank_reference=""),
    "before the day": _credit(1, day=DAY - dt.timedelta(days=1)),
    "after the day": _credit(
        1, created_at=int(dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(), IST).timestamp())
    ),
    "time as text": _credit(1, created_at="1763616600"),
}


@pytest.mark.parametrize("item", MALFORMED_ITEMS.values(), ids=MALFORMED_ITEMS.keys())
def test_a_malformed_item_refuses_the_statement(canned: tuple[CannedStatement, RazorpayXClient], item: Any) -> None:
    server, client = canned
    server.pages([_credit(0), item])
    with pytest.raises(FinalError, match="malformed gateway response"):
        client.bank_credits(DAY)


MALFORMED_COLLECTIONS = {
    "a list": [_credit(0)],
    "other entity": {"entity": "transaction", "count": 1, "items": [_credit(0)]},
    "no items": {"entity": "collection", "count": 0},
    "items not a list": {"entity": "collection", "count": 1, "items": {"0": _credit(0)}},
    "count disagrees": {"entity": "collection", "count": 2, "items": [_credit(0)]},
    "more than asked": {
        "entity": "collection",
        "count": STATEMENT_PAGE_SIZE + 1,
        "items": [_credit(n) for n in range(STATEMENT_PAGE_SIZE + 1)],
    },
}


@pytest.mark.parametrize("body", MALFORMED_COLLECTIONS.values(), ids=MALFORMED_COLLECTIONS.keys())
def test_a_malformed_collection_is_refused(canned: tuple[CannedStatement, RazorpayXClient], body: Any) -> None:
    server, client = canned
    server.answer = lambda skip: body
    with pytest.raises(FinalError, match="malformed gateway response"):
        client.bank_credits(DAY)


def test_a_repeat_that_differs_is_refused(canned: tuple[CannedStatement, RazorpayXClient]) -> None:
    server, client = canned
    changed = copy.deepcopy(_credit(5))
    changed["source"]["bank_reference"] = "UTR_OTHER"
    server.pages([_credit(n) for n in range(STATEMENT_PAGE_SIZE)], [changed])
    with pytest.raises(FinalError, match="listed twice"):
        client.bank_credits(DAY)
